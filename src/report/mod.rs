//! What the user sees: tables, graphs, manifests and JSON, built from plain data.

pub mod graph;
pub mod manifests;
pub mod releases;
mod table;

pub use table::table;
