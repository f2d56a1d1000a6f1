//! Which resource serves each apiVersion/kind, and whether it is namespaced. Discovered
//! once per run; a kind not found triggers one fresh discovery, so CRDs created earlier in
//! the same sync are found.

use kube::core::GroupVersionKind;
use kube::discovery::{ApiResource, Discovery, Scope};
use tokio::sync::RwLock;

use super::ClusterError;

pub struct Resources {
    discovery: RwLock<Discovery>,
    /// What Helm's `.Capabilities.APIVersions` holds for this server: every group/version
    /// served at the start, and `group/version/Kind` for each of its kinds.
    pub api_versions: Vec<String>,
}

impl Resources {
    pub async fn discover(client: &kube::Client) -> Result<Self, kube::Error> {
        let discovery = Discovery::new(client.clone()).run().await?;
        Ok(Resources {
            api_versions: api_versions(&discovery),
            discovery: RwLock::new(discovery),
        })
    }

    pub async fn resolve(
        &self,
        client: &kube::Client,
        api_version: &str,
        kind: &str,
    ) -> Result<(ApiResource, bool), ClusterError> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        if let Some(found) = self.lookup(&gvk).await {
            return Ok(found);
        }
        let fresh =
            Discovery::new(client.clone())
                .run()
                .await
                .map_err(|e| ClusterError::Unreachable {
                    server: "discovery".into(),
                    message: e.to_string(),
                })?;
        *self.discovery.write().await = fresh;
        self.lookup(&gvk)
            .await
            .ok_or_else(|| ClusterError::UnknownKind {
                api_version: api_version.to_string(),
                kind: kind.to_string(),
            })
    }

    async fn lookup(&self, gvk: &GroupVersionKind) -> Option<(ApiResource, bool)> {
        let discovery = self.discovery.read().await;
        discovery
            .resolve_gvk(gvk)
            .map(|(resource, capabilities)| (resource, capabilities.scope == Scope::Namespaced))
    }
}

/// Helm's `GetVersionSet`: each group/version, and each of its kinds as `gv/Kind`.
fn api_versions(discovery: &Discovery) -> Vec<String> {
    let mut versions = Vec::new();
    for group in discovery.groups() {
        for version in group.versions() {
            let group_version = if group.name().is_empty() {
                version.to_string()
            } else {
                format!("{}/{version}", group.name())
            };
            for (resource, _) in group.versioned_resources(version) {
                versions.push(format!("{group_version}/{}", resource.kind));
            }
            versions.push(group_version);
        }
    }
    versions.sort();
    versions.dedup();
    versions
}
