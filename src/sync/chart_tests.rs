//! `orch test`: a release's test hooks (`helm.sh/hook: test`) run as `helm test` runs
//! them: from its deployed revision's record, in Helm's order, each awaited, stopping at
//! the first that fails. Their runs are written back to the record, as Helm does, so
//! `helm status` shows the last test suite; the pods' logs are read before any
//! `hook-succeeded` policy deletes them.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use crate::cluster::Cluster;
use crate::config::ReleaseSpec;
use crate::diff::plural;
use crate::record::{self, HookRunPhase};

use super::explain;
use super::hook_runner::{delete_all, run_hooks_keeping};
use super::hooks::{HookEvent, hooks_for, split_hooks, stored_hooks};
use super::{Progress, SyncError, history};

/// How one release's tests went.
#[derive(Debug, Clone, Serialize)]
pub struct TestRun {
    /// The deployed revision the tests ran against.
    pub revision: u32,
    pub tests: Vec<TestOutcome>,
    /// Why the suite failed: the failing test, or what kept the tests from running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl TestRun {
    pub fn passed(&self) -> bool {
        self.error.is_none()
    }
}

/// One test hook: how its last run went, and what its pods printed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestOutcome {
    pub kind: String,
    pub name: String,
    /// `Succeeded`, `Failed`, or `NotRun` when an earlier test failed.
    pub phase: String,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub logs: Vec<PodLog>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PodLog {
    pub pod: String,
    pub container: String,
    /// What it printed.
    pub log: String,
    /// Why the log could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

/// Runs the test hooks of `release`'s deployed revision.
pub async fn test_release(
    cluster: &Cluster,
    release: &ReleaseSpec,
    progress: &dyn Progress,
) -> Result<TestRun, SyncError> {
    let id = &release.id;
    let history = history::load(cluster, id).await?;
    let mut deployed = record::deployed(&history)
        .cloned()
        .ok_or_else(|| SyncError::NoRevision("it has no deployed revision to test".to_string()))?;
    let objects = stored_hooks(&deployed.hooks);
    let (hooks, _) = split_hooks(&objects)?;
    let tests = hooks_for(HookEvent::Test, &hooks);
    if tests.is_empty() {
        return Ok(TestRun {
            revision: deployed.version,
            tests: Vec::new(),
            error: None,
        });
    }
    let count = tests.len();
    progress.step(id, &format!("running {count} test{}", plural(count)));
    let deadline = Instant::now() + release.timeout;
    let ran = run_hooks_keeping(
        cluster,
        &id.namespace,
        &tests,
        &mut deployed.hooks,
        deadline,
    )
    .await;
    let mut outcomes = Vec::new();
    for test in &tests {
        let (kind, name) = (
            test.manifest.kind().unwrap_or_default(),
            test.manifest.name().unwrap_or_default(),
        );
        let run = deployed
            .hooks
            .iter()
            .find(|h| h.kind == kind && h.name == name)
            .map(|h| h.last_run.clone())
            .unwrap_or_default();
        let target = cluster.target(&test.manifest.object, &id.namespace).await?;
        let logs = if run.phase == HookRunPhase::NotRun {
            Vec::new()
        } else {
            logs_of(cluster, &target).await
        };
        outcomes.push(TestOutcome {
            kind: kind.to_string(),
            name: name.to_string(),
            phase: match run.phase {
                HookRunPhase::NotRun => "NotRun",
                HookRunPhase::Running => "Running",
                HookRunPhase::Succeeded => "Succeeded",
                HookRunPhase::Failed => "Failed",
                HookRunPhase::Unknown => "Unknown",
            }
            .to_string(),
            started_at: run.started_at,
            completed_at: run.completed_at,
            logs,
        });
    }
    let error = match ran {
        Ok(succeeded) => {
            delete_all(cluster, &succeeded).await?;
            None
        }
        Err(error) => Some(error.to_string()),
    };
    history::save(cluster, &deployed).await?;
    Ok(TestRun {
        revision: deployed.version,
        tests: outcomes,
        error,
    })
}

/// Every container's log of the test's pods (a Pod's own, or a Job's).
async fn logs_of(cluster: &Cluster, test: &crate::cluster::Target) -> Vec<PodLog> {
    let mut logs = Vec::new();
    for pod in explain::pods(cluster, test).await {
        let Some(name) = pod.pointer("/metadata/name").and_then(Value::as_str) else {
            continue;
        };
        let namespace = test.namespace().unwrap_or_default();
        let Ok(target) = cluster.core_target("Pod", namespace, name).await else {
            continue;
        };
        let containers = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("name").and_then(Value::as_str));
        for container in containers {
            let read = cluster.pod_logs(&target, container).await;
            logs.push(PodLog {
                pod: name.to_string(),
                container: container.to_string(),
                unreadable: read.as_ref().err().map(ToString::to_string),
                log: read.unwrap_or_default(),
            });
        }
    }
    logs
}
