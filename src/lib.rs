//! orch: a Helmfile-style orchestrator for many Helm releases.
//!
//! Data flows one way: `config` (releases files -> `Spec`) -> `plan` (DAG and selection)
//! -> `fetch` (chart references -> chart directories) -> `render` (charts -> manifests)
//! -> `diff` (against the live cluster) -> `sync` (hooks, apply, wait, prune, `record`s)
//! -> `report` (what the user sees). `cli` wires them.

pub mod cli;
pub mod cluster;
pub mod config;
pub mod diff;
pub mod fetch;
pub mod plan;
pub mod record;
pub mod render;
pub mod report;
pub mod sync;
