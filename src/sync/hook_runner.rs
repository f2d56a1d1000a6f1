//! Runs a release's hooks for one event as Helm does: in weight order, each applied and
//! awaited to completion before the next; a failed hook stops the release.

use jiff::Timestamp;
use tokio::time::Instant;

use crate::cluster::{Cluster, Target};
use crate::record::{HookRecord, HookRun, HookRunPhase};

use super::SyncError;
use super::explain;
use super::hooks::{DeletePolicy, Hook};
use super::readiness;
use super::wait::{Until, wait_for};

/// Runs `hooks` (already in Helm's order) in `namespace`, noting each run in `records`.
pub async fn run_hooks(
    cluster: &Cluster,
    namespace: &str,
    hooks: &[&Hook<'_>],
    records: &mut [HookRecord],
    deadline: Instant,
) -> Result<(), SyncError> {
    let succeeded = run_hooks_keeping(cluster, namespace, hooks, records, deadline).await?;
    delete_all(cluster, &succeeded).await
}

/// `run_hooks`, but the hooks to delete once every one succeeded are returned instead of
/// deleted, for a caller that reads them first (`orch test` reads test pods' logs).
pub async fn run_hooks_keeping(
    cluster: &Cluster,
    namespace: &str,
    hooks: &[&Hook<'_>],
    records: &mut [HookRecord],
    deadline: Instant,
) -> Result<Vec<Target>, SyncError> {
    let mut finished = Vec::new();
    for hook in hooks {
        let target = cluster.target(&hook.manifest.object, namespace).await?;
        if hook.deletes_on(DeletePolicy::BeforeHookCreation) {
            cluster.delete(&target).await?;
            wait_for(
                cluster,
                std::slice::from_ref(&target),
                Until::Gone,
                deadline,
            )
            .await?;
        }
        let started = Timestamp::now();
        note(
            records,
            &target,
            HookRun {
                started_at: Some(started),
                completed_at: None,
                phase: HookRunPhase::Running,
            },
        );
        cluster
            .apply(&target, &hook.manifest.object, false, true)
            .await?;
        let outcome = wait_for(
            cluster,
            std::slice::from_ref(&target),
            Until::Ready(readiness::hook_outcome),
            deadline,
        )
        .await;
        let phase = if outcome.is_ok() {
            HookRunPhase::Succeeded
        } else {
            HookRunPhase::Failed
        };
        note(
            records,
            &target,
            HookRun {
                started_at: Some(started),
                completed_at: Some(Timestamp::now()),
                phase,
            },
        );
        if let Err(error) = outcome {
            let detail = describe_failure(cluster, &target, &error).await;
            if hook.deletes_on(DeletePolicy::HookFailed) {
                cluster.delete(&target).await?;
            }
            return Err(SyncError::Hook {
                hook: target.to_string(),
                reason: detail,
            });
        }
        finished.push((hook, target));
    }
    // Helm deletes `hook-succeeded` hooks only once every hook of the event has succeeded,
    // so a later hook may still use what an earlier one made (a Secret for a migration Job).
    Ok(finished
        .into_iter()
        .filter(|(hook, _)| hook.deletes_on(DeletePolicy::HookSucceeded))
        .map(|(_, target)| target)
        .collect())
}

pub async fn delete_all(cluster: &Cluster, targets: &[Target]) -> Result<(), SyncError> {
    for target in targets {
        cluster.delete(target).await?;
    }
    Ok(())
}

fn note(records: &mut [HookRecord], target: &Target, run: HookRun) {
    if let Some(record) = records
        .iter_mut()
        .find(|r| r.name == target.name && r.kind == target.kind())
    {
        record.last_run = run;
    }
}

/// The error, and for a Job what its pods say: the reason users need to fix a migration.
async fn describe_failure(cluster: &Cluster, target: &Target, error: &SyncError) -> String {
    match error {
        // A timeout names the objects and their pods already.
        SyncError::Timeout { objects } => format!("not finished in time: {}", objects.join("; ")),
        SyncError::ObjectFailed { reason, .. } => {
            let mut text = reason.clone();
            for pod in explain::pods_of(cluster, target).await {
                text.push_str(&format!("\n  pod {pod}"));
            }
            text
        }
        other => other.to_string(),
    }
}
