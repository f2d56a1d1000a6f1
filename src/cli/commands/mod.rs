pub mod graph;
pub mod lint;
pub mod list;
pub mod template;
pub mod write_values;
