//! A release's revisions as Helm keeps them: one Secret per revision in the release's
//! namespace. Creating the next revision's Secret is the release's lock: a second sync of
//! the same release finds it taken.

use serde_json::Value;

use crate::cluster::{Cluster, ClusterError};
use crate::config::ReleaseId;
use crate::record::{self, ReleaseRecord};

use super::SyncError;

/// Every revision of the release, oldest first.
pub async fn load(cluster: &Cluster, id: &ReleaseId) -> Result<Vec<ReleaseRecord>, SyncError> {
    let secrets = cluster.core_target("Secret", &id.namespace, "").await?;
    let mut records = cluster
        .list(&secrets, &record::label_selector(&id.name))
        .await?
        .iter()
        .map(record::from_secret)
        .collect::<Result<Vec<_>, _>>()?;
    records.sort_by_key(|r| r.version);
    Ok(records)
}

/// Refuses to go on while the latest revision is pending: another run holds the release.
/// With `force`, a pending revision left by a run that died is marked failed instead, so
/// the release can be synced again (the caller must know no other run is active).
pub async fn unlock(
    cluster: &Cluster,
    id: &ReleaseId,
    records: &mut [ReleaseRecord],
    force: bool,
) -> Result<(), SyncError> {
    let Some(latest) = records.last_mut().filter(|r| r.info.status.is_pending()) else {
        return Ok(());
    };
    if !force {
        return Err(SyncError::Locked {
            release: id.to_string(),
            detail: format!(
                "revision {} is {} since {}: another orch or helm run is working on it, or one \
                 died during it; if none is running, sync again with --force-unlock",
                latest.version,
                latest.info.status.as_str(),
                latest.info.last_deployed
            ),
        });
    }
    let status = latest.info.status.as_str();
    tracing::warn!(
        "release {id}: revision {} was {status}; marking it failed (--force-unlock)",
        latest.version
    );
    latest.finish(record::Status::Failed, format!("Release \"{}\" failed: the run that left it {status} did not finish (unlocked with --force-unlock)", id.name));
    save(cluster, latest).await
}

/// Writes a new revision; fails with `Locked` when another run wrote it first.
pub async fn create(cluster: &Cluster, record: &ReleaseRecord) -> Result<(), SyncError> {
    let (target, secret) = secret(cluster, record).await?;
    match cluster.create(&target, &secret).await {
        Ok(_) => Ok(()),
        Err(err @ ClusterError::Api { code: 409, .. }) => Err(SyncError::Locked {
            release: format!("{}/{}", record.namespace, record.name),
            detail: format!(
                "revision {} was written by another run meanwhile ({err})",
                record.version
            ),
        }),
        Err(err) => Err(err.into()),
    }
}

/// Rewrites an existing revision, e.g. to mark it deployed, failed or superseded.
pub async fn save(cluster: &Cluster, record: &ReleaseRecord) -> Result<(), SyncError> {
    let (target, secret) = secret(cluster, record).await?;
    cluster.apply(&target, &secret, false, true).await?;
    Ok(())
}

/// Removes every revision, as `helm uninstall` does.
pub async fn delete_all(cluster: &Cluster, records: &[ReleaseRecord]) -> Result<(), SyncError> {
    for record in records {
        let target = cluster
            .core_target(
                "Secret",
                &record.namespace,
                &record::secret_name(&record.name, record.version),
            )
            .await?;
        cluster.delete(&target).await?;
    }
    Ok(())
}

async fn secret(
    cluster: &Cluster,
    record: &ReleaseRecord,
) -> Result<(crate::cluster::Target, Value), SyncError> {
    let secret = record::to_secret(record);
    let target = cluster.target(&secret, &record.namespace).await?;
    Ok((target, secret))
}
