//! A whole sync or destroy: every release of the plan through the DAG walk.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use futures::{StreamExt, stream};

use crate::cluster::Clusters;
use crate::config::{ReleaseId, Spec};
use crate::plan::Plan;
use crate::render::RenderedRelease;

use super::executor::{Outcome, walk};
use super::release::{Prepared, prepare};
use super::{
    Progress, ReleaseReport, ReleaseWork, SyncError, SyncOptions, sync_release, uninstall_release,
};

/// Releases looked at at once before the walk.
const PARALLEL_PREPARES: usize = 16;

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
    clusters: &Clusters,
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
    let work = |r: usize| {
        let release = &spec.releases[r];
        let rendered = rendered
            .iter()
            .find(|x| x.index == r)
            .filter(|_| release.installed)?;
        Some(ReleaseWork {
            spec,
            release,
            manifests: &rendered.manifests,
            values: &rendered.values,
            chart: &rendered.chart,
        })
    };
    progress.planned(
        &order
            .iter()
            .map(|&r| &spec.releases[r].id)
            .collect::<Vec<_>>(),
    );
    // Read-only and independent of needs: all at once, so unchanged releases are done
    // before the walk reaches them.
    let prepared: HashMap<usize, Result<Prepared, SyncError>> = stream::iter(&order)
        .filter_map(|&r| {
            let work = work(r);
            async move { work.map(|work| (r, work)) }
        })
        .map(|(r, work)| async move {
            let cluster = cluster_of(clusters, &spec.releases[r]);
            let prepared = match cluster {
                Ok(cluster) => prepare(cluster, &work, options, progress).await,
                Err(err) => Err(err),
            };
            (r, prepared)
        })
        .buffer_unordered(PARALLEL_PREPARES)
        .collect()
        .await;
    let prepared = std::sync::Mutex::new(prepared);
    let job = |r: usize| {
        let prepared = &prepared;
        let work = work(r);
        async move {
            let release = &spec.releases[r];
            let cluster = cluster_of(clusters, release)?;
            let Some(work) = work else {
                let state_hooks =
                    |event| super::events::run_in_walk(spec, release, event, None, progress);
                return uninstall_release(
                    cluster,
                    &release.id,
                    release.timeout,
                    options.force_unlock,
                    progress,
                    &state_hooks,
                )
                .await;
            };
            let ready = prepared.lock().ok().and_then(|mut p| p.remove(&r));
            let ready = match ready {
                Some(ready) => ready,
                None => prepare(cluster, &work, options, progress).await,
            };
            sync_release(cluster, &work, ready?, options, progress).await
        }
    };
    run_walk(
        spec,
        &order,
        |r| plan.graph.needs_within(r, &members),
        options,
        progress,
        interrupt,
        job,
    )
    .await
}

/// Uninstalls the selected releases, each only after every selected release that needs it.
pub async fn destroy_plan(
    clusters: &Clusters,
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
    let job = |r: usize| async move {
        let release = &spec.releases[r];
        let cluster = cluster_of(clusters, release)?;
        let state_hooks = |event| super::events::run_in_walk(spec, release, event, None, progress);
        uninstall_release(
            cluster,
            &release.id,
            release.timeout,
            options.force_unlock,
            progress,
            &state_hooks,
        )
        .await
    };
    let waits_for = |r: usize| dependents.get(&r).cloned().unwrap_or_default();
    run_walk(spec, &order, waits_for, options, progress, interrupt, job).await
}

/// The cluster `release` runs against: a cluster that cannot be reached fails the release,
/// and so skips its dependents, wherever they run.
fn cluster_of<'c>(
    clusters: &'c Clusters,
    release: &crate::config::ReleaseSpec,
) -> Result<&'c crate::cluster::Cluster, SyncError> {
    clusters
        .get(release.kube_context.as_deref())
        .map_err(SyncError::Unreachable)
}

/// The DAG walk around `job`: each release timed and its outcome reported as it ends.
async fn run_walk<Job, Fut>(
    spec: &Spec,
    order: &[usize],
    waits_for: impl Fn(usize) -> Vec<usize>,
    options: &SyncOptions,
    progress: &dyn Progress,
    interrupt: impl Future<Output = ()>,
    job: Job,
) -> RunReport
where
    Job: Fn(usize) -> Fut,
    Fut: Future<Output = Result<ReleaseReport, SyncError>>,
{
    let took = std::sync::Mutex::new(HashMap::new());
    let (outcomes, interrupted) = walk(
        order,
        waits_for,
        |r| spec.releases[r].id.to_string(),
        effective_concurrency(options.concurrency),
        |r| {
            let took = &took;
            let work = job(r);
            async move {
                let start = Instant::now();
                let result = work.await;
                took.lock().map(|mut t| t.insert(r, start.elapsed())).ok();
                progress.finished(&spec.releases[r].id, &describe(&result));
                result
            }
        },
        interrupt,
    )
    .await;
    report(
        spec,
        order,
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

/// Releases worked on at once for `--concurrency`.
pub fn effective_concurrency(concurrency: usize) -> usize {
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
