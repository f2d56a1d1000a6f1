//! A whole sync or destroy: every release of the plan through the DAG walk.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use crate::cluster::Cluster;
use crate::config::{ReleaseId, Spec};
use crate::plan::Plan;
use crate::render::RenderedRelease;

use super::executor::{Outcome, walk};
use super::{
    Progress, ReleaseReport, ReleaseWork, SyncError, SyncOptions, sync_release, uninstall_release,
};

/// Releases synced or destroyed at once when `--concurrency` is 0.
const DEFAULT_CONCURRENCY: usize = 16;

pub struct ReleaseOutcome {
    pub id: ReleaseId,
    pub outcome: Outcome<ReleaseReport, SyncError>,
    pub elapsed: Duration,
}

pub struct RunReport {
    /// In DAG order.
    pub releases: Vec<ReleaseOutcome>,
    pub interrupted: bool,
}

impl RunReport {
    pub fn failed(&self) -> bool {
        self.releases
            .iter()
            .any(|r| !matches!(r.outcome, Outcome::Done(_)))
    }
}

/// Syncs the selected, enabled releases: installs or upgrades those to be installed,
/// uninstalls those marked `installed: false`. `rendered` holds the former's manifests.
pub async fn sync_plan(
    cluster: &Cluster,
    spec: &Spec,
    plan: &Plan,
    rendered: &[RenderedRelease],
    options: &SyncOptions,
    progress: &dyn Progress,
    interrupt: impl Future<Output = ()>,
) -> RunReport {
    let members: Vec<bool> = (0..spec.releases.len())
        .map(|i| plan.selected[i] && spec.releases[i].enabled)
        .collect();
    let order: Vec<usize> = plan.ordered().into_iter().filter(|&i| members[i]).collect();
    let by_index: HashMap<usize, &RenderedRelease> =
        rendered.iter().map(|r| (r.index, r)).collect();
    progress.planned(
        &order
            .iter()
            .map(|&r| &spec.releases[r].id)
            .collect::<Vec<_>>(),
    );
    let took = std::sync::Mutex::new(HashMap::new());
    let (outcomes, interrupted) = walk(
        &order,
        |r| plan.graph.needs_within(r, &members),
        |r| spec.releases[r].id.to_string(),
        effective(options.concurrency),
        |r| {
            let took = &took;
            let by_index = &by_index;
            async move {
                let start = Instant::now();
                let release = &spec.releases[r];
                let result = match by_index.get(&r).filter(|_| release.installed) {
                    Some(rendered) => {
                        let work = ReleaseWork {
                            release,
                            manifests: &rendered.manifests,
                            values: &rendered.values,
                            chart: &rendered.chart,
                        };
                        sync_release(cluster, &work, options, progress).await
                    }
                    None => {
                        uninstall_release(
                            cluster,
                            &release.id,
                            release.timeout,
                            options.force_unlock,
                            progress,
                        )
                        .await
                    }
                };
                took.lock().map(|mut t| t.insert(r, start.elapsed())).ok();
                progress.finished(&release.id, &describe(&result));
                result
            }
        },
        interrupt,
    )
    .await;
    report(
        spec,
        &order,
        outcomes,
        &took.into_inner().unwrap_or_default(),
        interrupted,
    )
}

/// Uninstalls the selected releases, each only after every selected release that needs it.
pub async fn destroy_plan(
    cluster: &Cluster,
    spec: &Spec,
    plan: &Plan,
    options: &SyncOptions,
    progress: &dyn Progress,
    interrupt: impl Future<Output = ()>,
) -> RunReport {
    let mut order = plan.ordered();
    order.reverse();
    progress.planned(
        &order
            .iter()
            .map(|&r| &spec.releases[r].id)
            .collect::<Vec<_>>(),
    );
    let mut dependents: HashMap<usize, Vec<usize>> = HashMap::new();
    for &release in &order {
        for need in plan.graph.needs_within(release, &plan.selected) {
            dependents.entry(need).or_default().push(release);
        }
    }
    let took = std::sync::Mutex::new(HashMap::new());
    let (outcomes, interrupted) = walk(
        &order,
        |r| dependents.get(&r).cloned().unwrap_or_default(),
        |r| spec.releases[r].id.to_string(),
        effective(options.concurrency),
        |r| {
            let took = &took;
            async move {
                let start = Instant::now();
                let release = &spec.releases[r];
                let result = uninstall_release(
                    cluster,
                    &release.id,
                    release.timeout,
                    options.force_unlock,
                    progress,
                )
                .await;
                took.lock().map(|mut t| t.insert(r, start.elapsed())).ok();
                progress.finished(&release.id, &describe(&result));
                result
            }
        },
        interrupt,
    )
    .await;
    report(
        spec,
        &order,
        outcomes,
        &took.into_inner().unwrap_or_default(),
        interrupted,
    )
}

fn describe(result: &Result<ReleaseReport, SyncError>) -> String {
    match result {
        Ok(ReleaseReport {
            action,
            revision: Some(revision),
        }) => format!("{action} (revision {revision})"),
        Ok(ReleaseReport {
            action,
            revision: None,
        }) => action.to_string(),
        Err(_) => "failed".to_string(),
    }
}

fn effective(concurrency: usize) -> usize {
    if concurrency == 0 {
        DEFAULT_CONCURRENCY
    } else {
        concurrency
    }
}

fn report(
    spec: &Spec,
    order: &[usize],
    mut outcomes: HashMap<usize, Outcome<ReleaseReport, SyncError>>,
    took: &HashMap<usize, Duration>,
    interrupted: bool,
) -> RunReport {
    let releases = order
        .iter()
        .filter_map(|r| {
            let outcome = outcomes.remove(r)?;
            Some(ReleaseOutcome {
                id: spec.releases[*r].id.clone(),
                outcome,
                elapsed: took.get(r).copied().unwrap_or_default(),
            })
        })
        .collect();
    RunReport {
        releases,
        interrupted,
    }
}
