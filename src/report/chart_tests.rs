//! `orch test`: each release's test hooks, how they went and what their pods printed.

use std::fmt::Write;

use crate::diff::plural;
use crate::sync::chart_tests::TestRun;

/// One release's outcome: its tests, or why they could not run.
pub struct Tested {
    pub release: String,
    pub run: Result<TestRun, String>,
}

/// Per release with tests a header, one line per test, each pod's log indented under a
/// header line, the failure; then a summary line, and the releases that have no tests.
pub fn text(tested: &[Tested]) -> String {
    let mut out = String::new();
    let (mut passed, mut failed) = (0, 0);
    let mut untested = Vec::new();
    for Tested { release, run } in tested {
        let run = match run {
            Ok(run) => run,
            Err(error) => {
                failed += 1;
                writeln!(out, "release {release}: {error}\n").ok();
                continue;
            }
        };
        if run.tests.is_empty() {
            untested.push(release.as_str());
            continue;
        }
        if run.passed() {
            passed += 1;
        } else {
            failed += 1;
        }
        writeln!(
            out,
            "release {release} (revision {}): {} test{}",
            run.revision,
            run.tests.len(),
            plural(run.tests.len())
        )
        .ok();
        let rows: Vec<Vec<String>> = run
            .tests
            .iter()
            .map(|test| {
                let took = match (test.started_at, test.completed_at) {
                    (Some(start), Some(end)) => {
                        let millis = end.duration_since(start).as_millis();
                        format!("{:.1}s", millis as f64 / 1000.0)
                    }
                    _ => String::new(),
                };
                vec![
                    format!("  {}", test.kind),
                    test.name.clone(),
                    test.phase.clone(),
                    took,
                ]
            })
            .collect();
        out.push_str(&super::table(&["  KIND", "NAME", "PHASE", "TOOK"], &rows));
        for test in &run.tests {
            for log in &test.logs {
                writeln!(
                    out,
                    "  --- {} {}: pod {}, container {} ---",
                    test.kind, test.name, log.pod, log.container
                )
                .ok();
                match &log.unreadable {
                    Some(why) => writeln!(out, "  (no log: {why})").ok(),
                    None => {
                        for line in log.log.lines() {
                            writeln!(out, "  {line}").ok();
                        }
                        None
                    }
                };
            }
        }
        if let Some(error) = &run.error {
            writeln!(out, "  failed: {error}").ok();
        }
        out.push('\n');
    }
    let total = passed + failed;
    write!(
        out,
        "{total} release{} tested: {passed} passed, {failed} failed",
        plural(total)
    )
    .ok();
    out.push('\n');
    if !untested.is_empty() {
        writeln!(out, "without tests: {}", untested.join(", ")).ok();
    }
    out
}
