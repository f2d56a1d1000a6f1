//! The end of a sync or destroy: one row per release, then what went wrong.

use crate::sync::RunReport;
use crate::sync::executor::Outcome;

/// The summary table; a run across several clusters has a CLUSTER column, its rows
/// grouped by cluster (in run order within each).
pub fn summary(report: &RunReport) -> String {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let several_clusters = report.releases.iter().any(|r| r.id.cluster.is_some());
    let mut releases: Vec<_> = report.releases.iter().collect();
    releases.sort_by_key(|r| r.id.cluster.as_deref());
    for release in releases {
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
        let time = format!("{:.1}s", release.elapsed.as_secs_f64());
        rows.push(match &release.id.cluster {
            Some(cluster) => {
                let id = format!("{}/{}", release.id.namespace, release.id.name);
                vec![cluster.clone(), id, action, revision, time]
            }
            None => vec![release.id.to_string(), action, revision, time],
        });
    }
    let mut out = if several_clusters {
        let header = ["CLUSTER", "RELEASE", "ACTION", "REVISION", "TIME"];
        super::table(&header, &rows)
    } else {
        super::table(&["RELEASE", "ACTION", "REVISION", "TIME"], &rows)
    };
    for problem in problems {
        out.push_str(&problem);
        out.push('\n');
    }
    if report.interrupted {
        out.push_str("interrupted: no release was started after the interrupt\n");
    }
    out
}
