//! Rendering Helm charts through an installed `helm` binary (`helm template`).
//!
//! Values reach helm as a file in a private directory (0700, files 0600), never on the
//! command line, where other users could read them in the process list.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::config::ReleaseSpec;

use super::{ClusterView, release_revision};

/// The oldest Helm whose `template` behaves as orch expects.
const MIN_VERSION: (u64, u64) = (3, 8);
/// The oldest that renders for a cluster as `helm upgrade` (`--dry-run=server`: live
/// `lookup`), as diff and sync need.
const MIN_CONNECTED_VERSION: (u64, u64) = (3, 13);

pub struct Helm {
    binary: PathBuf,
    /// Checked on first use, so commands that render no Helm chart never need helm.
    version: OnceLock<Result<String, String>>,
    workdir: tempfile::TempDir,
}

impl Helm {
    pub fn new(binary: PathBuf) -> std::io::Result<Self> {
        let workdir = tempfile::Builder::new().prefix("orch-").tempdir()?;
        Ok(Helm {
            binary,
            version: OnceLock::new(),
            workdir,
        })
    }

    fn check_version(&self) -> Result<(), String> {
        self.version
            .get_or_init(|| {
                let output = Command::new(&self.binary)
                    .args(["version", "--template", "{{.Version}}"])
                    .output()
                    .map_err(|err| {
                        format!(
                            "cannot run helm ({}: {err}); install Helm {}.{}+ or point --helm-binary at it",
                            self.binary.display(),
                            MIN_VERSION.0,
                            MIN_VERSION.1
                        )
                    })?;
                let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
                match parse_version(&version) {
                    Some(v) if v >= MIN_VERSION => Ok(version),
                    _ => Err(format!(
                        "{} reports version `{version}`; orch needs Helm {}.{} or newer",
                        self.binary.display(),
                        MIN_VERSION.0,
                        MIN_VERSION.1
                    )),
                }
            })
            .clone()
            .map(|_| ())
    }

    /// `helm template` of one release; returns helm's stdout, or its error message. Offline
    /// the release's `kubeVersion`/`apiVersions` set the capabilities; for a cluster, helm
    /// renders as `helm upgrade` would (`--validate --dry-run=server`: the cluster's
    /// capabilities, live `lookup`, its own checks against the server) and `--is-upgrade`
    /// when the release exists.
    pub fn template(
        &self,
        release: &ReleaseSpec,
        chart_dir: &Path,
        values: &Value,
        cluster: Option<&ClusterView>,
    ) -> Result<String, String> {
        self.check_version()?;
        let values_file = self.write_values(release, values)?;
        let mut command = Command::new(&self.binary);
        command
            .arg("template")
            .arg(&release.id.name)
            .arg(chart_dir)
            .args(["--namespace", &release.id.namespace])
            .arg("--values")
            .arg(&values_file)
            .arg("--include-crds");
        if let Some(version) = release.wanted_version() {
            command.args(["--version", version]);
        }
        match cluster {
            Some(cluster) => {
                self.check_connected_version()?;
                command.args(["--validate", "--dry-run=server"]);
                command.args(&cluster.helm_access);
                if release_revision(Some(cluster), &release.id).1 {
                    command.arg("--is-upgrade");
                }
            }
            None => {
                if let Some(kube_version) = &release.kube_version {
                    command.args(["--kube-version", kube_version]);
                }
                for api_version in &release.api_versions {
                    command.args(["--api-versions", api_version]);
                }
            }
        }
        let output = command
            .output()
            .map_err(|err| format!("cannot run {}: {err}", self.binary.display()));
        // The values may hold secrets: remove them as soon as helm has read them.
        let _ = std::fs::remove_file(&values_file);
        let output = output?;
        if output.status.success() {
            String::from_utf8(output.stdout)
                .map_err(|_| "helm printed output that is not UTF-8".to_string())
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            // helm's hint names its own --debug flag, which orch does not have.
            let message = stderr
                .replace("Use --debug flag to render out invalid YAML", "")
                .trim()
                .trim_start_matches("Error: ")
                .to_string();
            Err(message)
        }
    }

    fn check_connected_version(&self) -> Result<(), String> {
        let version = self.version.get().and_then(|v| v.as_ref().ok());
        match version.and_then(|v| parse_version(v)) {
            Some(v) if v >= MIN_CONNECTED_VERSION => Ok(()),
            _ => Err(format!(
                "{} reports version `{}`; rendering with helm for diff and sync needs Helm {}.{} or newer (for `--dry-run=server`)",
                self.binary.display(),
                version.map_or("unknown", String::as_str),
                MIN_CONNECTED_VERSION.0,
                MIN_CONNECTED_VERSION.1
            )),
        }
    }

    fn write_values(&self, release: &ReleaseSpec, values: &Value) -> Result<PathBuf, String> {
        let path = self.workdir.path().join(format!(
            "{}_{}.values.json",
            release.id.namespace, release.id.name
        ));
        let write = || -> std::io::Result<()> {
            let mut file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&path)?;
            // JSON is YAML, and writes faster and without YAML's quoting questions.
            file.write_all(&serde_json::to_vec(values)?)
        };
        write().map_err(|err| format!("cannot write values for helm: {err}"))?;
        Ok(path)
    }
}

/// `v3.15.3+g3bb50bb` -> (3, 15).
fn parse_version(text: &str) -> Option<(u64, u64)> {
    let mut numbers = text.trim_start_matches('v').split(['.', '+', '-']);
    let major = numbers.next()?.parse().ok()?;
    let minor = numbers.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_helm_versions() {
        assert_eq!(parse_version("v3.15.3+g3bb50bb"), Some((3, 15)));
        assert_eq!(parse_version("v4.1.4"), Some((4, 1)));
        assert_eq!(parse_version("garbage"), None);
        assert!(parse_version("v3.7.0").unwrap() < MIN_VERSION);
    }
}
