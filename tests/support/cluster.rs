//! The cluster tests run against. Tests fail, never skip, when it cannot be had: a test
//! suite that passes without a cluster proves nothing about one.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};

/// Set to use a running cluster instead of starting one (`make test` does).
const KUBECONFIG_VAR: &str = "ORCH_TEST_KUBECONFIG";

/// The kubeconfig of the test cluster. The first call in a test binary starts the cluster
/// (up.sh reuses one that runs already, so test binaries share it); every call panics with
/// the reason if it could not be started.
pub fn kubeconfig() -> &'static Path {
    static KUBECONFIG: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let kubeconfig = KUBECONFIG.get_or_init(|| match std::env::var_os(KUBECONFIG_VAR) {
        Some(path) => Ok(PathBuf::from(path)),
        None => start_cluster(),
    });
    match kubeconfig {
        Ok(path) => path,
        Err(reason) => panic!("no test cluster: {reason}"),
    }
}

/// A client for the test cluster. Make one per test: a client is bound to the tokio
/// runtime it was made on, and every `#[tokio::test]` has its own.
pub async fn client() -> Client {
    client_for(kubeconfig()).await
}

/// A client for the cluster of the kubeconfig at `path` (a test's own control plane).
pub async fn client_for(path: &Path) -> Client {
    let file = Kubeconfig::read_from(path)
        .unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
    let config = kube::Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
        .await
        .unwrap_or_else(|err| panic!("loading {}: {err}", path.display()));
    Client::try_from(config).unwrap_or_else(|err| panic!("a client for {}: {err}", path.display()))
}

/// The `orch` binary under test, pointed at the test cluster.
pub fn orch() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orch"));
    command.env("KUBECONFIG", kubeconfig());
    command
}

fn start_cluster() -> Result<PathBuf, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("hack/cluster/up.sh");
    let output = Command::new(&script)
        .stdin(Stdio::null())
        .output()
        .map_err(|err| format!("cannot run {}: {err}", script.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{} failed ({}); set {KUBECONFIG_VAR} to use a running cluster. Its output ends:\n{}",
            script.display(),
            output.status,
            tail.join("\n")
        ));
    }
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("export KUBECONFIG="))
        .map(PathBuf::from)
        .ok_or_else(|| {
            format!(
                "{} printed no `export KUBECONFIG=`: {stdout}",
                script.display()
            )
        })
}
