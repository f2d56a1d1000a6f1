//! An OCI registry on loopback for chart tests: Debian's `docker-registry` (the CNCF
//! distribution registry) with filesystem storage in a temporary directory, started on a
//! free port and killed when dropped. Charts get in with `helm push --plain-http`.
//!
//! Tests fail, never skip, without the binary: `hack/tools.sh registry` installs it, and
//! `make test` runs that.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the registry may take to answer `GET /v2/` on a busy machine.
const START_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Registry {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

/// The helm binary tests package and push charts with: `ORCH_HELM_BINARY`, else `helm`
/// from PATH (`make test` puts hack/tools.sh's helm 3.15 there). Fails the test without it.
pub fn helm() -> PathBuf {
    let binary =
        std::env::var_os("ORCH_HELM_BINARY").map_or_else(|| PathBuf::from("helm"), PathBuf::from);
    let found = Command::new(&binary)
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "helm not found ({}): `hack/tools.sh helm3` installs it into ~/.cache/orch/tools/bin, \
         `make test` puts it on PATH (or set ORCH_HELM_BINARY)",
        binary.display()
    );
    binary
}

/// The docker-registry binary: `ORCH_REGISTRY_BINARY`, else from PATH, else Debian's
/// /usr/bin/docker-registry. Fails the test, saying how to install it, when there is none.
pub fn registry_binary() -> PathBuf {
    let binary = std::env::var_os("ORCH_REGISTRY_BINARY")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|dir| dir.join("docker-registry"))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| PathBuf::from("/usr/bin/docker-registry"));
    assert!(
        binary.is_file(),
        "docker-registry not found ({}; looked at ORCH_REGISTRY_BINARY, PATH and \
         /usr/bin/docker-registry): the OCI chart tests need it. Install it with \
         `hack/tools.sh registry` (apt-get install docker-registry, as root or with sudo); \
         `make test` and `make test-unit` do that",
        binary.display()
    );
    binary
}

impl Registry {
    /// Starts a registry with empty storage and waits until it answers.
    pub fn start() -> Registry {
        let binary = registry_binary();
        let dir = tempfile::tempdir().expect("a temporary directory");
        // The free port is found by binding and letting go, so another process may take
        // it in between: then the registry exits at once, and a new port is tried.
        let mut last_failure = String::new();
        for _ in 0..5 {
            let port = free_port();
            let config = dir.path().join("config.yml");
            std::fs::write(&config, config_text(&dir.path().join("storage"), port))
                .expect("write the registry config");
            let log_path = dir.path().join("registry.log");
            let log = std::fs::File::create(&log_path).expect("create the registry log");
            let mut child = Command::new(&binary)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone the log handle"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|err| panic!("cannot run {}: {err}", binary.display()));
            match wait_ready(&mut child, port) {
                Ok(()) => return Registry { child, port, dir },
                Err(failure) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    last_failure = format!("{failure}; its log:\n{log}");
                }
            }
        }
        panic!("{} did not start: {last_failure}", binary.display());
    }

    /// `127.0.0.1:PORT`: what an OCI reference starts with.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `oci://127.0.0.1:PORT/charts`: where `push` puts charts.
    pub fn charts_ref(&self) -> String {
        format!("oci://{}/charts", self.host())
    }

    /// Pushes a packaged chart (`helm package`'s .tgz) to `charts_ref()`, as
    /// `charts/<name>:<version>`.
    pub fn push(&self, tgz: &Path) {
        let helm_home = self.dir.path().join("helm");
        let output = Command::new(helm())
            .arg("push")
            .arg(tgz)
            .arg(self.charts_ref())
            .arg("--plain-http")
            .env("HELM_CONFIG_HOME", helm_home.join("config"))
            .env("HELM_CACHE_HOME", helm_home.join("cache"))
            .env("HELM_DATA_HOME", helm_home.join("data"))
            .output()
            .expect("run helm push");
        assert!(
            output.status.success(),
            "helm push {} {} failed:\n{}",
            tgz.display(),
            self.charts_ref(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_ready(child: &mut Child, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("it exited ({status}) before answering"));
        }
        match http_status(port, "/v2/") {
            Some(200) => return Ok(()),
            seen if Instant::now() >= deadline => {
                return Err(format!(
                    "GET /v2/ did not answer 200 within {START_TIMEOUT:?} (last: {seen:?})"
                ));
            }
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn config_text(storage: &Path, port: u16) -> String {
    format!(
        "version: 0.1\n\
         log:\n  level: warn\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: orch-test-registry\n",
        storage.display()
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// The status code of `GET path` on 127.0.0.1:port, or None when nothing answers.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let addr = ([127, 0, 0, 1], port).into();
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).ok()?;
    let head = String::from_utf8_lossy(&head[..n]);
    head.split_whitespace().nth(1)?.parse().ok()
}
