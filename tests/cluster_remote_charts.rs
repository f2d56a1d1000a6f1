//! A release whose chart comes from a Helm repository, synced to the test cluster: the
//! record names the version the constraint chose, a new constraint upgrades it, and a
//! repository that cannot be reached fails the run before anything in the cluster changes.

mod support;

use std::path::Path;
use std::process::Command;

use support::{ChartServer, Project, TestNamespace, engine_chart, helm, records};

/// Packages the engine chart as `version` into `dir`.
fn package(dir: &Path, version: &str) {
    let output = Command::new(helm())
        .arg("package")
        .arg(engine_chart())
        .args(["--version", version, "--destination"])
        .arg(dir)
        .output()
        .expect("run helm package");
    assert!(
        output.status.success(),
        "helm package: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn index(dir: &Path, url: &str) {
    let output = Command::new(helm())
        .args(["repo", "index"])
        .arg(dir)
        .args(["--url", url])
        .output()
        .expect("run helm repo index");
    assert!(output.status.success(), "helm repo index failed");
}

fn releases(url: &str, namespace: &str, constraint: &str, extra: &str) -> String {
    format!(
        "repositories:\n  - name: fixture\n    url: {url}\n  - name: gone\n    url: http://127.0.0.1:1/charts\n\
         helmDefaults:\n  timeout: 60\n\
         releases:\n  - name: web\n    namespace: {namespace}\n    chart: fixture/app\n    version: \"{constraint}\"\n{extra}"
    )
}

fn chart_versions(records: &[orch::record::ReleaseRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| r.chart.metadata.version.clone())
        .collect()
}

#[tokio::test]
async fn a_repository_chart_syncs_upgrades_and_an_unreachable_repository_changes_nothing() {
    let ns = TestNamespace::new("remote").await;
    let served = tempfile::tempdir().unwrap();
    package(served.path(), "1.0.0");
    package(served.path(), "1.1.0");
    let server = ChartServer::start(served.path());
    index(served.path(), &server.url());
    let cache = tempfile::tempdir().unwrap();
    let project = Project::new(&releases(&server.url(), ns.name(), "~1.0", ""));
    let sync = |args: &[&str]| {
        let output = project
            .command(args)
            .env("ORCH_CACHE_DIR", cache.path())
            .output()
            .expect("run orch");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };

    let (code, stderr) = sync(&["sync"]);
    assert_eq!(code, Some(0), "{stderr}");
    let client = ns.client();
    assert_eq!(
        chart_versions(&records(&client, ns.name(), "web").await),
        ["1.0.0"]
    );

    project.write(
        "helmfile.yaml",
        &releases(&server.url(), ns.name(), "~1.1", ""),
    );
    let (code, stderr) = sync(&["sync"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        chart_versions(&records(&client, ns.name(), "web").await),
        ["1.0.0", "1.1.0"]
    );

    // A release of the unreachable repository fails the whole run before it starts: the
    // local release beside it is not installed, and web is not upgraded.
    let extra = format!(
        "  - name: local\n    namespace: {ns}\n    chart: {}\n  - name: lost\n    namespace: {ns}\n    chart: gone/app\n",
        engine_chart().display(),
        ns = ns.name()
    );
    project.write(
        "helmfile.yaml",
        &releases(&server.url(), ns.name(), "1.0.0", &extra),
    );
    let (code, stderr) = sync(&["sync"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot reach repository `gone` (http://127.0.0.1:1/charts)"),
        "{stderr}"
    );
    assert_eq!(
        chart_versions(&records(&client, ns.name(), "web").await),
        ["1.0.0", "1.1.0"]
    );
    assert!(records(&client, ns.name(), "local").await.is_empty());
}
