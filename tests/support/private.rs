//! A control plane of a test's own, for tests that break it (kill the API server): the
//! shared one must stay up for the tests running beside them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct PrivateCluster {
    dir: PathBuf,
    kubeconfig: PathBuf,
    /// Its admin's token, when not the shared cluster's.
    token: Option<String>,
    /// More flags for its kube-apiserver.
    apiserver_args: String,
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("hack/cluster")
        .join(name)
}

impl PrivateCluster {
    /// Starts one in its own state directory; panics with up.sh's output if it cannot.
    pub fn start(name: &str) -> PrivateCluster {
        PrivateCluster::start_with(name, None, "")
    }

    /// [`start`](Self::start), its admin authenticated by `token` alone.
    pub fn start_with_token(name: &str, token: &str) -> PrivateCluster {
        PrivateCluster::start_with(name, Some(token.to_string()), "")
    }

    /// [`start`](Self::start), its API server also given `args` (space-separated flags).
    pub fn start_with_apiserver_args(name: &str, args: &str) -> PrivateCluster {
        PrivateCluster::start_with(name, None, args)
    }

    fn start_with(name: &str, token: Option<String>, apiserver_args: &str) -> PrivateCluster {
        let dir = std::env::temp_dir().join(format!("orch-test-{name}-{}", std::process::id()));
        let mut cluster = PrivateCluster {
            kubeconfig: PathBuf::new(),
            dir,
            token,
            apiserver_args: apiserver_args.to_string(),
        };
        cluster.kubeconfig = cluster.up();
        cluster
    }

    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// Runs up.sh, which starts the cluster or restarts its stopped components.
    pub fn up(&self) -> PathBuf {
        let mut up = Command::new(script("up.sh"));
        up.env("ORCH_CLUSTER_DIR", &self.dir);
        if let Some(token) = &self.token {
            up.env("ORCH_CLUSTER_TOKEN", token);
        }
        up.env("ORCH_APISERVER_ARGS", &self.apiserver_args);
        let output = up.stdin(Stdio::null()).output().expect("run up.sh");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "up.sh failed for {}:\n{}",
            self.dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
            .lines()
            .find_map(|line| line.strip_prefix("export KUBECONFIG="))
            .map(PathBuf::from)
            .expect("up.sh prints the kubeconfig")
    }

    /// SIGKILLs one component (e.g. `kube-apiserver`), as a crash would.
    pub fn kill(&self, component: &str) {
        self.signal(component, "-KILL");
    }

    /// Sends a signal (`-STOP`, `-CONT`, ...) to one component.
    pub fn signal(&self, component: &str, signal: &str) {
        let pids = std::fs::read_to_string(self.dir.join("pids")).expect("the cluster's pids");
        let pid = pids
            .lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .find(|fields| fields.first() == Some(&component))
            .and_then(|fields| fields.get(1).map(|pid| pid.to_string()))
            .unwrap_or_else(|| panic!("no {component} in {pids}"));
        let status = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} {component} ({pid})");
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = Command::new(script("down.sh"))
            .env("ORCH_CLUSTER_DIR", &self.dir)
            .stdin(Stdio::null())
            .output();
    }
}
