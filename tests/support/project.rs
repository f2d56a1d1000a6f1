//! A releases file in a temporary directory, and orch run on it against the test cluster.

use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::{Api, ListParams};
use orch::record::{ReleaseRecord, from_secret};

use super::cluster::orch;

pub struct Project {
    dir: tempfile::TempDir,
}

/// What one orch run printed, and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Fails the test, showing both streams, unless orch exited with `code`.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "orch exited {} (expected {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// The chart the engine tests steer through values (tests/fixtures/engine/app).
pub fn engine_chart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/engine/app")
}

/// A releases file of `releases` — (name, extra YAML lines of the release) — in
/// `namespace`, all on the engine chart.
pub fn engine_releases(namespace: &str, releases: &[(&str, &str)]) -> String {
    let chart = engine_chart();
    let mut text = String::from("helmDefaults:\n  timeout: 60\nreleases:\n");
    for (name, extra) in releases {
        text.push_str(&format!(
            "  - name: {name}\n    namespace: {namespace}\n    chart: {}\n",
            chart.display()
        ));
        for line in extra.lines() {
            text.push_str(&format!("    {line}\n"));
        }
    }
    text
}

impl Project {
    pub fn new(releases: &str) -> Project {
        let project = Project {
            dir: tempfile::tempdir().expect("a temporary directory"),
        };
        project.write("helmfile.yaml", releases);
        project
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, path: &str, text: &str) {
        let path = self.dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create dirs");
        std::fs::write(path, text).expect("write a test file");
    }

    /// orch in the project's directory with `args`, to run or spawn.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = orch();
        command.current_dir(self.dir.path()).args(args);
        command
    }

    pub fn orch(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().expect("run orch");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "orch panicked:\n{stderr}");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr,
        }
    }
}

/// A release's revisions as stored in the cluster, oldest first.
pub async fn records(client: &Client, namespace: &str, release: &str) -> Vec<ReleaseRecord> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let list = secrets
        .list(&ListParams::default().labels(&format!("owner=helm,name={release}")))
        .await
        .expect("list release records");
    let mut records: Vec<ReleaseRecord> = list
        .items
        .iter()
        .map(|secret| {
            from_secret(&serde_json::to_value(secret).expect("json")).expect("a Helm record")
        })
        .collect();
    records.sort_by_key(|r| r.version);
    records
}

/// The statuses of a release's revisions, oldest first.
pub async fn revision_statuses(
    client: &Client,
    namespace: &str,
    release: &str,
) -> Vec<orch::record::Status> {
    records(client, namespace, release)
        .await
        .iter()
        .map(|r| r.info.status)
        .collect()
}
