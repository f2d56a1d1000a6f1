//! YAML and JSON as Go writes and reads them, for `toYaml`/`fromYaml`/`toJson` and for
//! loading values files.

pub mod emit;
pub mod json;
pub mod parse;
mod scalar;
pub mod toml;
