//! One release removed, as `helm uninstall` does: pre-delete hooks, its objects in
//! uninstall order (waited until gone), post-delete hooks, then its records.

use tokio::time::Instant;

use crate::cluster::Cluster;
use crate::config::ReleaseId;
use crate::record::{self, Status};
use crate::render::{Manifest, manifest};

use super::hook_runner::run_hooks;
use super::hooks::{HookEvent, hooks_for, split_hooks};
use super::order::uninstall_order;
use super::wait::{Until, wait_for};
use super::{Action, Progress, ReleaseReport, SyncError, history};

pub async fn uninstall_release(
    cluster: &Cluster,
    id: &ReleaseId,
    timeout: std::time::Duration,
    force_unlock: bool,
    progress: &dyn Progress,
    state_hooks: &(dyn Fn(crate::config::HookEvent) -> Result<(), SyncError> + Sync),
) -> Result<ReleaseReport, SyncError> {
    let mut records = history::load(cluster, id).await?;
    history::unlock(cluster, id, &mut records, force_unlock).await?;
    let Some(latest) = record::latest(&records).filter(|r| r.info.status != Status::Uninstalled)
    else {
        return Ok(ReleaseReport {
            action: Action::Absent,
            revision: None,
        });
    };
    state_hooks(crate::config::HookEvent::Preuninstall)?;
    let mut uninstalling = latest.clone();
    uninstalling.finish(
        Status::Uninstalling,
        "Deletion in progress (or silently failed)",
    );
    history::save(cluster, &uninstalling).await?;

    // The hooks as the revision recorded them; Helm runs the deployed revision's.
    let hook_manifests: Vec<Manifest> = latest
        .hooks
        .iter()
        .flat_map(|hook| {
            manifest::parse_stored(&format!("# Source: {}\n{}", hook.path, hook.manifest))
        })
        .collect();
    let (hooks, _) = split_hooks(&hook_manifests)?;
    let mut hook_records = latest.hooks.clone();
    let deadline = || Instant::now() + timeout;

    let pre = hooks_for(HookEvent::PreDelete, &hooks);
    if !pre.is_empty() {
        progress.step(id, "running pre-delete hooks");
        run_hooks(cluster, &id.namespace, &pre, &mut hook_records, deadline()).await?;
    }
    let objects = manifest::parse_stored(&latest.manifest);
    let mut ordered: Vec<&Manifest> = objects.iter().collect();
    uninstall_order(&mut ordered);
    progress.step(id, &format!("deleting {} objects", ordered.len()));
    let mut targets = Vec::new();
    for manifest in ordered {
        let target = cluster.target(&manifest.object, &id.namespace).await?;
        cluster.delete(&target).await?;
        targets.push(target);
    }
    wait_for(cluster, &targets, Until::Gone, deadline()).await?;
    let post = hooks_for(HookEvent::PostDelete, &hooks);
    if !post.is_empty() {
        progress.step(id, "running post-delete hooks");
        run_hooks(cluster, &id.namespace, &post, &mut hook_records, deadline()).await?;
    }
    history::delete_all(cluster, &records).await?;
    state_hooks(crate::config::HookEvent::Postuninstall)?;
    Ok(ReleaseReport {
        action: Action::Uninstall,
        revision: None,
    })
}
