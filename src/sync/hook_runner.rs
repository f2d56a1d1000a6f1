//! Runs a release's hooks for one event as Helm does: in weight order, each applied and
//! awaited to completion before the next; a failed hook stops the release.

use jiff::Timestamp;
use serde_json::Value;
use tokio::time::Instant;

use crate::cluster::{Cluster, Target};
use crate::record::{HookRecord, HookRun, HookRunPhase};

use super::SyncError;
use super::hooks::{DeletePolicy, Hook};
use super::readiness::{self, Readiness};
use super::wait::{Until, wait_for};

/// Runs `hooks` (already in Helm's order) in `namespace`, noting each run in `records`.
pub async fn run_hooks(
    cluster: &Cluster,
    namespace: &str,
    hooks: &[&Hook<'_>],
    records: &mut [HookRecord],
    deadline: Instant,
) -> Result<(), SyncError> {
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
    for (hook, target) in finished {
        if hook.deletes_on(DeletePolicy::HookSucceeded) {
            cluster.delete(&target).await?;
        }
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
    let mut text = match error {
        SyncError::ObjectFailed { reason, .. } => reason.clone(),
        SyncError::Timeout { objects } => format!("not finished in time: {}", objects.join("; ")),
        other => other.to_string(),
    };
    if target.kind() != "Job" {
        return text;
    }
    let Some(namespace) = target.namespace() else {
        return text;
    };
    let Ok(pods) = cluster.core_target("Pod", namespace, "").await else {
        return text;
    };
    let Ok(pods) = cluster
        .list(&pods, &format!("job-name={}", target.name))
        .await
    else {
        return text;
    };
    for pod in &pods {
        text.push_str(&format!("\n  pod {}", pod_summary(pod)));
    }
    text
}

/// `name: phase; container c: terminated (Error, exit code 1)` and the like.
pub fn pod_summary(pod: &Value) -> String {
    let name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let phase = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Unknown");
    let mut text = format!("{name}: {phase}");
    let statuses = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array);
    for status in statuses.into_iter().flatten() {
        let container = status.get("name").and_then(Value::as_str).unwrap_or("?");
        let state = status.get("state").and_then(Value::as_object);
        for (state_name, detail) in state.into_iter().flatten() {
            let reason = detail.get("reason").and_then(Value::as_str).unwrap_or("");
            let code = detail.get("exitCode").and_then(Value::as_i64);
            text.push_str(&format!("; container {container}: {state_name}"));
            match (reason, code) {
                ("", None) => {}
                (reason, Some(code)) => text.push_str(&format!(" ({reason}, exit code {code})")),
                (reason, None) => text.push_str(&format!(" ({reason})")),
            }
        }
    }
    if let Some(Readiness::Pending(why) | Readiness::Failed(why)) =
        Some(readiness::readiness(pod)).filter(|r| *r != Readiness::Ready)
    {
        text.push_str(&format!("; {why}"));
    }
    text
}
