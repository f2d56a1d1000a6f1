// A render allocates millions of small strings, maps and template nodes; mimalloc serves
// them much faster than glibc's allocator (measured with `make bench`'s big-chart row).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    orch::cli::main()
}
