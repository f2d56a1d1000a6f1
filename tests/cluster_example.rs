//! The bundled coffee-ordering system on the test control plane, as the README runs it:
//! `orch sync -e staging`, a no-op sync, a reviewed change, `status`, `destroy`.
//!
//! It owns the example's namespaces (infra, monitoring, staging); no other test uses them.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use kube::api::Api;
use kube::{Client, Resource};
use support::{Project, records};

const NAMESPACES: [&str; 3] = ["infra", "monitoring", "staging"];

/// The example's releases, values and charts, copied so the test can change a value.
fn example() -> Project {
    let project = Project::new("");
    std::fs::remove_file(project.dir().join("helmfile.yaml")).unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["releases", "values", "charts"] {
        copy_dir(&repo.join(dir), &project.dir().join(dir));
    }
    project
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Summary rows: release -> action.
fn actions(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .skip_while(|line| !line.starts_with("RELEASE"))
        .skip(1)
        .map_while(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            (cells.len() == 4 || cells.len() == 5)
                .then(|| (cells[0].to_string(), cells[1..cells.len() - 2].join(" ")))
        })
        .collect()
}

async fn resource_versions(client: &Client) -> BTreeMap<String, String> {
    let mut versions = BTreeMap::new();
    for namespace in NAMESPACES {
        collect::<ConfigMap>(client, namespace, &mut versions).await;
        collect::<Secret>(client, namespace, &mut versions).await;
        collect::<Service>(client, namespace, &mut versions).await;
        collect::<Deployment>(client, namespace, &mut versions).await;
        collect::<StatefulSet>(client, namespace, &mut versions).await;
    }
    versions
}

async fn collect<K>(client: &Client, namespace: &str, into: &mut BTreeMap<String, String>)
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    for object in api.list(&Default::default()).await.unwrap() {
        let meta = object.meta();
        into.insert(
            format!(
                "{}/{namespace}/{}",
                K::kind(&()),
                meta.name.clone().unwrap()
            ),
            meta.resource_version.clone().unwrap(),
        );
    }
}

async fn created(client: &Client, namespace: &str, deployment: &str) -> Timestamp {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    api.get(deployment)
        .await
        .unwrap()
        .metadata
        .creation_timestamp
        .unwrap()
        .0
}

#[tokio::test]
async fn the_example_system_syncs_reviews_and_destroys() {
    let project = example();
    let client = support::client().await;
    // A previous run that failed may have left the system behind.
    project.orch(&["destroy", "-e", "staging"]).expect(0);

    let first = project.orch(&["sync", "-e", "staging"]).expect(0);
    let installed = actions(&first.stdout);
    assert_eq!(installed.len(), 9, "{}", first.stdout);
    assert!(
        installed.iter().all(|(_, action)| action == "install"),
        "{}",
        first.stdout
    );

    // Real helm sees orch's releases.
    let helm = std::process::Command::new("helm")
        .args(["list", "-A", "-o", "json"])
        .env("KUBECONFIG", support::kubeconfig())
        .output()
        .expect("run helm");
    let listed: Vec<serde_json::Value> =
        serde_json::from_slice(&helm.stdout).expect("helm list JSON");
    for (release, _) in &installed {
        let (namespace, name) = release.split_once('/').unwrap();
        assert!(
            listed.iter().any(|r| r["name"] == name
                && r["namespace"] == namespace
                && r["status"] == "deployed"),
            "helm list lacks {release}: {listed:?}"
        );
    }

    // The server's chart test passes, and its pod's output is shown.
    let tested = project.orch(&["test", "-e", "staging"]).expect(0);
    assert!(
        tested
            .stdout
            .contains("  Pod   server-test-health  Succeeded  ")
            && tested.stdout.contains("  {\"status\":\"ok\",")
            && tested
                .stdout
                .contains("1 release tested: 1 passed, 0 failed\n"),
        "{}",
        tested.stdout
    );

    let listed = project
        .orch(&["list", "-e", "staging", "--cluster", "-o", "json"])
        .expect(0);
    let listed: Vec<serde_json::Value> = serde_json::from_str(&listed.stdout).unwrap();
    assert!(
        listed
            .iter()
            .all(|r| r["revision"] == 1 && r["status"] == "deployed"),
        "{listed:?}"
    );

    // Each migration finished before its service's Deployment existed, and before the
    // server, which needs both services, started at all.
    for service in ["order-service", "customer-service"] {
        let history = records(&client, "staging", service).await;
        let hook = history[0]
            .hooks
            .iter()
            .find(|h| h.kind == "Job")
            .expect("a migration hook");
        let finished = hook.last_run.completed_at.expect("the migration ran");
        let whole_second = |t: Timestamp| t.as_second();
        assert!(whole_second(finished) <= whole_second(created(&client, "staging", service).await));
        assert!(
            whole_second(finished) <= whole_second(created(&client, "staging", "server").await)
        );
    }
    let started = |release: &str| {
        first
            .stderr
            .lines()
            .position(|line| line.contains(&format!("  {release}  ")))
            .unwrap_or_else(|| panic!("no progress line for {release}"))
    };
    let applied = |release: &str| {
        first
            .stderr
            .lines()
            .position(|line| line.contains(&format!("  {release}  applying")))
            .unwrap()
    };
    assert!(applied("staging/order-service") < started("staging/server"));

    let before = resource_versions(&client).await;
    let again = project.orch(&["sync", "-e", "staging"]).expect(0);
    assert!(
        actions(&again.stdout)
            .iter()
            .all(|(_, action)| action == "no change"),
        "{}",
        again.stdout
    );
    assert_eq!(
        resource_versions(&client).await,
        before,
        "the no-op sync wrote objects"
    );

    let values = project.dir().join("values/apps/server/staging.yaml");
    let text = std::fs::read_to_string(&values)
        .unwrap()
        .replace("replicaCount: 1", "replicaCount: 2");
    std::fs::write(&values, text).unwrap();
    let diff = project
        .orch(&["diff", "-e", "staging", "--detailed-exitcode"])
        .expect(2);
    assert!(
        diff.stdout.contains("~ Deployment staging/server\n"),
        "{}",
        diff.stdout
    );
    assert!(
        diff.stdout.contains("-  replicas: 1\n+  replicas: 2\n"),
        "{}",
        diff.stdout
    );
    assert!(
        diff.stdout
            .contains("1 release changed: 0 objects added, 1 changed, 0 removed"),
        "{}",
        diff.stdout
    );
    let synced = project.orch(&["sync", "-e", "staging"]).expect(0);
    let upgraded: Vec<_> = actions(&synced.stdout)
        .into_iter()
        .filter(|(_, a)| a == "upgrade")
        .collect();
    assert_eq!(
        upgraded,
        vec![("staging/server".to_string(), "upgrade".to_string())]
    );
    project
        .orch(&["diff", "-e", "staging", "--detailed-exitcode"])
        .expect(0);

    let status = project
        .orch(&["status", "-e", "staging", "-o", "json"])
        .expect(0);
    let status: Vec<serde_json::Value> = serde_json::from_str(&status.stdout).unwrap();
    for release in &status {
        assert_eq!(release["status"], "deployed", "{release}");
        assert_eq!(release["ready"], release["total"], "{release}");
        assert_eq!(release["drift"], false, "{release}");
    }

    let destroyed = project.orch(&["destroy", "-e", "staging"]).expect(0);
    let order: Vec<String> = actions(&destroyed.stdout)
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    let at = |release: &str| order.iter().position(|r| r == release).unwrap();
    assert!(
        at("staging/server") < at("staging/order-service")
            && at("staging/order-service") < at("infra/postgres")
    );
    for namespace in NAMESPACES {
        let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
        assert!(
            deployments
                .list(&Default::default())
                .await
                .unwrap()
                .items
                .is_empty(),
            "{namespace}"
        );
    }
    for (release, _) in &installed {
        let (namespace, name) = release.split_once('/').unwrap();
        assert!(
            records(&client, namespace, name).await.is_empty(),
            "{release} has records left"
        );
    }
}
