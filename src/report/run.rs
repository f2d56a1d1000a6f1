//! The end of a sync or destroy: one row per release, then what went wrong.

use crate::sync::RunReport;
use crate::sync::executor::Outcome;

pub fn summary(report: &RunReport) -> String {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for release in &report.releases {
        let (action, revision) = match &release.outcome {
            Outcome::Done(done) => (
                done.action.to_string(),
                done.revision.map_or("-".to_string(), |r| r.to_string()),
            ),
            Outcome::Failed(error) => {
                problems.push(format!("release {} failed: {error}", release.id));
                ("failed".to_string(), "-".to_string())
            }
            Outcome::Skipped(reason) => {
                problems.push(format!("release {} skipped: {reason}", release.id));
                ("skipped".to_string(), "-".to_string())
            }
        };
        rows.push(vec![
            release.id.to_string(),
            action,
            revision,
            format!("{:.1}s", release.elapsed.as_secs_f64()),
        ]);
    }
    let mut out = super::table(&["RELEASE", "ACTION", "REVISION", "TIME"], &rows);
    for problem in problems {
        out.push_str(&problem);
        out.push('\n');
    }
    if report.interrupted {
        out.push_str("interrupted: no release was started after the interrupt\n");
    }
    out
}
