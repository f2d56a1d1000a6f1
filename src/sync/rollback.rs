//! `orch rollback`: a release put back to an earlier revision as `helm rollback` does. A
//! new revision gets the old one's chart, values, manifest, hooks and notes; its
//! pre-rollback hooks run, its objects are applied and what it lacks is pruned, then its
//! post-rollback hooks; the records tell the story in Helm's words, so `helm history`
//! reads it the same.

use jiff::Timestamp;

use crate::cluster::Cluster;
use crate::config::ReleaseSpec;
use crate::record::{self, ReleaseRecord, Status};
use crate::render::manifest;

use super::hooks::{HookEvent, split_hooks, stored_hooks};
use super::release::Steps;
use super::{Progress, SyncError, SyncOptions, history};

#[derive(Debug, Clone, Copy, Default)]
pub struct RollbackOptions {
    /// Wait for the restored objects' readiness, whatever the release's `wait` says.
    pub wait: bool,
    /// Run no pre-rollback or post-rollback hook (`helm rollback --no-hooks`).
    pub no_hooks: bool,
}

/// What a rollback did: revision `revision` restores revision `restored`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RolledBack {
    pub revision: u32,
    pub restored: u32,
}

/// Rolls `release` back to revision `to`, or with `None` to the one before its latest, as
/// `helm rollback` with revision 0 does.
pub async fn rollback_release(
    cluster: &Cluster,
    release: &ReleaseSpec,
    to: Option<u32>,
    options: RollbackOptions,
    progress: &dyn Progress,
) -> Result<RolledBack, SyncError> {
    let id = &release.id;
    let mut history = history::load(cluster, id).await?;
    // A release another run holds is not rolled back under it (helm: "another operation
    // is in progress").
    history::unlock(cluster, id, &mut history, false).await?;
    let current = record::latest(&history).cloned().ok_or_else(|| {
        SyncError::NoRevision("it has no revisions: it is not installed".to_string())
    })?;
    let version = to.unwrap_or(current.version.saturating_sub(1));
    let restored = history
        .iter()
        .find(|r| r.version == version)
        .cloned()
        .ok_or_else(|| {
            SyncError::NoRevision(match to {
                None if current.version <= 1 => format!(
                    "revision {} is its first: there is none before it",
                    current.version
                ),
                _ => format!(
                    "it has no revision {version}; it has {}",
                    history
                        .iter()
                        .map(|r| r.version.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
        })?;
    let mut record = ReleaseRecord::rolling_back(&restored, &current, Timestamp::now());
    history::make_room(cluster, &history, release.history_max).await?;
    history::create(cluster, &record).await?;

    let release = ReleaseSpec {
        wait: release.wait || options.wait,
        ..release.clone()
    };
    let steps = Steps {
        cluster,
        release: &release,
        options: &SyncOptions::default(),
        progress,
        created: std::sync::Mutex::default(),
    };
    let hook_objects = if options.no_hooks {
        Vec::new()
    } else {
        stored_hooks(&restored.hooks)
    };
    let (hooks, _) = split_hooks(&hook_objects)?;
    let objects = manifest::parse_stored(&restored.manifest);
    let objects: Vec<&manifest::Manifest> = objects.iter().collect();
    let previous_objects = manifest::parse_stored(&current.manifest);
    progress.step(id, &format!("rolling back to revision {version}"));
    let outcome = steps
        .apply(
            &hooks,
            &objects,
            &previous_objects,
            (HookEvent::PreRollback, HookEvent::PostRollback),
            &mut record.hooks,
        )
        .await;
    match outcome {
        Ok(()) => {
            // Every revision still deployed is superseded, as Helm does (helm/helm#2941).
            for deployed in history.iter().filter(|r| r.info.status == Status::Deployed) {
                let mut superseded = deployed.clone();
                superseded.supersede();
                history::save(cluster, &superseded).await?;
            }
            record.finish(Status::Deployed, format!("Rollback to {version}"));
            history::save(cluster, &record).await?;
            Ok(RolledBack {
                revision: record.version,
                restored: version,
            })
        }
        Err(cause) => {
            // Helm's record of a failed rollback: the revision it left superseded, the new
            // one failed with the reason.
            let mut left = current.clone();
            left.supersede();
            record.finish(
                Status::Failed,
                format!("Rollback \"{}\" failed: {cause}", id.name),
            );
            let recorded = async {
                history::save(cluster, &left).await?;
                history::save(cluster, &record).await
            };
            match recorded.await {
                Ok(()) => Err(cause),
                Err(error) => Err(SyncError::Unrecorded {
                    cause: Box::new(cause),
                    revision: record.version,
                    error: Box::new(error),
                }),
            }
        }
    }
}
