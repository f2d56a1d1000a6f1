//! `orch status`: each release's deployed revision, how many of its objects are ready, and
//! whether a sync would change anything.

use futures::future::try_join_all;

use crate::cluster::Cluster;
use crate::config::{ReleaseId, ReleaseSpec};
use crate::record;
use crate::render::{Manifest, manifest};

use super::compare::diff_release;
use super::readiness::{Readiness, readiness};
use super::{SyncError, history};

#[derive(Debug, Clone, serde::Serialize)]
pub struct ReleaseStatus {
    pub release: String,
    /// Its cluster's kube context, in a run across clusters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    pub revision: Option<u32>,
    pub status: Option<String>,
    /// Objects of the deployed revision that exist and are ready.
    pub ready: usize,
    pub total: usize,
    /// A sync would change something: the chart renders differently, or the live objects drifted.
    pub drift: bool,
}

/// A release's latest revision in the cluster and its status.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Deployed {
    pub revision: Option<u32>,
    pub status: Option<String>,
}

/// The release's latest revision and its status, for `list --cluster`.
pub async fn deployed_revision(cluster: &Cluster, id: &ReleaseId) -> Result<Deployed, SyncError> {
    let records = history::load(cluster, id).await?;
    let latest = record::latest(&records);
    Ok(Deployed {
        revision: latest.map(|r| r.version),
        status: latest.map(|r| r.info.status.as_str().to_string()),
    })
}

pub async fn release_status(
    cluster: &Cluster,
    release: &ReleaseSpec,
    rendered: Option<&[Manifest]>,
) -> Result<ReleaseStatus, SyncError> {
    let id = &release.id;
    let records = history::load(cluster, id).await?;
    let latest = record::latest(&records);
    let objects = record::deployed(&records)
        .map(|d| manifest::parse_stored(&d.manifest))
        .unwrap_or_default();
    let states = try_join_all(objects.iter().map(|manifest| async move {
        let target = cluster.target(&manifest.object, &id.namespace).await?;
        Ok::<_, SyncError>(cluster.get(&target).await?)
    }))
    .await?;
    let ready = states
        .iter()
        .filter(|state| {
            state
                .as_ref()
                .is_some_and(|object| readiness(object) == Readiness::Ready)
        })
        .count();
    let drift = diff_release(cluster, release, rendered, 0)
        .await?
        .has_changes();
    Ok(ReleaseStatus {
        release: id.to_string(),
        cluster: id.cluster.clone(),
        revision: latest.map(|r| r.version),
        status: latest.map(|r| r.info.status.as_str().to_string()),
        ready,
        total: objects.len(),
        drift,
    })
}
