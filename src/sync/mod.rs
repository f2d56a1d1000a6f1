//! The sync stage: hooks, apply in Helm's kind order, readiness, prune, records.

pub mod executor;
pub mod hooks;
pub mod order;
pub mod readiness;
