//! Running the `orch` binary as a user does, for tests that need no cluster.
// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

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

/// The helmfile binary the comparison tests run: `ORCH_HELMFILE_BINARY`, else `helmfile`
/// from PATH. Fails the test, saying how to install it, when there is none.
pub fn helmfile() -> PathBuf {
    let binary = std::env::var_os("ORCH_HELMFILE_BINARY")
        .map_or_else(|| PathBuf::from("helmfile"), PathBuf::from);
    let found = Command::new(&binary)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "helmfile not found ({}): `hack/tools.sh helmfile` installs it, `make test` puts it on PATH",
        binary.display()
    );
    binary
}

/// Runs `command` to its end like `finish(command.output())`, but fails the test, with
/// what it printed so far, if it runs longer than `timeout`: a command waiting on a network
/// peer that never answers fails instead of hanging the test run.
pub fn run_with_timeout(command: &mut Command, timeout: Duration) -> (i32, String, String) {
    use std::io::Read;
    use std::process::Stdio;

    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("piped stderr")));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the command") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stdout = String::from_utf8_lossy(&stdout.join().unwrap_or_default()).into_owned();
            let stderr = String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned();
            panic!(
                "{command:?} still ran after {timeout:?}, killed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    finish(Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    })
}
