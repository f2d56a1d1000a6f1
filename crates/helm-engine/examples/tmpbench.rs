fn main() {
    let text = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let t = std::time::Instant::now();
    for _ in 0..20 {
        let h = helm_engine::yaml_to_json(&text).unwrap();
        std::hint::black_box(h);
    }
    println!(
        "whole {:?} MB/s {}",
        t.elapsed() / 20,
        20.0 * text.len() as f64 / t.elapsed().as_secs_f64() / 1e6
    );
}
