//! orch: a Helmfile-style orchestrator for many Helm releases.
//!
//! Data flows one way: `config` (releases files -> `Spec`) -> `plan` (DAG and selection)
//! -> `render` (charts -> manifests) -> `report` (what the user sees). `cli` wires them.

pub mod config;
pub mod plan;
pub mod render;
pub mod report;

pub mod cli;
