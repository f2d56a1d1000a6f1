//! Running the `orch` binary as a user does, for tests that need no cluster.
// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;

/// The repository root: the example system lives here.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs orch in `dir` with `args`; returns (exit code, stdout, stderr).
pub fn orch(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_orch"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run orch");
    finish(output)
}

pub fn finish(output: Output) -> (i32, String, String) {
    let code = output.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "orch panicked:\n{stderr}");
    (
        code,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr,
    )
}

/// Runs orch and fails the test unless it exits 0; returns stdout.
pub fn orch_ok(dir: &Path, args: &[&str]) -> String {
    let (code, stdout, stderr) = orch(dir, args);
    assert_eq!(code, 0, "orch {args:?} failed:\n{stderr}");
    stdout
}

/// The objects of a multi-document YAML stream, as canonical JSON strings, sorted.
pub fn objects(stream: &str) -> Vec<String> {
    let mut objects: Vec<String> = serde_yaml_ng::Deserializer::from_str(stream)
        .map(|doc| serde_json::Value::deserialize(doc).expect("valid YAML document"))
        .filter(|value| !value.is_null())
        .map(|value| serde_json::to_string(&value).expect("serializes"))
        .collect();
    objects.sort();
    objects
}
