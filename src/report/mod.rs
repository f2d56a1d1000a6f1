//! What the user sees: tables, graphs, manifests and JSON, built from plain data.

pub mod chart_tests;
pub mod diff_summary;
pub mod graph;
pub mod history;
pub mod manifests;
pub mod progress;
pub mod releases;
pub mod run;
pub mod status;
mod table;

pub use table::table;
