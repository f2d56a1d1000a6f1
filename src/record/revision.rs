//! How a revision begins, ends and is replaced, with the statuses and descriptions Helm
//! gives it, and which revision of a history is the current one.

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::release::{ChartInfo, HookRecord, Info, ReleaseRecord, Status};
use crate::render::manifest::Manifest;

/// What a sync is about to apply for one release: the content of its next revision.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Revision {
    pub name: String,
    pub namespace: String,
    pub chart: ChartInfo,
    pub config: Map<String, Value>,
    /// See [`ReleaseRecord::manifest`] and [`manifest_text`].
    pub manifest: String,
    pub hooks: Vec<HookRecord>,
    pub notes: String,
}

impl ReleaseRecord {
    /// The record to write before touching the cluster, as Helm does: pending-install
    /// at revision 1 (or after an uninstall that kept history), else pending-upgrade,
    /// numbered after the latest revision of `history` whatever its status.
    pub fn pending(revision: Revision, history: &[ReleaseRecord], now: Timestamp) -> Self {
        let previous = latest(history);
        let upgrading = previous.filter(|p| p.info.status != Status::Uninstalled);
        let (status, description, first_deployed) = match upgrading {
            Some(previous) => (
                Status::PendingUpgrade,
                "Preparing upgrade",
                previous.info.first_deployed,
            ),
            None => (Status::PendingInstall, "Initial install underway", now),
        };
        ReleaseRecord {
            name: revision.name,
            info: Info {
                first_deployed,
                last_deployed: now,
                deleted: None,
                description: description.to_owned(),
                status,
                notes: revision.notes,
            },
            chart: revision.chart,
            config: revision.config,
            manifest: revision.manifest,
            hooks: revision.hooks,
            version: previous.map_or(1, |p| p.version + 1),
            namespace: revision.namespace,
        }
    }

    /// The record `helm rollback` writes before touching the cluster: pending-rollback,
    /// numbered after `latest`, with the chart, values, manifest, hooks and notes of
    /// `restored`, the revision to go back to.
    pub fn rolling_back(restored: &ReleaseRecord, latest: &ReleaseRecord, now: Timestamp) -> Self {
        ReleaseRecord {
            name: restored.name.clone(),
            info: Info {
                first_deployed: latest.info.first_deployed,
                last_deployed: now,
                deleted: None,
                description: format!("Rollback to {}", restored.version),
                status: Status::PendingRollback,
                notes: restored.info.notes.clone(),
            },
            chart: restored.chart.clone(),
            config: restored.config.clone(),
            manifest: restored.manifest.clone(),
            hooks: restored
                .hooks
                .iter()
                .map(|hook| HookRecord {
                    last_run: Default::default(),
                    ..hook.clone()
                })
                .collect(),
            version: latest.version + 1,
            namespace: latest.namespace.clone(),
        }
    }

    /// Ends a pending revision, e.g. `Deployed` with "Install complete" or "Upgrade
    /// complete", or `Failed` with `Release "x" failed: <why>`. `last_deployed` stays
    /// when the revision began, as in Helm.
    pub fn finish(&mut self, status: Status, description: impl Into<String>) {
        self.info.status = status;
        self.info.description = description.into();
    }

    /// Marks a revision replaced by a newer deployed one. Helm changes only the status:
    /// `helm history` keeps showing how the revision itself went.
    pub fn supersede(&mut self) {
        self.info.status = Status::Superseded;
    }
}

/// The newest revision, whatever its status: the one a new revision is numbered after.
pub fn latest(history: &[ReleaseRecord]) -> Option<&ReleaseRecord> {
    history.iter().max_by_key(|record| record.version)
}

/// The newest deployed revision: what the cluster should be running, and the one to
/// supersede once a new revision is deployed.
pub fn deployed(history: &[ReleaseRecord]) -> Option<&ReleaseRecord> {
    history
        .iter()
        .filter(|record| record.info.status == Status::Deployed)
        .max_by_key(|record| record.version)
}

/// [`ReleaseRecord::manifest`] from the non-hook objects in the order they were
/// applied, in the layout `helm get manifest` prints and Helm splits on `---`.
pub fn manifest_text(objects: &[&Manifest]) -> String {
    objects
        .iter()
        .map(|object| {
            format!(
                "---\n# Source: {}\n{}\n",
                object.source,
                object.text.trim_end_matches('\n')
            )
        })
        .collect()
}
