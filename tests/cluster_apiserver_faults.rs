//! The API server killed in the middle of syncs, at a different point each round: orch
//! fails cleanly in bounded time, every release stays at its old or new revision recorded
//! truthfully (or pending, which the next run takes over), and one plain `orch sync`
//! converges. Runs on a control plane of its own; the controllers and the node simulator
//! are killed with the API server, and everything but etcd is restarted each round.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use orch::record::Status;
use support::{PrivateCluster, Project, engine_chart};

const ROUNDS: u64 = 10;
const NAMESPACE: &str = "faults";

fn releases(greeting: &str) -> String {
    let chart = engine_chart();
    let mut text = String::from("releases:\n");
    for (name, extra) in [
        (
            "migrated",
            "values:\n  - migration: {enabled: true}\n  - podAnnotations: {simulator.orch.dev/ready-after: 1s}",
        ),
        ("follower", "needs: [migrated]"),
        (
            "alone",
            "values:\n  - podAnnotations: {simulator.orch.dev/ready-after: 2s}",
        ),
        ("last", "needs: [alone, follower]"),
    ] {
        text.push_str(&format!("  - name: {name}\n    namespace: {NAMESPACE}\n    chart: {}\n    set:\n      - {{name: config.greeting, value: {greeting}}}\n", chart.display()));
        for line in extra.lines() {
            text.push_str(&format!("    {line}\n"));
        }
    }
    text
}

/// A spread of kill points over a sync of a few seconds, the same on every run.
fn kill_after(round: u64) -> Duration {
    Duration::from_millis((round * 7919 + 1301) % 3500)
}

#[tokio::test]
async fn killing_the_api_server_mid_sync_never_leaves_a_release_half_recorded() {
    let cluster = PrivateCluster::start("apiserver-faults");
    let kubeconfig = cluster.kubeconfig().to_str().unwrap().to_string();
    let project = Project::new(&releases("round-0"));
    project
        .orch(&["--kubeconfig", &kubeconfig, "sync"])
        .expect(0);
    let mut outcomes = Vec::new();
    for round in 1..=ROUNDS {
        let greeting = format!("round-{round}");
        project.write("helmfile.yaml", &releases(&greeting));
        let mut sync = project
            .command(&["--kubeconfig", &kubeconfig, "sync"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        tokio::time::sleep(kill_after(round)).await;
        cluster.kill("kube-apiserver");
        // The controllers and the simulator go too: reconnecting after an API server crash
        // they back off further each round, which would only slow the test down.
        cluster.kill("kube-controller-manager");
        cluster.kill("orch-node-simulator");
        let started = Instant::now();
        let deadline = started + Duration::from_secs(90);
        while sync.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "round {round}: orch hangs after the API server died"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let output = sync.wait_with_output().unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!all.contains("panicked"), "round {round}: {all}");
        let code = output.status.code().unwrap_or(-1);
        if code != 0 {
            assert_eq!(code, 1, "round {round}: {all}");
            assert!(
                all.contains("error") || all.contains("failed"),
                "round {round}: no reason given: {all}"
            );
        }
        outcomes.push((round, code, started.elapsed()));

        cluster.up();
        let client = support::client_for(cluster.kubeconfig()).await;
        for release in ["migrated", "follower", "alone", "last"] {
            let history = support::records(&client, NAMESPACE, release).await;
            let latest = history
                .last()
                .expect("every release was installed in round 0");
            let allowed = [Status::Deployed, Status::Failed, Status::PendingUpgrade];
            assert!(
                allowed.contains(&latest.info.status),
                "round {round}: {release} is {:?}",
                latest.info.status
            );
            if latest.info.status == Status::Deployed {
                // Recorded deployed means its objects are there: the old revision's or the new one's.
                let recorded = latest.config["config"]["greeting"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), NAMESPACE);
                let live = config_maps.get(&format!("{release}-config")).await.unwrap();
                assert_eq!(
                    live.data.unwrap()["greeting"],
                    recorded,
                    "round {round}: {release}"
                );
                assert!(
                    recorded == greeting || recorded == format!("round-{}", round - 1),
                    "round {round}: {release} at {recorded}"
                );
            }
        }
        let converge = project.orch(&["--kubeconfig", &kubeconfig, "sync"]);
        assert_eq!(
            converge.code,
            0,
            "round {round}: the re-run did not converge:\n{}",
            converge.all_output()
        );
        project
            .orch(&["--kubeconfig", &kubeconfig, "diff", "--detailed-exitcode"])
            .expect(0);
    }
    let failed = outcomes.iter().filter(|(_, code, _)| *code != 0).count();
    eprintln!(
        "API server killed in {ROUNDS} rounds; orch failed cleanly in {failed}: {outcomes:?}"
    );
    assert!(
        failed >= ROUNDS as usize / 2,
        "most kills should land mid-sync: {outcomes:?}"
    );
}

#[tokio::test]
async fn a_paused_api_server_times_out_naming_the_object_and_a_rerun_converges() {
    let cluster = PrivateCluster::start("apiserver-paused");
    let kubeconfig = cluster.kubeconfig().to_str().unwrap().to_string();
    let chart = engine_chart();
    let slow = format!(
        "releases:\n  - name: slow\n    namespace: {NAMESPACE}\n    chart: {}\n    timeout: 3\n    values:\n      - podAnnotations: {{simulator.orch.dev/ready-after: 30s}}\n",
        chart.display()
    );
    let project = Project::new(&slow);
    let mut sync = project
        .command(&["--kubeconfig", &kubeconfig, "sync"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Pause it once orch waits for readiness: the record is written, the objects applied.
    let client = support::client_for(cluster.kubeconfig()).await;
    let waiting_since = Instant::now();
    while support::records(&client, NAMESPACE, "slow")
        .await
        .is_empty()
    {
        assert!(
            waiting_since.elapsed() < Duration::from_secs(30),
            "orch never started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.signal("kube-apiserver", "-STOP");
    let paused = Instant::now();
    while sync.try_wait().unwrap().is_none() {
        assert!(
            paused.elapsed() < Duration::from_secs(30),
            "orch hangs on a paused API server"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = paused.elapsed();
    cluster.signal("kube-apiserver", "-CONT");
    let output = sync.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    // Depending on whether a connection stood open, the wait times out or the next read
    // finds no answer; either way the release and the object are named.
    let named = format!("release {NAMESPACE}/slow failed: ");
    let object = format!("Deployment {NAMESPACE}/slow");
    assert!(
        stdout.contains(&named) && stdout.contains(&object),
        "{stdout}"
    );
    let why = ["timed out waiting for", "no answer from the API server"];
    assert!(why.iter().any(|w| stdout.contains(w)), "{stdout}");
    eprintln!("orch gave up {took:?} after the API server paused");

    let resumed = Instant::now();
    while client.apiserver_version().await.is_err() {
        assert!(
            resumed.elapsed() < Duration::from_secs(30),
            "the API server did not come back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let fixed = slow.replace("30s", "0s");
    project.write("helmfile.yaml", &fixed);
    project
        .orch(&["--kubeconfig", &kubeconfig, "sync"])
        .expect(0);
    project
        .orch(&["--kubeconfig", &kubeconfig, "diff", "--detailed-exitcode"])
        .expect(0);
}
