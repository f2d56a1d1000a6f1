//! Waiting for objects: polls each until a condition says ready, failed, or time is up.
//! Conditions are the pure functions of `readiness`; this module only asks the cluster.

use std::time::Duration;

use futures::future::try_join_all;
use serde_json::Value;
use tokio::time::Instant;

use crate::cluster::{Cluster, Target};

use super::readiness::Readiness;
use super::{SyncError, explain};

const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// How long past the deadline one round of reads may take before the API server counts as
/// not answering.
const ANSWER_GRACE: Duration = Duration::from_secs(2);

/// What to wait for: to exist and satisfy a condition, or to be gone.
#[derive(Clone, Copy)]
pub enum Until {
    Ready(fn(&Value) -> Readiness),
    Gone,
}

/// Waits until every target meets `until`. A failed object ends the wait at once; at
/// `deadline` the error lists every object still not there, and why.
pub async fn wait_for(
    cluster: &Cluster,
    targets: &[Target],
    until: Until,
    deadline: Instant,
) -> Result<(), SyncError> {
    let mut waiting: Vec<&Target> = targets.iter().collect();
    loop {
        // A stopped API server must not hold the wait past its deadline.
        let reads = try_join_all(waiting.iter().map(|target| cluster.get(target)));
        let Ok(states) =
            tokio::time::timeout_at(deadline.max(Instant::now()) + ANSWER_GRACE, reads).await
        else {
            return Err(SyncError::Timeout {
                objects: waiting
                    .iter()
                    .map(|target| format!("{target}: the API server did not answer"))
                    .collect(),
            });
        };
        let states = states?;
        let mut still = Vec::new();
        for (target, state) in waiting.into_iter().zip(states) {
            match (until, state) {
                (Until::Gone, None) => {}
                (Until::Gone, Some(_)) => still.push((target, "still exists".to_string())),
                (Until::Ready(_), None) => still.push((target, "does not exist".to_string())),
                (Until::Ready(condition), Some(object)) => match condition(&object) {
                    Readiness::Ready => {}
                    Readiness::Pending(why) => still.push((target, why)),
                    Readiness::Failed(why) => {
                        return Err(SyncError::ObjectFailed {
                            object: target.to_string(),
                            reason: why,
                        });
                    }
                },
            }
        }
        if still.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let mut objects = Vec::new();
            for (target, why) in &still {
                objects.push(format!("{target}: {why}"));
                for pod in explain::pods_of(cluster, target).await {
                    objects.push(format!("  pod {pod}"));
                }
            }
            return Err(SyncError::Timeout { objects });
        }
        waiting = still.into_iter().map(|(target, _)| target).collect();
        tokio::time::sleep(POLL_INTERVAL.min(deadline.saturating_duration_since(Instant::now())))
            .await;
    }
}
