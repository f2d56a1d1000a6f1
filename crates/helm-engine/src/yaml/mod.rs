//! YAML as Helm writes and reads it (go-yaml v2 behind sigs.k8s.io/yaml), for `toYaml` and
//! `fromYaml` and for loading Chart.yaml and values files; and `toToml`.

pub mod emit;
mod libyaml;
pub mod parse;
mod scalar;
pub mod toml;
