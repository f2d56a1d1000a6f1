//! Charts from elsewhere, without a cluster: Helm chart repositories over HTTP (a loopback
//! server over a directory `helm package` and `helm repo index` filled), OCI registries (a
//! loopback docker-registry that `helm push` filled), and the dependencies a local chart's
//! Chart.yaml lists. Each test has its own repository, cache (`ORCH_CACHE_DIR`) and helm
//! home, so tests run in parallel and leave nothing behind.
//!
//! Needs helm (packaging, the helmfile comparison), helmfile and docker-registry:
//! `make test-unit` installs all three and puts them on PATH; the tests fail, never skip,
//! without them.

mod offline;
mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use offline::{helmfile, objects, repo, run_with_timeout};
use serde_json::Value;
use support::{ChartServer, Registry, Run, helm};

/// The versions of `app` every test's repository holds.
const APP_VERSIONS: &[&str] = &["1.0.0", "1.1.0", "1.2.0-rc.1", "2.0.0"];
/// Long enough for a slow run on a busy machine; an orch waiting forever on a socket fails.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);
/// Credential variables of the repository names these tests use: the developer's
/// environment must not answer for them.
const CREDENTIAL_VARS: &[&str] = &[
    "REMOTE_USERNAME",
    "REMOTE_PASSWORD",
    "PRIVATE_CHARTS_USERNAME",
    "PRIVATE_CHARTS_PASSWORD",
    "OCI_CHARTS_USERNAME",
    "OCI_CHARTS_PASSWORD",
];

fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/remote")
}

/// One test's world, in a temporary directory: `repo/` (the chart repository's files:
/// every version of `app` packaged, and index.yaml), `project/` (where orch runs),
/// `cache/` (orch's ORCH_CACHE_DIR) and `helm/` (HELM_*_HOME for helm, helmfile and orch).
struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let world = World {
            dir: tempfile::tempdir().expect("a temporary directory"),
        };
        for dir in ["repo", "project", "cache", "src"] {
            std::fs::create_dir_all(world.path(dir)).expect("create a directory");
        }
        for version in APP_VERSIONS {
            let source = world.app_source(version, None);
            world.package(&source, &world.repo_dir());
        }
        world.index();
        world
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn repo_dir(&self) -> PathBuf {
        self.path("repo")
    }

    fn project(&self) -> PathBuf {
        self.path("project")
    }

    fn cache(&self) -> PathBuf {
        self.path("cache")
    }

    /// A copy of the `app` fixture at `version`, under src/ (its greeting changed, if given).
    fn app_source(&self, version: &str, greeting: Option<&str>) -> PathBuf {
        let suffix = greeting.map_or(String::new(), |g| format!("-{g}"));
        let dir = self.path(&format!("src/app-{version}{suffix}/app"));
        copy_dir(&fixtures().join("charts/app"), &dir);
        let chart_yaml = dir.join("Chart.yaml");
        let text = std::fs::read_to_string(&chart_yaml).expect("read Chart.yaml");
        let text = text.replace("\nversion: 1.0.0\n", &format!("\nversion: {version}\n"));
        assert!(text.contains(&format!("\nversion: {version}\n")));
        std::fs::write(&chart_yaml, text).expect("write Chart.yaml");
        if let Some(greeting) = greeting {
            std::fs::write(dir.join("values.yaml"), format!("greeting: {greeting}\n"))
                .expect("write values.yaml");
        }
        dir
    }

    /// The isolated helm home, as environment variables.
    fn helm_env(&self) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("HELM_CONFIG_HOME", self.path("helm/config")),
            ("HELM_CACHE_HOME", self.path("helm/cache")),
            ("HELM_DATA_HOME", self.path("helm/data")),
        ]
    }

    /// Runs helm with the isolated home; fails the test unless it succeeds.
    fn helm(&self, args: &[&str]) -> String {
        let mut command = Command::new(helm());
        command.args(args).envs(self.helm_env());
        let (code, stdout, stderr) = run_with_timeout(&mut command, RUN_TIMEOUT);
        assert_eq!(code, 0, "helm {args:?} failed:\n{stdout}{stderr}");
        stdout
    }

    /// `helm package` of the chart in `source` into `out`; returns the archive.
    fn package(&self, source: &Path, out: &Path) -> PathBuf {
        let stdout = self.helm(&[
            "package",
            "--destination",
            out.to_str().unwrap(),
            source.to_str().unwrap(),
        ]);
        let archive = stdout
            .trim()
            .rsplit(": ")
            .next()
            .expect("helm package names the archive");
        PathBuf::from(archive)
    }

    /// `helm repo index` of repo/: relative URLs, a sha256 `digest` per archive.
    fn index(&self) {
        self.helm(&["repo", "index", self.repo_dir().to_str().unwrap()]);
    }

    fn archive(&self, version: &str) -> PathBuf {
        self.repo_dir().join(format!("app-{version}.tgz"))
    }

    fn write_releases(&self, text: &str) {
        std::fs::write(self.project().join("helmfile.yaml"), text).expect("write helmfile.yaml");
    }

    /// Copies the `web` and `shared` fixtures to project/charts/, with `repository` (a
    /// URL, `@name` or `alias:name`) for web's `app` dependency.
    fn copy_web(&self, repository: &str) -> PathBuf {
        let charts = self.project().join("charts");
        copy_dir(&fixtures().join("charts/shared"), &charts.join("shared"));
        copy_dir(&fixtures().join("charts/web"), &charts.join("web"));
        let chart_yaml = charts.join("web/Chart.yaml");
        let text = std::fs::read_to_string(&chart_yaml).expect("read Chart.yaml");
        assert!(text.contains("%REPOSITORY%"));
        std::fs::write(&chart_yaml, text.replace("%REPOSITORY%", repository))
            .expect("write Chart.yaml");
        charts.join("web")
    }

    /// Runs orch in project/ with this world's cache and helm home, and `env`.
    fn orch_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_orch"));
        command
            .current_dir(self.project())
            .args(args)
            .env("ORCH_CACHE_DIR", self.cache())
            // Should orch look past ORCH_CACHE_DIR, it finds an empty cache, not the user's.
            .env("XDG_CACHE_HOME", self.path("xdg-cache"))
            .envs(self.helm_env());
        for var in CREDENTIAL_VARS {
            command.env_remove(var);
        }
        command.envs(env.iter().copied());
        let (code, stdout, stderr) = run_with_timeout(&mut command, RUN_TIMEOUT);
        Run {
            code,
            stdout,
            stderr,
        }
    }

    fn orch(&self, args: &[&str]) -> Run {
        self.orch_env(args, &[])
    }

    /// Runs orch; fails the test unless it exits 0. Returns stdout.
    fn orch_ok(&self, args: &[&str]) -> String {
        self.orch(args).expect(0).stdout
    }

    /// Runs orch; fails the test unless it exits non-zero. Returns stderr and stdout.
    fn orch_fails(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let run = self.orch_env(args, env);
        assert_ne!(
            run.code, 0,
            "orch {args:?} succeeded, expected an error\n--- stdout\n{}\n--- stderr\n{}",
            run.stdout, run.stderr
        );
        run
    }

    /// The chart archives in orch's cache.
    fn cached_archives(&self) -> Vec<PathBuf> {
        files(&self.cache().join("charts"))
            .into_iter()
            .filter(|path| path.extension().is_some_and(|e| e == "tgz"))
            .collect()
    }
}

/// A releases file with the HTTP repository `remote` at `url` and `releases` (YAML list
/// items, indented as under `releases:`).
fn releases_file(url: &str, releases: &str) -> String {
    format!("repositories:\n  - name: remote\n    url: {url}\n\nreleases:\n{releases}")
}

/// One release of `chart` in namespace `apps`, with `version` when given.
fn release(name: &str, chart: &str, version: Option<&str>) -> String {
    let mut text = format!("  - name: {name}\n    namespace: apps\n    chart: {chart}\n");
    if let Some(version) = version {
        text.push_str(&format!("    version: \"{version}\"\n"));
    }
    text
}

/// The ConfigMaps of a manifest stream: name -> data.
fn config_maps(stream: &str) -> BTreeMap<String, Value> {
    objects(stream)
        .iter()
        .map(|json| serde_json::from_str::<Value>(json).expect("JSON"))
        .filter(|object| object["kind"] == "ConfigMap")
        .map(|object| {
            (
                object["metadata"]["name"]
                    .as_str()
                    .expect("a name")
                    .to_string(),
                object["data"].clone(),
            )
        })
        .collect()
}

/// The `app` version each release rendered: release -> `.Chart.Version` of `<release>-app`.
fn app_versions(stream: &str) -> BTreeMap<String, String> {
    config_maps(stream)
        .into_iter()
        .filter_map(|(name, data)| {
            let release = name.strip_suffix("-app")?.to_string();
            Some((release, data["chartVersion"].as_str()?.to_string()))
        })
        .collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a directory");
    for entry in std::fs::read_dir(from).expect("read a directory") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// Every regular file under `dir`, recursively (none if it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let entry = entry.expect("a directory entry");
        let path = entry.path();
        if entry.file_type().expect("a file type").is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// Everything under `dir`: each file's path relative to it with its bytes, each directory
/// with None. Equal snapshots mean nothing was added, removed or changed.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        for entry in std::fs::read_dir(dir).expect("read a directory") {
            let path = entry.expect("a directory entry").path();
            let relative = path.strip_prefix(root).unwrap().to_path_buf();
            if path.is_dir() {
                into.insert(relative, None);
                walk(root, &path, into);
            } else {
                into.insert(relative, Some(std::fs::read(&path).expect("read a file")));
            }
        }
    }
    let mut tree = BTreeMap::new();
    walk(dir, dir, &mut tree);
    tree
}

fn paths(tree: &BTreeMap<PathBuf, Option<Vec<u8>>>) -> Vec<&PathBuf> {
    tree.keys().collect()
}

/// Whether anything accepts connections at `addr`.
fn reachable(addr: std::net::SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
}

/// The status code of a plain `GET path` to `server`, with an `Authorization` header if given.
fn get_status(server: &ChartServer, path: &str, authorization: Option<&str>) -> u16 {
    let mut stream = TcpStream::connect(server.addr()).expect("connect to the chart server");
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n", server.addr());
    if let Some(value) = authorization {
        request.push_str(&format!("Authorization: {value}\r\n"));
    }
    request.push_str("Connection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .expect("send a request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

fn base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

// --- The test infrastructure itself: these pass without any of orch's chart fetching.

#[test]
fn support_chart_server_is_a_helm_repository() {
    let world = World::new();
    let mut server = ChartServer::start(&world.repo_dir());
    world.helm(&["repo", "add", "remote", &server.url()]);
    let rendered = world.helm(&["template", "x", "remote/app", "--version", "~1.1"]);
    assert_eq!(app_versions(&rendered), map(&[("x", "1.1.0")]));
    assert!(
        server.served("/index.yaml") >= 1,
        "{:?}",
        server.request_log()
    );
    assert_eq!(
        server.served("app-1.1.0.tgz"),
        1,
        "{:?}",
        server.request_log()
    );
    assert_eq!(get_status(&server, "/missing.tgz", None), 404);
    assert_eq!(get_status(&server, "/../Cargo.toml", None), 404);
    assert_eq!(server.requests("/missing.tgz"), 1);
    assert_eq!(server.served("/missing.tgz"), 0);

    let addr = server.addr();
    assert!(reachable(addr));
    server.stop();
    assert!(
        !reachable(addr),
        "the port still accepts connections after stop()"
    );
    server.stop(); // idempotent

    let guarded = ChartServer::with_basic_auth(&world.repo_dir(), "orch-user", "s3cret");
    assert_eq!(get_status(&guarded, "/index.yaml", None), 401);
    let wrong = format!("Basic {}", base64("orch-user:wrong"));
    assert_eq!(get_status(&guarded, "/index.yaml", Some(&wrong)), 401);
    let right = format!("Basic {}", base64("orch-user:s3cret"));
    assert_eq!(get_status(&guarded, "/index.yaml", Some(&right)), 200);
    assert_eq!(guarded.requests("/index.yaml"), 3);
    assert_eq!(guarded.served("/index.yaml"), 1);
    world.helm(&[
        "repo",
        "add",
        "private",
        &guarded.url(),
        "--username",
        "orch-user",
        "--password",
        "s3cret",
    ]);
    let addr = guarded.addr();
    drop(guarded);
    assert!(
        !reachable(addr),
        "the port still accepts connections after drop"
    );
}

#[test]
fn support_registry_takes_helm_push() {
    let world = World::new();
    let registry = Registry::start();
    registry.push(&world.archive("1.1.0"));
    registry.push(&world.archive("2.0.0"));
    let chart = format!("{}/app", registry.charts_ref());
    let rendered = world.helm(&[
        "template",
        "x",
        &chart,
        "--version",
        "1.1.0",
        "--plain-http",
    ]);
    assert_eq!(app_versions(&rendered), map(&[("x", "1.1.0")]));
}

// --- HTTP chart repositories.

#[test]
fn version_constraints_pick_what_helm_picks() {
    // Helm 3.15 picks the same versions (`helm template remote/app --version ...`).
    let world = World::new();
    let server = ChartServer::start(&world.repo_dir());
    let cases = [
        ("exact", Some("1.0.0"), "1.0.0"),
        ("exact-newer", Some("1.1.0"), "1.1.0"),
        ("tilde", Some("~1.1"), "1.1.0"),
        ("caret", Some("^1"), "1.1.0"),
        ("latest", None, "2.0.0"),
        ("from-prerelease", Some(">=1.2.0-0"), "2.0.0"),
        ("tilde-prerelease", Some("~1.2.0-0"), "1.2.0-rc.1"),
        ("exact-prerelease", Some("1.2.0-rc.1"), "1.2.0-rc.1"),
    ];
    let releases: String = cases
        .iter()
        .map(|(name, version, _)| release(name, "remote/app", *version))
        .collect();
    world.write_releases(&releases_file(&server.url(), &releases));

    let stdout = world.orch_ok(&["template"]);

    let expected: Vec<(&str, &str)> = cases.iter().map(|(n, _, v)| (*n, *v)).collect();
    assert_eq!(app_versions(&stdout), map(&expected));
    let log = server.request_log();
    assert_eq!(
        server.requests("/index.yaml"),
        1,
        "index.yaml fetched more than once in one run: {log:?}"
    );
    for version in APP_VERSIONS {
        let archive = format!("/app-{version}.tgz");
        assert_eq!(
            server.requests(&archive),
            1,
            "{archive} not downloaded exactly once: {log:?}"
        );
    }
    assert_eq!(world.cached_archives().len(), APP_VERSIONS.len());
}

#[test]
fn a_second_run_takes_the_chart_from_the_cache() {
    let world = World::new();
    let server = ChartServer::start(&world.repo_dir());
    let releases =
        release("a", "remote/app", Some("1.1.0")) + &release("b", "remote/app", Some("~1.1"));
    world.write_releases(&releases_file(&server.url(), &releases));

    let first = world.orch_ok(&["template"]);
    assert_eq!(app_versions(&first), map(&[("a", "1.1.0"), ("b", "1.1.0")]));
    assert_eq!(
        server.requests("/app-1.1.0.tgz"),
        1,
        "{:?}",
        server.request_log()
    );
    assert_eq!(
        world.cached_archives().len(),
        1,
        "{:?}",
        world.cached_archives()
    );

    let second = world.orch_ok(&["template"]);
    assert_eq!(objects(&second), objects(&first));
    let log = server.request_log();
    assert_eq!(
        server.requests("/app-1.1.0.tgz"),
        1,
        "downloaded again: {log:?}"
    );
    assert!(
        server.requests("/index.yaml") <= 2,
        "index.yaml more than once a run: {log:?}"
    );
    assert_eq!(world.cached_archives().len(), 1);
}

#[test]
fn skip_deps_renders_from_what_orch_deps_cached() {
    let world = World::new();
    let mut server = ChartServer::start(&world.repo_dir());
    let web = world.copy_web(&server.url());
    let before = snapshot(&world.project().join("charts"));
    let releases = release("pinned", "remote/app", Some("~1.1"))
        + &release("newest", "remote/app", None)
        + "  - name: site\n    namespace: apps\n    chart: ./charts/web\n";
    world.write_releases(&releases_file(&server.url(), &releases));

    let table = world.orch_ok(&["deps"]);
    for (release, version) in [("pinned", "1.1.0"), ("newest", "2.0.0")] {
        assert!(
            table.lines().any(|line| line.contains(release)
                && line.contains("remote/app")
                && line.contains(version)),
            "no row `{release} remote/app {version}` in orch deps' table:\n{table}"
        );
    }
    assert!(table.contains("site"), "no row for site:\n{table}");
    let log = server.request_log();
    assert_eq!(server.requests("/app-1.1.0.tgz"), 1, "{log:?}");
    assert_eq!(server.requests("/app-2.0.0.tgz"), 1, "{log:?}");
    assert!(!world.cached_archives().is_empty());
    assert_eq!(
        snapshot(&world.project().join("charts")),
        before,
        "orch deps changed the chart sources"
    );

    let addr = server.addr();
    server.stop();
    assert!(!reachable(addr));
    let stdout = world.orch_ok(&["template", "--skip-deps"]);
    assert_eq!(
        app_versions(&stdout),
        map(&[("pinned", "1.1.0"), ("newest", "2.0.0"), ("site", "1.1.0")])
    );
    let maps = config_maps(&stdout);
    assert!(
        maps.contains_key("site-web") && maps.contains_key("site-shared"),
        "{maps:?}"
    );
    assert!(!web.join("charts").exists() && !web.join("Chart.lock").exists());
}

#[test]
fn skip_deps_renders_from_what_a_template_run_cached() {
    let world = World::new();
    let mut server = ChartServer::start(&world.repo_dir());
    world.copy_web(&server.url());
    let releases = release("a", "remote/app", Some("^1"))
        + "  - name: site\n    namespace: apps\n    chart: ./charts/web\n";
    world.write_releases(&releases_file(&server.url(), &releases));

    let online = world.orch_ok(&["template"]);
    assert_eq!(
        app_versions(&online),
        map(&[("a", "1.1.0"), ("site", "1.1.0")])
    );
    server.stop();
    let offline = world.orch_ok(&["template", "--skip-deps"]);
    assert_eq!(objects(&offline), objects(&online));
}

#[test]
fn skip_deps_with_an_empty_cache_fails_naming_orch_deps() {
    let world = World::new();
    let server = ChartServer::start(&world.repo_dir());
    world.copy_web(&server.url());
    let remote = releases_file(&server.url(), &release("a", "remote/app", Some("1.1.0")));
    let local = releases_file(
        &server.url(),
        "  - name: site\n    namespace: apps\n    chart: ./charts/web\n",
    );
    for releases in [remote, local] {
        world.write_releases(&releases);
        let run = world.orch_fails(&["template", "--skip-deps"], &[]);
        assert!(
            run.stderr.contains("orch deps"),
            "the error does not say to run `orch deps`:\n{}",
            run.stderr
        );
        assert_eq!(
            server.total_requests(),
            0,
            "--skip-deps went to the network: {:?}",
            server.request_log()
        );
    }
}

#[test]
fn an_archive_changed_after_indexing_fails_on_its_digest_and_is_not_cached() {
    let world = World::new();
    let server = ChartServer::start(&world.repo_dir());
    world.write_releases(&releases_file(
        &server.url(),
        &release("a", "remote/app", Some("1.1.0")),
    ));
    // A whole, valid chart archive of the same name and version, other bytes: only the
    // digest can tell.
    let archive = world.archive("1.1.0");
    let original = std::fs::read(&archive).expect("read the archive");
    let tampered_source = world.app_source("1.1.0", Some("tampered"));
    std::fs::create_dir_all(world.path("tampered")).expect("create a directory");
    let tampered = world.package(&tampered_source, &world.path("tampered"));
    std::fs::copy(&tampered, &archive).expect("replace the archive");
    assert_ne!(std::fs::read(&archive).unwrap(), original);

    let run = world.orch_fails(&["template"], &[]);
    assert!(
        run.stderr.contains("digest"),
        "no word of the digest:\n{}",
        run.stderr
    );
    assert!(
        !run.stdout.contains("tampered"),
        "rendered the tampered chart"
    );
    let kept: Vec<PathBuf> = files(&world.cache().join("charts"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "tgz") || p.ends_with("Chart.yaml"))
        .collect();
    assert!(
        kept.is_empty(),
        "the rejected chart is in the cache: {kept:?}"
    );

    // The same again, this time with garbage: still the digest, still nothing cached.
    std::fs::write(&archive, b"not a chart archive").expect("write garbage");
    let run = world.orch_fails(&["template"], &[]);
    assert!(
        run.stderr.contains("digest"),
        "no word of the digest:\n{}",
        run.stderr
    );
    assert!(
        world.cached_archives().is_empty(),
        "{:?}",
        world.cached_archives()
    );

    std::fs::write(&archive, &original).expect("restore the archive");
    let stdout = world.orch_ok(&["template"]);
    assert_eq!(app_versions(&stdout), map(&[("a", "1.1.0")]));
    assert_eq!(config_maps(&stdout)["a-app"]["greeting"], "hello");
    assert_eq!(world.cached_archives().len(), 1);
}

#[test]
fn an_unreachable_repository_is_named_with_its_url() {
    let world = World::new();
    let mut server = ChartServer::start(&world.repo_dir());
    let url = server.url();
    server.stop(); // a loopback port nothing listens on
    world.write_releases(&releases_file(
        &url,
        &release("a", "remote/app", Some("1.1.0")),
    ));

    let run = world.orch_fails(&["template"], &[]);
    assert!(
        run.stderr.contains("repository `remote`") && run.stderr.contains(&url),
        "the error does not name repository `remote` and {url}:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"));
}

#[test]
fn refused_credentials_fail_without_printing_the_password() {
    const USER: &str = "orch-user";
    const RIGHT: &str = "right-password-5d1e";
    const WRONG: &str = "wrong-password-9c2e";
    let world = World::new();
    let server = ChartServer::with_basic_auth(&world.repo_dir(), USER, RIGHT);
    // `private-charts`: the variables are PRIVATE_CHARTS_USERNAME / _PASSWORD.
    let file = format!(
        "repositories:\n  - name: private-charts\n    url: {}\n\nreleases:\n{}",
        server.url(),
        release("a", "private-charts/app", Some("1.1.0"))
    );
    world.write_releases(&file);

    let wrong_env = [
        ("PRIVATE_CHARTS_USERNAME", USER),
        ("PRIVATE_CHARTS_PASSWORD", WRONG),
    ];
    for args in [&["template"][..], &["-vv", "template"][..]] {
        let run = world.orch_fails(args, &wrong_env);
        let output = run.all_output();
        assert!(
            run.stderr.to_lowercase().contains("credentials"),
            "orch {args:?}: the error does not say the credentials were refused:\n{}",
            run.stderr
        );
        assert!(run.stderr.contains("private-charts"), "{}", run.stderr);
        assert!(
            !output.contains(WRONG),
            "orch {args:?} printed the password:\n{output}"
        );
        let header = base64(&format!("{USER}:{WRONG}"));
        assert!(
            !output.contains(&header),
            "orch {args:?} printed the Authorization header:\n{output}"
        );
    }
    assert!(server.requests("/index.yaml") >= 1);
    assert_eq!(server.served("/index.yaml"), 0);

    let right_env = [
        ("PRIVATE_CHARTS_USERNAME", USER),
        ("PRIVATE_CHARTS_PASSWORD", RIGHT),
    ];
    let run = world.orch_env(&["template"], &right_env).expect(0);
    assert_eq!(app_versions(&run.stdout), map(&[("a", "1.1.0")]));
    assert!(!run.all_output().contains(RIGHT));

    // The releases file's own username/password, no variables: a fresh cache, so the
    // server is asked again.
    std::fs::remove_dir_all(world.cache()).expect("empty the cache");
    let file = format!(
        "repositories:\n  - name: private-charts\n    url: {}\n    username: {USER}\n    \
         password: {RIGHT}\n\nreleases:\n{}",
        server.url(),
        release("a", "private-charts/app", Some("1.1.0"))
    );
    world.write_releases(&file);
    let served = server.served("/app-1.1.0.tgz");
    let run = world.orch(&["template"]).expect(0);
    assert_eq!(app_versions(&run.stdout), map(&[("a", "1.1.0")]));
    assert_eq!(server.served("/app-1.1.0.tgz"), served + 1);
    assert!(!run.all_output().contains(RIGHT));
}

#[test]
fn an_unknown_chart_or_version_lists_what_exists() {
    let world = World::new();
    let server = ChartServer::start(&world.repo_dir());

    world.write_releases(&releases_file(
        &server.url(),
        &release("a", "remote/nope", Some("1.0.0")),
    ));
    let run = world.orch_fails(&["template"], &[]);
    assert!(
        run.stderr.contains("nope"),
        "the error does not name the chart:\n{}",
        run.stderr
    );

    world.write_releases(&releases_file(
        &server.url(),
        &release("a", "remote/app", Some("~3")),
    ));
    let run = world.orch_fails(&["template"], &[]);
    for wanted in ["app", "~3", "1.0.0", "1.1.0", "2.0.0"] {
        assert!(
            run.stderr.contains(wanted),
            "the error lacks `{wanted}` (chart, constraint and the versions there are):\n{}",
            run.stderr
        );
    }
}

// --- OCI registries.

#[test]
fn oci_charts_come_from_the_registry_by_repository_and_by_reference() {
    let world = World::new();
    let registry = Registry::start();
    registry.push(&world.archive("1.1.0"));
    registry.push(&world.archive("2.0.0"));
    // helmfile's form: an OCI repository's url has no scheme.
    let host = registry.host();
    let file = format!(
        "repositories:\n  - name: oci-charts\n    url: {host}/charts\n    oci: true\n    \
         plainHttp: true\n\nreleases:\n{}{}{}",
        release("by-repository", "oci-charts/app", Some("1.1.0")),
        release(
            "by-reference",
            &format!("oci://{host}/charts/app"),
            Some("2.0.0")
        ),
        // A range: chosen from the registry's tags.
        release("by-range", &format!("oci://{host}/charts/app"), Some("~1")),
    );
    world.write_releases(&file);

    let online = world.orch_ok(&["template"]);
    assert_eq!(
        app_versions(&online),
        map(&[
            ("by-repository", "1.1.0"),
            ("by-reference", "2.0.0"),
            ("by-range", "1.1.0")
        ])
    );
    assert_eq!(
        world.cached_archives().len(),
        2,
        "{:?}",
        world.cached_archives()
    );

    drop(registry);
    let offline = world.orch_ok(&["template", "--skip-deps"]);
    assert_eq!(objects(&offline), objects(&online));
}

// --- A local chart's Chart.yaml dependencies.

#[test]
fn chart_yaml_dependencies_are_built_outside_the_chart() {
    for form in ["url", "@remote", "alias:remote"] {
        let world = World::new();
        let server = ChartServer::start(&world.repo_dir());
        let repository = if form == "url" {
            server.url()
        } else {
            form.to_string()
        };
        let web = world.copy_web(&repository);
        let before = snapshot(&world.project().join("charts"));
        let releases = "  - name: site\n    namespace: apps\n    chart: ./charts/web\n    \
                        values:\n      - app:\n          greeting: from-release\n";
        world.write_releases(&releases_file(&server.url(), releases));

        let stdout = world.orch_ok(&["template"]);
        let maps = config_maps(&stdout);
        assert_eq!(
            maps.keys().collect::<Vec<_>>(),
            ["site-app", "site-shared", "site-web"],
            "{form}"
        );
        assert_eq!(maps["site-app"]["chartVersion"], "1.1.0", "{form}: ~1.1");
        assert_eq!(maps["site-app"]["greeting"], "from-release", "{form}");
        assert_eq!(maps["site-shared"]["color"], "blue", "{form}: web's values");
        assert_eq!(maps["site-web"]["title"], "web", "{form}");

        let after = snapshot(&world.project().join("charts"));
        assert_eq!(
            paths(&after),
            paths(&before),
            "{form}: files added to or removed from the chart sources"
        );
        assert!(after == before, "{form}: the chart sources changed");
        assert!(!web.join("charts").exists() && !web.join("Chart.lock").exists());
        assert_eq!(
            server.requests("/app-1.1.0.tgz"),
            1,
            "{:?}",
            server.request_log()
        );
    }
}

#[test]
fn vendored_dependencies_are_not_downloaded() {
    let world = World::new();
    let server = ChartServer::start(&world.repo_dir());
    let web = world.copy_web(&server.url());
    // What `helm dependency build` leaves: charts/ holds both archives.
    world.helm(&["repo", "add", "remote", &server.url()]);
    world.helm(&["dependency", "build", web.to_str().unwrap()]);
    let downloads = server.requests("/app-1.1.0.tgz");
    world.write_releases(&releases_file(
        &server.url(),
        "  - name: site\n    namespace: apps\n    chart: ./charts/web\n",
    ));

    let stdout = world.orch_ok(&["template"]);
    assert_eq!(app_versions(&stdout), map(&[("site", "1.1.0")]));
    assert_eq!(
        server.requests("/app-1.1.0.tgz"),
        downloads,
        "downloaded a dependency charts/ has: {:?}",
        server.request_log()
    );
}

// --- orch fetch.

#[test]
fn fetch_writes_each_release_chart_unpacked() {
    let world = World::new();
    let server = ChartServer::start(&world.repo_dir());
    world.copy_web(&server.url());
    let releases = release("a", "remote/app", Some("~1.1"))
        + "  - name: site\n    namespace: web\n    chart: ./charts/web\n";
    world.write_releases(&releases_file(&server.url(), &releases));

    let out = world.path("out");
    world.orch_ok(&["fetch", "--output-dir", out.to_str().unwrap()]);
    let chart_yaml = out.join("apps/a/app/Chart.yaml");
    let text = std::fs::read_to_string(&chart_yaml)
        .unwrap_or_else(|e| panic!("{}: {e}; written: {:?}", chart_yaml.display(), files(&out)));
    let chart: Value = serde_yaml_ng::from_str(&text).expect("Chart.yaml is YAML");
    assert_eq!(chart["name"], "app");
    assert_eq!(chart["version"], "1.1.0");
    assert!(out.join("apps/a/app/templates/configmap.yaml").is_file());
    let chart: Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(out.join("web/site/web/Chart.yaml")).expect("web's Chart.yaml"),
    )
    .expect("Chart.yaml is YAML");
    assert_eq!(chart["name"], "web");

    let selected = world.path("selected");
    world.orch_ok(&[
        "fetch",
        "-l",
        "name=a",
        "--output-dir",
        selected.to_str().unwrap(),
    ]);
    assert!(selected.join("apps/a/app/Chart.yaml").is_file());
    assert!(
        !selected.join("web").exists(),
        "fetched an unselected release: {:?}",
        files(&selected)
    );
}

// --- Against helmfile.

#[test]
fn remote_charts_agree_with_helmfile() {
    let world = World::new();
    let server = ChartServer::start(&world.repo_dir());
    let url = server.url();
    let releases = std::fs::read_to_string(fixtures().join("helmfile.yaml"))
        .expect("read the fixture")
        .replace("%REPOSITORY%", &url);
    world.write_releases(&releases);
    let web = world.copy_web(&url);
    let before = snapshot(&web);

    // helmfile's side: `helmfile template --skip-deps` neither adds the repository nor
    // builds web's dependencies, so both are done first, in a copy of the project.
    world.helm(&["repo", "add", "remote", &url]);
    let helmfile_project = world.path("helmfile-project");
    copy_dir(&world.project(), &helmfile_project);
    world.helm(&[
        "dependency",
        "build",
        helmfile_project.join("charts/web").to_str().unwrap(),
    ]);
    let mut command = Command::new(helmfile());
    command
        .current_dir(&helmfile_project)
        .arg("--helm-binary")
        .arg(helm())
        .args(["template", "--skip-deps"])
        .envs(world.helm_env());
    let (code, helmfile_stdout, stderr) = run_with_timeout(&mut command, RUN_TIMEOUT);
    assert_eq!(code, 0, "helmfile template failed:\n{stderr}");
    let expected = objects(&helmfile_stdout);
    assert_eq!(
        app_versions(&helmfile_stdout),
        map(&[
            ("pinned", "1.0.0"),
            ("tilde", "1.1.0"),
            ("caret", "1.1.0"),
            ("latest", "2.0.0"),
            ("site", "1.1.0"),
        ]),
        "helmfile's side"
    );

    let stdout = world.orch_ok(&["template"]);
    assert_eq!(objects(&stdout), expected);
    assert!(
        snapshot(&web) == before,
        "orch changed the web chart's directory"
    );
}
