//! A release's rendered objects next to the live ones: the server-side dry-run of each
//! (the object as the server would store it) and what is stored now. Both `orch diff` and
//! `orch sync` start here; sync skips a release whose objects would not change.

use std::collections::HashSet;

use futures::{StreamExt, TryStreamExt, stream};
use serde_json::Value;

use crate::cluster::{Cluster, ClusterError, Target};
use crate::config::ReleaseSpec;
use crate::diff::{self, ObjectDiff, ObjectId};
use crate::render::{Manifest, ObjectKey, manifest};

/// Requests in flight per release while comparing.
const PARALLEL_REQUESTS: usize = 16;

pub struct LiveObject<'m> {
    pub manifest: &'m Manifest,
    pub target: Target,
    /// The dry-run result; the rendered object itself when the namespace does not exist yet.
    pub desired: Value,
    pub live: Option<Value>,
}

impl LiveObject<'_> {
    pub fn id(&self) -> ObjectId {
        object_id(&self.target, &self.desired)
    }

    pub fn diff(&self, context: usize) -> ObjectDiff {
        diff::diff_object(self.id(), self.live.as_ref(), Some(&self.desired), context)
    }

    pub fn changed(&self) -> bool {
        self.diff(0).change != diff::Change::Unchanged
    }
}

pub fn object_id(target: &Target, object: &Value) -> ObjectId {
    ObjectId {
        api_version: object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        kind: target.kind().to_string(),
        namespace: target.namespace().map(str::to_string),
        name: target.name.clone(),
    }
}

/// The objects a release owns: those of its deployed revision. Sync applies them with
/// force (fields another manager took, e.g. `helm` after `helm rollback`, go back), so
/// the dry-run that previews it does too.
pub fn owned(
    deployed: Option<&crate::record::ReleaseRecord>,
    namespace: &str,
) -> HashSet<ObjectKey> {
    deployed
        .map(|d| manifest::parse_stored(&d.manifest))
        .unwrap_or_default()
        .iter()
        .filter_map(|m| m.key(namespace))
        .collect()
}

/// Dry-runs and reads every manifest of a release in `namespace`, in parallel; objects in
/// `owned`, or all with `force_conflicts`, are dry-run with force as sync applies them.
/// With the release's `disableValidation` (or `disableValidationOnInstall`, before its
/// first install), an object whose kind the cluster does not serve yet (its CRD comes with
/// another release) is shown as new instead of failing the review.
pub async fn compare<'m>(
    cluster: &Cluster,
    release: &ReleaseSpec,
    manifests: &[&'m Manifest],
    force_conflicts: bool,
    owned: &HashSet<ObjectKey>,
) -> Result<Vec<LiveObject<'m>>, ClusterError> {
    let namespace = release.id.namespace.as_str();
    // Not installed yet (nothing deployed is owned): disableValidationOnInstall applies.
    let unserved_as_new =
        release.disable_validation || (release.disable_validation_on_install && owned.is_empty());
    let namespace_exists = cluster.namespace_exists(namespace).await?;
    stream::iter(manifests.iter().copied())
        .map(|manifest| async move {
            let force = force_conflicts
                || manifest
                    .key(namespace)
                    .is_some_and(|key| owned.contains(&key));
            let target = match cluster.target(&manifest.object, namespace).await {
                // A custom resource of a CRD this release brings is new by definition; so
                // is one of a kind not served yet, when the release says to review it so.
                Err(ClusterError::UnknownKind { .. })
                    if let Some(target) = defined_in(cluster, manifest, manifests, namespace)
                        .or_else(|| {
                            unserved_as_new
                                .then(|| cluster.target_unserved(&manifest.object, namespace))
                                .flatten()
                        }) =>
                {
                    let desired = as_written(manifest, &target);
                    return Ok(LiveObject {
                        manifest,
                        target,
                        desired,
                        live: None,
                    });
                }
                other => other?,
            };
            let in_missing_namespace = target.namespace() == Some(namespace) && !namespace_exists;
            let (desired, live) = if in_missing_namespace {
                let mut desired = manifest.object.clone();
                desired["metadata"]["namespace"] = Value::String(namespace.to_string());
                (desired, None)
            } else {
                let live = cluster.get(&target).await?;
                let desired = match cluster.apply(&target, &manifest.object, true, force).await {
                    // With `force` the sync replaces the object: it is as written.
                    Err(err) if release.force && err.is_immutable_field() => {
                        as_written(manifest, &target)
                    }
                    applied => applied?,
                };
                (desired, live)
            };
            Ok(LiveObject {
                manifest,
                target,
                desired,
                live,
            })
        })
        .buffered(PARALLEL_REQUESTS)
        .try_collect()
        .await
}

/// The object as the release writes it, in its target's namespace: what a review shows
/// where no dry-run can tell what the server would store.
fn as_written(manifest: &Manifest, target: &Target) -> Value {
    let mut desired = manifest.object.clone();
    if let Some(namespace) = target.namespace() {
        desired["metadata"]["namespace"] = Value::String(namespace.to_string());
    }
    desired
}

/// The address of a custom resource whose CRD is among `manifests`.
fn defined_in(
    cluster: &Cluster,
    object: &Manifest,
    manifests: &[&Manifest],
    namespace: &str,
) -> Option<Target> {
    manifests
        .iter()
        .filter(|m| m.kind() == Some("CustomResourceDefinition"))
        .find_map(|crd| cluster.target_defined_by(&object.object, &crd.object, namespace))
}

/// The review of one release: its objects against the live ones, objects its last deployed
/// revision had that it no longer renders (removals), and the hooks an upgrade would run.
/// With `rendered` absent (`installed: false`) everything deployed is a removal.
/// `force_conflicts`: the release's sync takes fields from other managers, so its review
/// shows that.
pub async fn diff_release(
    cluster: &Cluster,
    release: &ReleaseSpec,
    rendered: Option<&[Manifest]>,
    context: usize,
) -> Result<diff::ReleaseDiff, super::SyncError> {
    let id = &release.id;
    let (hooks, objects) = match rendered {
        Some(manifests) => super::hooks::split_hooks(manifests)?,
        None => (Vec::new(), Vec::new()),
    };
    let history = super::history::load(cluster, id).await?;
    let owned = owned(crate::record::deployed(&history), &id.namespace);
    let live = compare(cluster, release, &objects, release.force_conflicts, &owned).await?;
    let mut diffs: Vec<ObjectDiff> = live.iter().map(|object| object.diff(context)).collect();
    if let Some(deployed) = crate::record::deployed(&history) {
        let rendered_keys: std::collections::HashSet<_> = objects
            .iter()
            .filter_map(|m| m.key(&id.namespace))
            .collect();
        for old in manifest::parse_stored(&deployed.manifest) {
            if old
                .key(&id.namespace)
                .is_none_or(|key| rendered_keys.contains(&key))
            {
                continue;
            }
            let target = cluster.target(&old.object, &id.namespace).await?;
            if let Some(live) = cluster.get(&target).await? {
                diffs.push(diff::diff_object(
                    object_id(&target, &live),
                    Some(&live),
                    None,
                    context,
                ));
            }
        }
    }
    let changed = diffs.iter().any(|d| d.change != diff::Change::Unchanged);
    let event = if crate::record::deployed(&history).is_some() {
        super::hooks::HookEvent::PreUpgrade
    } else {
        super::hooks::HookEvent::PreInstall
    };
    // Hooks run only when the release changes; listing them otherwise would make every
    // release with a migration look changed.
    let hooks = if changed {
        super::hooks::hooks_for(event, &hooks)
            .iter()
            .map(|hook| diff::HookToRun {
                kind: hook.manifest.kind().unwrap_or("?").to_string(),
                name: hook.manifest.name().unwrap_or("?").to_string(),
                event: event.as_str(),
                weight: hook.weight,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(diff::ReleaseDiff {
        id: id.clone(),
        objects: diffs,
        hooks,
        suppressed: false,
    })
}
