//! orch and a real `helm` on the same releases: orch adopts a release `helm install`
//! made, `helm rollback` of an orch release works and orch's diff then shows what changed,
//! `helm get` reads orch's revisions, and `helm uninstall` of an orch release leaves nothing.

mod support;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use orch::record::Status;
use support::{Project, TestNamespace, engine_chart, records, revision_statuses};

fn helm(args: &[&str]) -> String {
    let output = std::process::Command::new("helm")
        .args(args)
        .env("KUBECONFIG", support::kubeconfig())
        .output()
        .expect("run helm (the Makefile puts the pinned one on PATH)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "helm {args:?} failed: {stderr}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn releases(namespace: &str, greeting: &str) -> String {
    format!(
        "releases:\n  - name: web\n    namespace: {namespace}\n    chart: {}\n    set:\n      - {{name: config.greeting, value: {greeting}}}\n",
        engine_chart().display()
    )
}

async fn greeting(ns: &TestNamespace) -> String {
    let config: ConfigMap = ns.api().get("web-config").await.unwrap();
    config.data.unwrap()["greeting"].clone()
}

#[tokio::test]
async fn orch_adopts_a_helm_release_and_helm_rolls_back_and_uninstalls_orchs() {
    let ns = TestNamespace::new("helm").await;
    let chart = engine_chart();
    helm(&[
        "install",
        "web",
        chart.to_str().unwrap(),
        "-n",
        ns.name(),
        "--set",
        "config.greeting=from-helm",
    ]);

    // Adopted as the next revision; fields helm owned go to orch.
    let project = Project::new(&releases(ns.name(), "from-orch"));
    let run = project.orch(&["sync"]).expect(0);
    assert!(run.stdout.contains("upgrade  2"), "{}", run.stdout);
    assert_eq!(greeting(&ns).await, "from-orch");
    let values = helm(&["get", "values", "web", "-n", ns.name(), "-o", "json"]);
    let values: serde_json::Value = serde_json::from_str(&values).unwrap();
    assert_eq!(values["config"]["greeting"], "from-orch");
    let manifest = helm(&["get", "manifest", "web", "-n", ns.name()]);
    assert!(
        manifest.contains("# Source: app/templates/configmap.yaml")
            && manifest.contains("greeting: from-orch"),
        "{manifest}"
    );

    // helm rolls orch's release back; orch sees the difference and takes it forward again.
    helm(&["rollback", "web", "1", "-n", ns.name()]);
    assert_eq!(greeting(&ns).await, "from-helm");
    let diff = project.orch(&["diff", "--detailed-exitcode"]).expect(2);
    assert!(
        diff.stdout
            .contains("-  greeting: from-helm\n+  greeting: from-orch\n"),
        "{}",
        diff.stdout
    );
    project.orch(&["sync"]).expect(0);
    assert_eq!(greeting(&ns).await, "from-orch");
    let statuses: Vec<Status> = revision_statuses(&ns.client(), ns.name(), "web").await;
    assert_eq!(
        statuses,
        vec![
            Status::Superseded,
            Status::Superseded,
            Status::Superseded,
            Status::Deployed
        ]
    );
    let history = helm(&["history", "web", "-n", ns.name(), "-o", "json"]);
    let history: Vec<serde_json::Value> = serde_json::from_str(&history).unwrap();
    assert_eq!(history.len(), 4, "{history:?}");

    // helm uninstalls orch's release: objects and records go.
    helm(&["uninstall", "web", "-n", ns.name()]);
    assert!(records(&ns.client(), ns.name(), "web").await.is_empty());
    assert!(
        ns.api::<Deployment>()
            .get_opt("web")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        ns.api::<ConfigMap>()
            .get_opt("web-config")
            .await
            .unwrap()
            .is_none()
    );
}
