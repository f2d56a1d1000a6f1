//! The command line: clap definitions, and for each command a few lines calling the stages.

mod commands;
mod session;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "orch",
    version,
    about = "Deploy a whole system of Helm releases, in dependency order",
    long_about = "orch reads helmfile-style releases files (releases/ or helmfile.yaml), layers \
                  each release's values for the chosen environment, orders releases by their \
                  `needs`, and renders, diffs and syncs them.",
    after_help = "Examples:\n  orch template -e staging\n  orch list -l tier=apps -o json\n  orch graph -o mermaid"
)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Flags every command takes, before or after the command name.
#[derive(Args)]
pub struct GlobalArgs {
    /// Releases file, or directory of *.yaml / *.yaml.j2 files [default: releases/, else helmfile.yaml]
    #[arg(short = 'f', long = "file", global = true, value_name = "PATH")]
    file: Option<PathBuf>,
    /// Environment to use
    #[arg(
        short = 'e',
        long,
        global = true,
        env = "ORCH_ENVIRONMENT",
        default_value = "default"
    )]
    environment: String,
    /// Select releases by label: key=value,key2!=value2 (AND); repeat the flag for OR
    #[arg(short = 'l', long = "selector", global = true, value_name = "SELECTOR")]
    selectors: Vec<String>,
    /// Also act on the direct needs of the selected releases
    #[arg(long, global = true)]
    include_needs: bool,
    /// Also act on all needs of the selected releases, transitively
    #[arg(long, global = true, conflicts_with = "include_needs")]
    include_transitive_needs: bool,
    /// Succeed when the selector matches no release
    #[arg(long, global = true)]
    allow_no_matching_release: bool,
    /// Set a value for every selected release (Helm's --set syntax); overrides the files
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Values file merged into every selected release's values, over the releases file's
    #[arg(long = "values", global = true, value_name = "FILE")]
    values: Vec<PathBuf>,
    /// kubeconfig file [default: $KUBECONFIG, else ~/.kube/config]
    #[arg(long, global = true, value_name = "PATH")]
    kubeconfig: Option<PathBuf>,
    /// kubeconfig context [default: the environment's kubeContext, else the current one]
    #[arg(long = "kube-context", global = true, value_name = "NAME")]
    kube_context: Option<String>,
    /// What renders Helm charts: native (in-process) or helm (`helm template`); auto is
    /// native, or helm when --helm-binary names one
    #[arg(
        long,
        global = true,
        env = "ORCH_RENDERER",
        value_enum,
        default_value_t = RendererChoice::Auto
    )]
    renderer: RendererChoice,
    /// The helm binary that renders Helm charts with --renderer helm [default: helm]
    #[arg(long, global = true, env = "ORCH_HELM_BINARY", value_name = "PATH")]
    helm_binary: Option<PathBuf>,
    /// What builds Kustomize releases: kubectl (`kubectl kustomize`) or kustomize (`kustomize build`)
    #[arg(
        long,
        global = true,
        env = "ORCH_KUSTOMIZE_BINARY",
        default_value = "kubectl",
        value_name = "PATH"
    )]
    kustomize_binary: PathBuf,
    /// What decrypts helmfile `secrets` files (`sops --decrypt`)
    #[arg(
        long,
        global = true,
        env = "ORCH_SOPS_BINARY",
        default_value = "sops",
        value_name = "PATH"
    )]
    sops_binary: PathBuf,
    /// Use only charts and repository indexes already in the cache (`orch deps` fills it):
    /// no network
    #[arg(long, global = true)]
    skip_deps: bool,
    /// Releases worked on at once [default: 16]
    #[arg(long, global = true, default_value_t = 0, hide_default_value = true)]
    concurrency: usize,
    /// More detail on stderr (-v info, -vv debug)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Format of log lines on stderr
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

impl GlobalArgs {
    fn json_logs(&self) -> bool {
        matches!(self.log_format, LogFormat::Json)
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum RendererChoice {
    Auto,
    Native,
    Helm,
}

impl GlobalArgs {
    /// The renderer asked for: naming a helm binary is asking for helm, unless a renderer
    /// is chosen explicitly.
    fn renderer(&self) -> crate::render::RendererKind {
        use crate::render::RendererKind;
        match self.renderer {
            RendererChoice::Auto if self.helm_binary.is_some() => RendererKind::Helm,
            RendererChoice::Auto => RendererKind::Auto,
            RendererChoice::Native => RendererKind::Native,
            RendererChoice::Helm => RendererKind::Helm,
        }
    }

    fn fetch_options(&self) -> crate::fetch::FetchOptions {
        crate::fetch::FetchOptions {
            offline: self.skip_deps,
        }
    }

    fn helm_binary(&self) -> std::path::PathBuf {
        self.helm_binary.clone().unwrap_or_else(|| "helm".into())
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Render every selected release's manifests
    #[command(
        after_help = "Examples:\n  orch template -e staging\n  orch template -e prod -l name=server --output-dir out/"
    )]
    Template(commands::template::TemplateArgs),
    /// List the releases and what the releases files say of them
    #[command(after_help = "Examples:\n  orch list -e staging\n  orch list -l tier=infra -o json")]
    List(commands::list::ListArgs),
    /// Show the order releases run in, from their needs
    #[command(
        after_help = "Examples:\n  orch graph\n  orch graph -o dot | dot -Tsvg > graph.svg\n  orch graph -o mermaid"
    )]
    Graph(commands::graph::GraphArgs),
    /// Check the releases files and render every release, reporting every problem
    #[command(after_help = "Examples:\n  orch lint -e staging\n  orch lint -e prod -l tier=apps")]
    Lint,
    /// Show what a sync would change, against the live cluster
    #[command(
        after_help = "Examples:\n  orch diff -e staging\n  orch diff -e staging --detailed-exitcode -o json > review.json\n  orch diff -e staging -o markdown > comment.md\n  orch diff -e staging --summary"
    )]
    Diff(commands::diff::DiffArgs),
    /// Install, upgrade or uninstall the selected releases, needs first
    #[command(
        after_help = "Examples:\n  orch sync -e staging\n  orch sync -e staging -l name=server --include-transitive-needs"
    )]
    Sync(commands::sync::SyncArgs),
    /// Show the diff, then sync the releases that change
    #[command(after_help = "Examples:\n  orch apply -e staging")]
    Apply(commands::sync::SyncArgs),
    /// Each release's deployed revision, readiness and drift
    #[command(after_help = "Examples:\n  orch status -e staging\n  orch status -e prod -o json")]
    Status(commands::status::StatusArgs),
    /// A release's revisions, as `helm history` lists them
    #[command(
        after_help = "Examples:\n  orch history -e staging server\n  orch history -e prod backend/server -o json"
    )]
    History(commands::history::HistoryArgs),
    /// Put a release back to an earlier revision, as `helm rollback` does
    #[command(
        after_help = "Examples:\n  orch rollback -e staging server\n  orch rollback -e prod server 3 --wait"
    )]
    Rollback(commands::rollback::RollbackArgs),
    /// Run the selected releases' test hooks and print their logs, as `helm test` does
    #[command(
        after_help = "Examples:\n  orch test -e staging\n  orch test -e staging -l name=server"
    )]
    Test(commands::test::TestArgs),
    /// Uninstall the selected releases, dependents first
    #[command(after_help = "Examples:\n  orch destroy -e staging -l tier=apps")]
    Destroy(commands::destroy::DestroyArgs),
    /// Fetch the selected releases' charts and dependencies into the cache (for --skip-deps)
    #[command(after_help = "Examples:\n  orch deps -e prod\n  orch template -e prod --skip-deps")]
    Deps,
    /// Write the selected releases' charts, dependencies included, to a directory
    #[command(after_help = "Examples:\n  orch fetch -e staging --output-dir vendor/")]
    Fetch(commands::charts::FetchArgs),
    /// Print (or write) each release's merged values
    #[command(
        after_help = "Examples:\n  orch write-values -e staging -l name=server\n  orch write-values -e prod --output-dir values-out/"
    )]
    WriteValues(commands::write_values::WriteValuesArgs),
    /// Print each state file as read: releases after templates and inheritance, with the
    /// values it was rendered with (helmfile's `build`)
    #[command(
        after_help = "Examples:\n  orch build -e staging\n  orch build -e prod -l name=server"
    )]
    Build,
    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  orch completion bash > /etc/bash_completion.d/orch\n  orch completion zsh > \"${fpath[1]}/_orch\""
    )]
    Completion { shell: clap_complete::Shell },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.global);
    let global = &cli.global;
    let result = match cli.command {
        Command::Template(args) => commands::template::run(global, &args),
        Command::List(args) => commands::list::run(global, &args),
        Command::Graph(args) => commands::graph::run(global, &args),
        Command::Lint => commands::lint::run(global),
        Command::Diff(args) => commands::diff::run(global, &args),
        Command::Sync(args) => commands::sync::run(global, &args, false),
        Command::Apply(args) => commands::sync::run(global, &args, true),
        Command::Status(args) => commands::status::run(global, &args),
        Command::History(args) => commands::history::run(global, &args),
        Command::Rollback(args) => commands::rollback::run(global, &args),
        Command::Test(args) => commands::test::run(global, &args),
        Command::Destroy(args) => commands::destroy::run(global, &args),
        Command::Deps => commands::charts::deps(global),
        Command::Fetch(args) => commands::charts::fetch(global, &args),
        Command::WriteValues(args) => commands::write_values::run(global, &args),
        Command::Build => commands::build::run(global),
        Command::Completion { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "orch", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
    };
    result.unwrap_or_else(|err| {
        eprintln!("error: {err:#}");
        ExitCode::FAILURE
    })
}

fn init_logging(global: &GlobalArgs) {
    // JSON logs are for machines following a run, so they include progress (info).
    let level = match (global.quiet, global.verbose, global.json_logs()) {
        (true, _, _) => "error",
        (false, 0, false) => "warn",
        (false, 0, true) | (false, 1, _) => "info",
        (false, _, _) => "debug",
    };
    // Up to -v only orch speaks: the kube client logs the same failures orch reports, in
    // its own words. -vv shows everything.
    let directives = if level == "debug" {
        level.to_string()
    } else {
        format!("off,orch={level}")
    };
    let filter = EnvFilter::try_from_env("ORCH_LOG").unwrap_or_else(|_| EnvFilter::new(directives));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match global.log_format {
        LogFormat::Text => builder.without_time().init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}
