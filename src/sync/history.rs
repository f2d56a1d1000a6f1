//! A release's revisions as Helm keeps them: one Secret per revision in the release's
//! namespace. Creating the next revision's Secret is the release's lock: a second sync of
//! the same release finds it taken.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::cluster::Cluster;
use crate::config::ReleaseId;
use crate::record::{self, ReleaseRecord};

use super::SyncError;
use super::holder::Holder;

/// On a pending revision's Secret: the process that holds the release.
const HOLDER_ANNOTATION: &str = "orch.dev/holder";

/// Every revision of the release, oldest first: its record Secrets found in the
/// namespace's one listing of the run, each read by name. A list per release would have the
/// server read every record of the namespace each time, the cost of helm's (helm/helm#10935).
pub async fn load(cluster: &Cluster, id: &ReleaseId) -> Result<Vec<ReleaseRecord>, SyncError> {
    let secrets = cluster.core_target("Secret", &id.namespace, "").await?;
    let listing = cluster.list_labels_once(&secrets, OWNER_HELM).await?;
    let names = listing
        .iter()
        .filter(|(_, labels)| labels.get("name") == Some(&id.name))
        .map(|(name, _)| name.clone());
    let read = names.map(|name| async move {
        let target = cluster.core_target("Secret", &id.namespace, &name).await?;
        Ok::<_, SyncError>(cluster.get(&target).await?)
    });
    let mut records = futures::future::try_join_all(read)
        .await?
        .iter()
        // Gone since the listing (another run pruned it): not a revision any more.
        .flatten()
        .map(record::from_secret)
        .collect::<Result<Vec<_>, _>>()?;
    records.sort_by_key(|r| r.version);
    Ok(records)
}

/// What every Helm release record is labelled with.
const OWNER_HELM: &str = "owner=helm";

/// The latest recorded revision of every release in `namespaces`, read from the records'
/// labels with one metadata-only list per namespace: rendering for a cluster sets `.Release.Revision`
/// and `.Release.IsUpgrade` from it, as `helm upgrade` does.
pub async fn latest_revisions(
    cluster: &Cluster,
    namespaces: &BTreeSet<String>,
) -> Result<HashMap<ReleaseId, u64>, SyncError> {
    let mut latest = HashMap::new();
    for namespace in namespaces {
        let secrets = cluster.core_target("Secret", namespace, "").await?;
        // A namespace the identity may not read fails its own releases when they sync,
        // with the reason; it must not stop the others from rendering.
        let records = match cluster.list_labels_once(&secrets, OWNER_HELM).await {
            Err(err) if err.is_forbidden() => continue,
            records => records?,
        };
        for (_, labels) in records.iter() {
            let (Some(name), Some(Ok(version))) = (
                labels.get("name").cloned(),
                labels.get("version").map(|v| v.parse::<u64>()),
            ) else {
                continue;
            };
            let id = ReleaseId {
                cluster: cluster.label.clone(),
                namespace: namespace.clone(),
                name,
            };
            let entry = latest.entry(id).or_insert(version);
            *entry = (*entry).max(version);
        }
    }
    Ok(latest)
}

/// Refuses to go on while the latest revision is pending: another run holds the release.
/// A pending revision whose holder process is known to be gone (it ran on this host), or
/// any with `force`, is marked failed instead, so the release can be synced again.
pub async fn unlock(
    cluster: &Cluster,
    id: &ReleaseId,
    records: &mut [ReleaseRecord],
    force: bool,
) -> Result<(), SyncError> {
    let Some(latest) = records.last_mut().filter(|r| r.info.status.is_pending()) else {
        return Ok(());
    };
    let status = latest.info.status.as_str();
    let holder = holder_of(cluster, latest).await?;
    let reason = match &holder {
        Some(holder) if holder.is_gone() => format!("the run that held it ({holder}) is gone"),
        _ if force => "unlocked with --force-unlock".to_string(),
        _ => {
            let by = holder.map_or_else(
                || "another orch or helm run".to_string(),
                |h| format!("the run {h}"),
            );
            return Err(SyncError::Locked {
                release: id.to_string(),
                detail: format!(
                    "revision {} is {status} since {}: {by} is working on it, or died during it \
                     on another host; if none is running, sync again with --force-unlock",
                    latest.version, latest.info.last_deployed
                ),
            });
        }
    };
    tracing::warn!(
        "release {id}: revision {} was {status}; {reason}: marking it failed",
        latest.version
    );
    latest.finish(
        record::Status::Failed,
        format!(
            "Release \"{}\" failed: it was left {status}; {reason}",
            id.name
        ),
    );
    save(cluster, latest).await
}

/// The run that wrote a pending revision, from the annotation `create` puts on it.
async fn holder_of(cluster: &Cluster, record: &ReleaseRecord) -> Result<Option<Holder>, SyncError> {
    let name = record::secret_name(&record.name, record.version);
    let target = cluster
        .core_target("Secret", &record.namespace, &name)
        .await?;
    let secret = cluster.get(&target).await?;
    Ok(secret
        .as_ref()
        .and_then(|s| {
            s.pointer(&format!(
                "/metadata/annotations/{}",
                HOLDER_ANNOTATION.replace('/', "~1")
            ))
        })
        .and_then(Value::as_str)
        .and_then(Holder::parse))
}

/// Writes a new revision, naming this process as its holder; fails with `Locked` when
/// another run wrote it first.
pub async fn create(cluster: &Cluster, record: &ReleaseRecord) -> Result<(), SyncError> {
    let (target, mut secret) = secret(cluster, record).await?;
    if let Some(holder) = Holder::current() {
        secret["metadata"]["annotations"][HOLDER_ANNOTATION] = Value::String(holder.to_string());
    }
    match cluster.create(&target, &secret).await {
        Ok(_) => Ok(()),
        Err(err) if err.is_conflict() => Err(SyncError::Locked {
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

/// Makes room for one more revision under a limit of `max` records (historyMax; 0 keeps
/// them all), as Helm's storage does before it creates one: the least recent go, except
/// the last deployed revision, which a rollback needs.
pub async fn make_room(
    cluster: &Cluster,
    history: &[ReleaseRecord],
    max: usize,
) -> Result<(), SyncError> {
    let stale = least_recent(history, max);
    delete_all(cluster, &stale).await
}

/// The records, oldest first, to delete so that `history` has room for one more under
/// `max`, the last deployed one kept.
fn least_recent(history: &[ReleaseRecord], max: usize) -> Vec<ReleaseRecord> {
    let keep = max.saturating_sub(1);
    if max == 0 || history.len() <= keep {
        return Vec::new();
    }
    let deployed = record::deployed(history).map(|d| d.version);
    history
        .iter()
        .filter(|r| Some(r.version) != deployed)
        .take(history.len() - keep)
        .cloned()
        .collect()
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

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::least_recent;
    use crate::record::{ReleaseRecord, Revision, Status};

    /// Revisions 1..=statuses.len() with these statuses, oldest first.
    fn history(statuses: &[Status]) -> Vec<ReleaseRecord> {
        let mut records: Vec<ReleaseRecord> = Vec::new();
        for status in statuses {
            let mut record =
                ReleaseRecord::pending(Revision::default(), &records, Timestamp::UNIX_EPOCH);
            record.finish(*status, "");
            records.push(record);
        }
        records
    }

    fn versions(records: &[ReleaseRecord]) -> Vec<u32> {
        records.iter().map(|r| r.version).collect()
    }

    #[test]
    fn room_for_one_more_under_the_limit_keeps_the_newest() {
        use Status::{Deployed, Superseded};
        let all = history(&[Superseded, Superseded, Superseded, Deployed]);
        assert_eq!(versions(&least_recent(&all, 2)), vec![1, 2, 3]);
        assert_eq!(versions(&least_recent(&all, 3)), vec![1, 2]);
        assert!(least_recent(&all, 5).is_empty());
        assert!(least_recent(&all, 0).is_empty(), "0 keeps every record");
    }

    #[test]
    fn the_last_deployed_revision_is_never_removed() {
        use Status::{Deployed, Failed, Superseded};
        let all = history(&[Superseded, Deployed, Failed, Failed]);
        // Room for one under 2: one record stays, and it is the deployed one.
        assert_eq!(versions(&least_recent(&all, 2)), vec![1, 3, 4]);
    }
}
