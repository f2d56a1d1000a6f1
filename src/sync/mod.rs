//! The sync stage: hooks, apply in Helm's kind order, readiness, prune, records.
//!
//! `sync_release` and `uninstall_release` do one release; `run` walks the plan's DAG with
//! them, concurrently where needs allow.

pub mod chart_tests;
pub mod compare;
pub mod events;
pub mod executor;
mod explain;
pub mod history;
mod holder;
mod hook_runner;
pub mod hooks;
pub mod order;
pub mod readiness;
mod release;
pub mod rollback;
mod run;
pub mod status;
mod uninstall;
mod wait;

use std::fmt;

use crate::cluster::ClusterError;
use crate::config::ReleaseId;
use crate::record::RecordError;

pub use release::{ReleaseWork, sync_release};
pub use run::{ReleaseOutcome, RunReport, destroy_plan, effective_concurrency, sync_plan};
pub use uninstall::uninstall_release;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// Its cluster could not be reached when the run connected.
    #[error("{0}")]
    Unreachable(String),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Hooks(#[from] hooks::HookError),
    #[error("release {release} is locked: {detail}")]
    Locked { release: String, detail: String },
    /// `orch rollback` or `orch test` of a release without the revision asked for.
    #[error("{0}")]
    NoRevision(String),
    #[error("namespace {0} does not exist and createNamespace is false")]
    NamespaceMissing(String),
    #[error("hook {hook} failed: {reason}")]
    Hook { hook: String, reason: String },
    /// A helmfile hook of the state file failed.
    #[error("{0}")]
    StateHook(String),
    #[error("{object} failed: {reason}")]
    ObjectFailed { object: String, reason: String },
    #[error("timed out waiting for:\n  {}", objects.join("\n  "))]
    Timeout { objects: Vec<String> },
    #[error(
        "{cause}\nrecording the failure failed too ({error}): revision {revision} stays pending \
         until the next sync takes it over"
    )]
    Unrecorded {
        cause: Box<SyncError>,
        revision: u32,
        error: Box<SyncError>,
    },
    #[error("{cause}\nrolled back: {rollback}")]
    RolledBack {
        cause: Box<SyncError>,
        rollback: String,
    },
}

#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// Take over fields other field managers own (server-side apply `force`).
    pub force_conflicts: bool,
    /// `--atomic`: roll back every failed release, whatever its `atomic` says.
    pub atomic: bool,
    /// Releases worked on at once; 0 for the default.
    pub concurrency: usize,
    /// Take over releases whose latest revision a dead run left pending.
    pub force_unlock: bool,
}

/// What a release's sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Install,
    Upgrade,
    NoChange,
    Uninstall,
    /// `installed: false` and nothing to uninstall.
    Absent,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Install => "install",
            Action::Upgrade => "upgrade",
            Action::NoChange => "no change",
            Action::Uninstall => "uninstall",
            Action::Absent => "absent",
        })
    }
}

#[derive(Debug, Clone)]
pub struct ReleaseReport {
    pub action: Action,
    /// The revision the release is at afterwards.
    pub revision: Option<u32>,
}

/// Where each release of a run is; reported as it goes.
pub trait Progress: Sync {
    /// The releases of the run, in order, before any starts.
    fn planned(&self, _releases: &[&ReleaseId]) {}
    fn step(&self, release: &ReleaseId, step: &str);
    /// A release is done: its action, or why it failed or was skipped.
    fn finished(&self, _release: &ReleaseId, _outcome: &str) {}
}
