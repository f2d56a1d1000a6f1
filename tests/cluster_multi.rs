//! One run across two clusters: two control planes of this test's own (`east` and
//! `west`, each accepting only its own admin token), one kubeconfig with a context for
//! each, and releases on both with a need from one to the other. The first sync installs each release on its cluster after what it
//! needs, a second sync (and apply) changes nothing, status and destroy cover both; a
//! cluster that dies during a sync, or cannot be reached when it starts, fails only its
//! own releases and their dependents, and the next sync converges.

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use orch::record::Status;
use serde_json::Value;
use support::{PrivateCluster, Project, engine_chart, records};

const NAMESPACE: &str = "multi";

/// `db` and `worker` on east, `api` on west needing east's `db`; `db` is ready only after
/// `ready_after`, so `api` waits for it.
fn releases(greeting: &str, ready_after: &str) -> String {
    let chart = engine_chart();
    let chart = chart.display();
    format!(
        "helmDefaults:\n  timeout: 60\nreleases:\n\
         - name: db\n  namespace: {NAMESPACE}\n  kubeContext: east\n  chart: {chart}\n  values:\n  - config: {{greeting: {greeting}}}\n  - podAnnotations: {{simulator.orch.dev/ready-after: {ready_after}}}\n\
         - name: worker\n  namespace: {NAMESPACE}\n  kubeContext: east\n  chart: {chart}\n  values:\n  - config: {{greeting: {greeting}}}\n\
         - name: api\n  namespace: {NAMESPACE}\n  kubeContext: west\n  chart: {chart}\n  needs: [east/{NAMESPACE}/db]\n  values:\n  - config: {{greeting: {greeting}}}\n"
    )
}

/// One kubeconfig with a context, cluster and user of each name, from each cluster's own.
fn merged_kubeconfig(dir: &Path, clusters: &[(&str, &PrivateCluster)]) -> PathBuf {
    let mut out = String::from("apiVersion: v1\nkind: Config\n");
    let read = |cluster: &PrivateCluster| -> Value {
        let text = std::fs::read_to_string(cluster.kubeconfig()).unwrap();
        serde_yaml_ng::from_str(&text).unwrap()
    };
    let sections = [("clusters", "cluster"), ("users", "user")];
    for (section, field) in sections {
        out.push_str(&format!("{section}:\n"));
        for (name, cluster) in clusters {
            let entry = &read(cluster)[section][0][field];
            out.push_str(&format!("- name: {name}\n  {field}: {entry}\n"));
        }
    }
    out.push_str("contexts:\n");
    for (name, _) in clusters {
        out.push_str(&format!(
            "- name: {name}\n  context: {{cluster: {name}, user: {name}}}\n"
        ));
    }
    out.push_str(&format!("current-context: {}\n", clusters[0].0));
    let path = dir.join("kubeconfig");
    std::fs::write(&path, out).unwrap();
    path
}

/// Kills the control plane but etcd, as a crash would; `up` starts it again. The
/// controllers and the node simulator go too, so that they do not back off reconnecting.
fn kill(cluster: &PrivateCluster) {
    for component in [
        "kube-apiserver",
        "kube-controller-manager",
        "orch-node-simulator",
    ] {
        cluster.kill(component);
    }
}

/// The latest revision of `release` on `cluster`, and its status.
async fn latest(cluster: &PrivateCluster, release: &str) -> Option<(u32, Status)> {
    let history = records(
        &support::client_for(cluster.kubeconfig()).await,
        NAMESPACE,
        release,
    )
    .await;
    history.last().map(|r| (r.version, r.info.status))
}

#[tokio::test]
async fn one_run_syncs_releases_on_two_clusters_in_need_order_and_a_dead_one_fails_only_its_own() {
    let (east, west) = std::thread::scope(|scope| {
        // Each with its own admin token: one sent to the other cluster would be refused.
        let east = scope.spawn(|| PrivateCluster::start_with_token("multi-east", "east-token"));
        let west = scope.spawn(|| PrivateCluster::start_with_token("multi-west", "west-token"));
        (east.join().unwrap(), west.join().unwrap())
    });
    let project = Project::new(&releases("one", "2s"));
    let kubeconfig = merged_kubeconfig(project.dir(), &[("east", &east), ("west", &west)]);
    let kubeconfig = kubeconfig.to_str().unwrap();
    let orch = |args: &[&str]| project.orch(&[&["--kubeconfig", kubeconfig], args].concat());

    // First sync: each release on its own cluster; api only after east's db is ready.
    let first = orch(&["sync"]).expect(0);
    for (cluster, release) in [
        ("east", "multi/db"),
        ("east", "multi/worker"),
        ("west", "multi/api"),
    ] {
        let row = first.stdout.lines().find(|l| l.contains(release));
        assert!(
            row.is_some_and(|row| row.starts_with(cluster)),
            "{release} not on {cluster}:\n{}",
            first.stdout
        );
    }
    assert!(first.stdout.starts_with("CLUSTER"), "{}", first.stdout);
    assert_eq!(latest(&east, "db").await, Some((1, Status::Deployed)));
    assert_eq!(latest(&east, "worker").await, Some((1, Status::Deployed)));
    assert_eq!(latest(&west, "api").await, Some((1, Status::Deployed)));
    // Each cluster holds its own releases only.
    assert_eq!(latest(&west, "db").await, None);
    assert_eq!(latest(&east, "api").await, None);
    let east_client = support::client_for(east.kubeconfig()).await;
    let west_client = support::client_for(west.kubeconfig()).await;
    let db = records(&east_client, NAMESPACE, "db").await;
    let api = records(&west_client, NAMESPACE, "api").await;
    assert!(
        api[0].info.first_deployed >= db[0].info.last_deployed,
        "api started before db was deployed: {:?} < {:?}",
        api[0].info.first_deployed,
        db[0].info.last_deployed
    );

    // A second sync changes nothing on either.
    let again = orch(&["sync"]).expect(0);
    assert_eq!(
        again.stdout.matches("no change").count(),
        3,
        "{}",
        again.stdout
    );
    orch(&["diff", "--detailed-exitcode"]).expect(0);
    let apply = orch(&["apply"]).expect(0);
    assert!(!apply.stdout.contains("release"), "{}", apply.stdout);

    // status and list name each release's cluster.
    let status = orch(&["status", "-o", "json"]).expect(0);
    let status: Vec<Value> = serde_json::from_str(&status.stdout).unwrap();
    let clusters: Vec<(&str, &str)> = status
        .iter()
        .map(|s| {
            (
                s["release"].as_str().unwrap(),
                s["cluster"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        clusters,
        [
            ("east/multi/db", "east"),
            ("east/multi/worker", "east"),
            ("west/multi/api", "west")
        ]
    );
    let listed = orch(&["list", "--cluster", "-o", "json"]).expect(0);
    let listed: Vec<Value> = serde_json::from_str(&listed.stdout).unwrap();
    assert!(
        listed
            .iter()
            .all(|r| r["revision"] == 1 && r["cluster"].is_string()),
        "{listed:?}"
    );

    // West dies while east's db is still becoming ready: east's releases finish, api fails.
    project.write("helmfile.yaml", &releases("two", "4s"));
    let sync = project
        .command(&["--kubeconfig", kubeconfig, "sync"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    kill(&west);
    let output = sync.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("release west/multi/api failed"), "{stdout}");
    assert_eq!(latest(&east, "db").await, Some((2, Status::Deployed)));
    assert_eq!(latest(&east, "worker").await, Some((2, Status::Deployed)));
    west.up();
    let (version, status) = latest(&west, "api").await.unwrap();
    assert!(
        matches!(
            (version, status),
            (1, Status::Deployed) | (2, Status::Failed) | (2, Status::PendingUpgrade)
        ),
        "api at {version} {status:?}"
    );
    // The next sync converges.
    orch(&["sync"]).expect(0);
    assert_eq!(latest(&west, "api").await.unwrap().1, Status::Deployed);

    // West cannot be reached when the run starts: its release fails with why, east's sync.
    kill(&west);
    project.write("helmfile.yaml", &releases("three", "1s"));
    let run = orch(&["sync"]).expect(1);
    assert!(
        run.stdout
            .contains("release west/multi/api failed: cluster west"),
        "{}",
        run.stdout
    );
    assert_eq!(latest(&east, "worker").await, Some((3, Status::Deployed)));
    west.up();

    // destroy removes the releases from both clusters.
    orch(&["destroy"]).expect(0);
    for (cluster, release) in [(&east, "db"), (&east, "worker"), (&west, "api")] {
        assert_eq!(latest(cluster, release).await, None, "{release}");
    }
}
