//! One release, installed or upgraded: lock with a pending record, pre hooks, apply in
//! waves, wait, post hooks, prune, and record the outcome truthfully. A release whose
//! objects, values, chart version and manifest are unchanged is left alone: no hook runs,
//! nothing is written.

use futures::{StreamExt, TryStreamExt, stream};
use jiff::Timestamp;
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::cluster::{Cluster, Target};
use crate::config::ReleaseSpec;
use crate::record::{self, ChartInfo, HookRecord, HookRun, ReleaseRecord, Revision, Status};
use crate::render::{Manifest, ObjectKey, manifest};

use super::compare::{compare, owned};
use super::hook_runner::run_hooks;
use super::hooks::{Hook, HookEvent, hooks_for, split_hooks};
use super::order::{apply_waves, uninstall_order};
use super::readiness;
use super::wait::{Until, wait_for};
use super::{Action, Progress, ReleaseReport, SyncError, SyncOptions, history};
use crate::config::HookEvent as StateEvent;

/// How long writing a failed release's record may take.
const RECORD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Objects applied at once within one wave.
const PARALLEL_APPLIES: usize = 16;

/// What one release's sync needs from the earlier stages.
pub struct ReleaseWork<'a> {
    /// What the release's helmfile hooks render their arguments with.
    pub spec: &'a crate::config::Spec,
    pub release: &'a ReleaseSpec,
    pub manifests: &'a [Manifest],
    pub values: &'a Value,
    pub chart: &'a Value,
}

/// What a first look at a release found: its revisions, and the deployed revision when a
/// sync would change nothing.
pub struct Prepared {
    history: Vec<ReleaseRecord>,
    unchanged: Option<u32>,
}

/// The first look at a release: needs nothing of other releases and writes nothing, so
/// every release is prepared at once before the DAG walk, and unchanged ones cost no turn
/// in it. The live objects are compared only when the record says nothing changed, to
/// catch drift.
pub async fn prepare(
    cluster: &Cluster,
    work: &ReleaseWork<'_>,
    options: &SyncOptions,
    progress: &dyn Progress,
) -> Result<Prepared, SyncError> {
    let id = &work.release.id;
    let history = history::load(cluster, id).await?;
    let (_, objects) = split_hooks(work.manifests)?;
    let config = work.values.as_object().cloned().unwrap_or_default();
    let deployed = record::deployed(&history)
        .filter(|d| record::latest(&history).map(|r| r.version) == Some(d.version))
        .filter(|d| same_objects(&d.manifest, &objects) && d.config == config)
        .filter(|d| {
            // A new chart version is a new revision even when it renders the same objects,
            // so that `helm list` and `orch status` name the chart that is deployed.
            let field = |key| {
                work.chart
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            };
            d.chart.metadata.name == field("name") && d.chart.metadata.version == field("version")
        })
        .map(|d| d.version);
    let unchanged = match deployed {
        Some(version) => {
            progress.step(id, "comparing with the cluster");
            let owned = owned(record::deployed(&history), &id.namespace);
            let live = compare(
                cluster,
                work.release,
                &objects,
                options.force_conflicts || work.release.force_conflicts,
                &owned,
            )
            .await?;
            (!live.iter().any(|object| object.changed())).then_some(version)
        }
        None => None,
    };
    Ok(Prepared { history, unchanged })
}

pub async fn sync_release(
    cluster: &Cluster,
    work: &ReleaseWork<'_>,
    prepared: Prepared,
    options: &SyncOptions,
    progress: &dyn Progress,
) -> Result<ReleaseReport, SyncError> {
    if let Some(version) = prepared.unchanged {
        return Ok(ReleaseReport {
            action: Action::NoChange,
            revision: Some(version),
        });
    }
    super::events::run_in_walk(work.spec, work.release, StateEvent::Presync, None, progress)?;
    let result = install_or_upgrade(cluster, work, prepared.history, options, progress).await;
    let error = result.as_ref().err().map(ToString::to_string);
    let post = super::events::run_in_walk(
        work.spec,
        work.release,
        StateEvent::Postsync,
        error.as_deref(),
        progress,
    );
    // The sync's own failure is the one to report; a failing postsync fails a sync that
    // worked.
    let report = result?;
    post?;
    Ok(report)
}

/// A new revision of a release that changes: recorded pending, applied, recorded as it
/// ended, rolled back when atomic.
async fn install_or_upgrade(
    cluster: &Cluster,
    work: &ReleaseWork<'_>,
    mut history: Vec<ReleaseRecord>,
    options: &SyncOptions,
    progress: &dyn Progress,
) -> Result<ReleaseReport, SyncError> {
    let release = work.release;
    let id = &release.id;
    history::unlock(cluster, id, &mut history, options.force_unlock).await?;
    let (hooks, objects) = split_hooks(work.manifests)?;
    let manifest = record::manifest_text(&objects);
    let config = work.values.as_object().cloned().unwrap_or_default();
    let deployed = record::deployed(&history);

    if release.create_namespace {
        cluster.ensure_namespace(&id.namespace).await?;
    } else if !cluster.namespace_exists(&id.namespace).await? {
        return Err(SyncError::NamespaceMissing(id.namespace.clone()));
    }
    let revision = Revision {
        name: id.name.clone(),
        namespace: id.namespace.clone(),
        chart: chart_info(work.chart),
        config,
        manifest,
        hooks: hooks.iter().map(hook_record).collect(),
        notes: String::new(),
    };
    let mut record = ReleaseRecord::pending(revision, &history, Timestamp::now());
    let installing = record.info.status == Status::PendingInstall;
    history::make_room(cluster, &history, release.history_max).await?;
    history::create(cluster, &record).await?;

    let steps = Steps {
        cluster,
        release,
        options,
        progress,
        created: std::sync::Mutex::default(),
    };
    let previous_objects = deployed
        .map(|d| manifest::parse_stored(&d.manifest))
        .unwrap_or_default();
    let events = if installing {
        (HookEvent::PreInstall, HookEvent::PostInstall)
    } else {
        (HookEvent::PreUpgrade, HookEvent::PostUpgrade)
    };
    let outcome = steps
        .apply(
            &hooks,
            &objects,
            &previous_objects,
            events,
            &mut record.hooks,
        )
        .await;
    match outcome {
        Ok(()) => {
            let done = if installing {
                "Install complete"
            } else {
                "Upgrade complete"
            };
            record.finish(Status::Deployed, done);
            history::save(cluster, &record).await?;
            if let Some(deployed) = deployed {
                let mut superseded = deployed.clone();
                superseded.supersede();
                history::save(cluster, &superseded).await?;
            }
            Ok(ReleaseReport {
                action: if installing {
                    Action::Install
                } else {
                    Action::Upgrade
                },
                revision: Some(record.version),
            })
        }
        Err(cause) => {
            record.finish(
                Status::Failed,
                format!("Release \"{}\" failed: {cause}", id.name),
            );
            // Bounded: when the API server is what failed, waiting on it helps nobody; the
            // pending revision is then taken over by the next run.
            let recorded = tokio::time::timeout(RECORD_TIMEOUT, history::save(cluster, &record))
                .await
                .unwrap_or_else(|_| {
                    Err(SyncError::Timeout {
                        objects: vec![format!(
                            "the release record: no answer in {RECORD_TIMEOUT:?}"
                        )],
                    })
                });
            if let Err(unrecorded) = recorded {
                return Err(SyncError::Unrecorded {
                    cause: Box::new(cause),
                    revision: record.version,
                    error: Box::new(unrecorded),
                });
            }
            if release.cleanup_on_fail && !installing {
                let created = steps.created.lock().map(|c| c.clone()).unwrap_or_default();
                if !created.is_empty() {
                    progress.step(
                        id,
                        &format!(
                            "deleting what the failed upgrade created ({} objects)",
                            created.len()
                        ),
                    );
                    // The upgrade's own failure stays the release's error; a deletion that
                    // fails too is shown.
                    for target in &created {
                        if let Err(err) = cluster.delete(target).await {
                            progress.step(id, &format!("could not delete {target}: {err}"));
                        }
                    }
                }
            }
            if !(release.atomic || options.atomic) {
                return Err(cause);
            }
            progress.step(id, "rolling back");
            let rollback = match deployed {
                Some(deployed) => steps.roll_back(deployed, &objects, &record, &history).await,
                None => steps.remove_install(&objects, &history, &record).await,
            };
            Err(SyncError::RolledBack {
                cause: Box::new(cause),
                rollback: rollback.unwrap_or_else(|e| format!("the rollback failed too: {e}")),
            })
        }
    }
}

/// The steps of a new revision, for a sync and for `orch rollback`.
pub(super) struct Steps<'a> {
    pub cluster: &'a Cluster,
    pub release: &'a ReleaseSpec,
    pub options: &'a SyncOptions,
    pub progress: &'a dyn Progress,
    /// With `cleanupOnFail`: the objects this upgrade created, deleted if it fails.
    pub created: std::sync::Mutex<Vec<Target>>,
}

impl Steps<'_> {
    /// Hooks, apply, wait, hooks, prune: everything between the pending record and the
    /// final one. `events` are the hooks run before the objects are applied and after
    /// they are ready, e.g. pre-upgrade and post-upgrade.
    pub async fn apply(
        &self,
        hooks: &[Hook<'_>],
        objects: &[&Manifest],
        previous_objects: &[Manifest],
        (pre, post): (HookEvent, HookEvent),
        hook_records: &mut [HookRecord],
    ) -> Result<(), SyncError> {
        let id = &self.release.id;
        self.hooks(pre, hooks, hook_records).await?;
        self.progress
            .step(id, &format!("applying {} objects", objects.len()));
        self.apply_objects(objects, previous_objects).await?;
        if self.release.wait {
            self.progress.step(id, "waiting for readiness");
            self.wait_ready(objects).await?;
        }
        self.hooks(post, hooks, hook_records).await?;
        self.prune(objects, previous_objects).await
    }

    async fn hooks(
        &self,
        event: HookEvent,
        hooks: &[Hook<'_>],
        records: &mut [HookRecord],
    ) -> Result<(), SyncError> {
        let selected = hooks_for(event, hooks);
        if selected.is_empty() {
            return Ok(());
        }
        self.progress.step(
            &self.release.id,
            &format!("running {} {event} hooks", selected.len()),
        );
        let deadline = Instant::now() + self.release.timeout;
        run_hooks(
            self.cluster,
            &self.release.id.namespace,
            &selected,
            records,
            deadline,
        )
        .await
    }

    /// Applies in Helm's kind order, wave by wave, each wave's objects in parallel.
    /// Objects the release `owned` already (its deployed revision had them) are applied
    /// with force: fields another manager took from them, e.g. `helm` after a
    /// `helm rollback` or the `helm install` orch adopts, go back to the release.
    async fn apply_objects(
        &self,
        objects: &[&Manifest],
        owned: &[Manifest],
    ) -> Result<(), SyncError> {
        let namespace = &self.release.id.namespace;
        let owned: std::collections::HashSet<ObjectKey> =
            owned.iter().filter_map(|m| m.key(namespace)).collect();
        for wave in apply_waves(objects) {
            stream::iter(wave.iter().copied())
                .map(|manifest| {
                    let force = self.options.force_conflicts
                        || self.release.force_conflicts
                        || manifest
                            .key(namespace)
                            .is_some_and(|key| owned.contains(&key));
                    let new = manifest
                        .key(namespace)
                        .is_some_and(|key| !owned.contains(&key));
                    async move {
                        let target = self.cluster.target(&manifest.object, namespace).await?;
                        // helm's --cleanup-on-fail deletes only what the upgrade created.
                        let creates = self.release.cleanup_on_fail
                            && new
                            && self.cluster.get(&target).await?.is_none();
                        match self
                            .cluster
                            .apply(&target, &manifest.object, false, force)
                            .await
                        {
                            Err(err) if self.release.force && err.is_immutable_field() => {
                                self.progress.step(
                                    &self.release.id,
                                    &format!(
                                        "replacing {target} (force: an immutable field changes)"
                                    ),
                                );
                                self.cluster
                                    .replace(&target, &manifest.object, force, self.release.timeout)
                                    .await?;
                            }
                            applied => {
                                applied?;
                            }
                        }
                        if creates && let Ok(mut created) = self.created.lock() {
                            created.push(target);
                        }
                        Ok::<_, SyncError>(())
                    }
                })
                .buffer_unordered(PARALLEL_APPLIES)
                .try_collect::<()>()
                .await?;
            // Custom resources of a later wave are accepted only once their CRD is established.
            let mut crds = Vec::new();
            for manifest in wave
                .iter()
                .filter(|m| m.kind() == Some("CustomResourceDefinition"))
            {
                crds.push(self.cluster.target(&manifest.object, namespace).await?);
            }
            let deadline = Instant::now() + self.release.timeout;
            wait_for(
                self.cluster,
                &crds,
                Until::Ready(readiness::readiness),
                deadline,
            )
            .await?;
        }
        Ok(())
    }

    async fn wait_ready(&self, objects: &[&Manifest]) -> Result<(), SyncError> {
        let claims = objects
            .iter()
            .any(|m| m.kind() == Some("PersistentVolumeClaim"));
        let classes = if claims {
            self.cluster.storage_classes().await?
        } else {
            Vec::new()
        };
        let mut targets = Vec::new();
        for manifest in objects {
            // A claim no StorageClass provisions stays Pending until someone binds it by
            // hand; waiting for it would only time out.
            if manifest.kind() == Some("PersistentVolumeClaim")
                && !would_bind(&manifest.object, &classes)
            {
                continue;
            }
            targets.push(
                self.cluster
                    .target(&manifest.object, &self.release.id.namespace)
                    .await?,
            );
        }
        let deadline = Instant::now() + self.release.timeout;
        wait_for(
            self.cluster,
            &targets,
            Until::Ready(readiness::readiness),
            deadline,
        )
        .await
    }

    /// Deletes what `previous` had and `current` no longer renders, in uninstall order.
    async fn prune(&self, current: &[&Manifest], previous: &[Manifest]) -> Result<(), SyncError> {
        let namespace = &self.release.id.namespace;
        let kept: std::collections::HashSet<ObjectKey> =
            current.iter().filter_map(|m| m.key(namespace)).collect();
        let mut gone: Vec<&Manifest> = previous
            .iter()
            .filter(|m| m.key(namespace).is_some_and(|key| !kept.contains(&key)))
            .collect();
        if gone.is_empty() {
            return Ok(());
        }
        self.progress
            .step(&self.release.id, &format!("pruning {} objects", gone.len()));
        uninstall_order(&mut gone);
        for manifest in gone {
            let target = self.cluster.target(&manifest.object, namespace).await?;
            self.cluster.delete(&target).await?;
        }
        Ok(())
    }

    /// Puts the last deployed revision's objects back and records that as a new revision.
    async fn roll_back(
        &self,
        deployed: &ReleaseRecord,
        failed_objects: &[&Manifest],
        failed: &ReleaseRecord,
        history: &[ReleaseRecord],
    ) -> Result<String, SyncError> {
        let restored = manifest::parse_stored(&deployed.manifest);
        let restored_refs: Vec<&Manifest> = restored.iter().collect();
        self.apply_objects(&restored_refs, &restored).await?;
        let failed_owned: Vec<Manifest> = failed_objects.iter().map(|m| (*m).clone()).collect();
        self.prune(&restored_refs, &failed_owned).await?;
        if self.release.wait {
            self.wait_ready(&restored_refs).await?;
        }
        let mut all = history.to_vec();
        all.push(failed.clone());
        let revision = Revision {
            name: deployed.name.clone(),
            namespace: deployed.namespace.clone(),
            chart: deployed.chart.clone(),
            config: deployed.config.clone(),
            manifest: deployed.manifest.clone(),
            hooks: deployed.hooks.clone(),
            notes: deployed.info.notes.clone(),
        };
        let mut record = ReleaseRecord::pending(revision, &all, Timestamp::now());
        record.finish(
            Status::Deployed,
            format!("Rollback to {}", deployed.version),
        );
        history::make_room(self.cluster, &all, self.release.history_max).await?;
        history::create(self.cluster, &record).await?;
        let mut superseded = deployed.clone();
        superseded.supersede();
        history::save(self.cluster, &superseded).await?;
        Ok(format!(
            "revision {} restores revision {}",
            record.version, deployed.version
        ))
    }

    /// A failed first install, undone: its objects and its record go, as Helm's --atomic does.
    async fn remove_install(
        &self,
        objects: &[&Manifest],
        history: &[ReleaseRecord],
        failed: &ReleaseRecord,
    ) -> Result<String, SyncError> {
        let owned: Vec<Manifest> = objects.iter().map(|m| (*m).clone()).collect();
        self.prune(&[], &owned).await?;
        let mut all = history.to_vec();
        all.push(failed.clone());
        history::delete_all(self.cluster, &all).await?;
        Ok("the failed install was removed".to_string())
    }
}

/// Whether a stored manifest holds the same objects from the same templates as `objects`:
/// text that differs only in how YAML writes the same values (a quoted or a plain
/// scalar, as a chart's install and upgrade paths may write one password) is no change.
fn same_objects(stored: &str, objects: &[&Manifest]) -> bool {
    let mut old = manifest::parse_stored(stored);
    if old.len() != objects.len() {
        return false;
    }
    // Values compare as JSON, whatever the order of their keys.
    objects.iter().all(|new| {
        match old
            .iter()
            .position(|m| m.source == new.source && m.object == new.object)
        {
            Some(found) => {
                old.swap_remove(found);
                true
            }
            None => false,
        }
    })
}

/// Whether a provisioner will bind `claim`: its StorageClass exists, or it names none and
/// a default class exists. `classes` are (name, is default).
fn would_bind(claim: &Value, classes: &[(String, bool)]) -> bool {
    match claim
        .pointer("/spec/storageClassName")
        .and_then(Value::as_str)
    {
        Some("") => false,
        Some(name) => classes.iter().any(|(class, _)| class == name),
        None => classes.iter().any(|(_, default)| *default),
    }
}

fn chart_info(chart: &Value) -> ChartInfo {
    ChartInfo {
        metadata: serde_json::from_value(chart.clone()).unwrap_or_default(),
        values: Map::new(),
        other: Map::new(),
    }
}

fn hook_record(hook: &Hook<'_>) -> HookRecord {
    HookRecord {
        name: hook.manifest.name().unwrap_or_default().to_string(),
        kind: hook.manifest.kind().unwrap_or_default().to_string(),
        path: hook.manifest.source.clone(),
        manifest: hook.manifest.text.clone(),
        events: hook.events.iter().map(|e| e.as_str().to_string()).collect(),
        last_run: HookRun::default(),
        weight: i32::try_from(hook.weight).unwrap_or_default(),
        delete_policies: hook
            .delete_policies
            .iter()
            .map(|p| p.as_str().to_string())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_manifest_that_writes_the_same_objects_differently_is_unchanged() {
        let stored = "---\n# Source: c/templates/s.yaml\nkind: Secret\ndata:\n  p: \"YQ==\"\n";
        let same = manifest::split(
            "# Source: c/templates/s.yaml\nkind: Secret\ndata:\n  p: YQ==\n",
            "",
            manifest::Reading::Whole,
        )
        .unwrap();
        assert!(same_objects(stored, &same.iter().collect::<Vec<_>>()));
        let moved = manifest::split(
            "# Source: c/templates/t.yaml\nkind: Secret\ndata:\n  p: YQ==\n",
            "",
            manifest::Reading::Whole,
        )
        .unwrap();
        assert!(
            !same_objects(stored, &moved.iter().collect::<Vec<_>>()),
            "another template"
        );
        let changed = manifest::split(
            "# Source: c/templates/s.yaml\nkind: Secret\ndata:\n  p: Yg==\n",
            "",
            manifest::Reading::Whole,
        )
        .unwrap();
        assert!(!same_objects(stored, &changed.iter().collect::<Vec<_>>()));
    }

    #[test]
    fn claims_are_awaited_only_where_a_class_provisions_them() {
        let classes = vec![("fast".to_string(), false), ("standard".to_string(), true)];
        assert!(would_bind(
            &json!({"spec": {"storageClassName": "fast"}}),
            &classes
        ));
        assert!(would_bind(&json!({"spec": {}}), &classes));
        assert!(!would_bind(
            &json!({"spec": {"storageClassName": "slow"}}),
            &classes
        ));
        assert!(!would_bind(
            &json!({"spec": {"storageClassName": ""}}),
            &classes
        ));
        assert!(!would_bind(
            &json!({"spec": {}}),
            &[("fast".to_string(), false)]
        ));
        assert!(!would_bind(&json!({"spec": {}}), &[]));
    }
}
