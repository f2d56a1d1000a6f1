//! A sync against an API server too busy to take every request: it turns many away with
//! 429 (max-in-flight), and orch slows down to what it accepts, after the Retry-After it
//! asks for, instead of failing releases. Runs on a control plane of its own, limited to
//! two requests in flight, one of them a write.

mod support;

use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::api::{Api, PostParams};
use orch::record::Status;
use support::{PrivateCluster, Project, engine_chart, records};

const NAMESPACE: &str = "busy";
const RELEASES: usize = 20;

/// The requests the API server has turned away for being over its in-flight limits.
async fn dropped_requests(admin: &kube::Client) -> f64 {
    let metrics = admin
        .request_text(http::Request::get("/metrics").body(Vec::new()).unwrap())
        .await
        .expect("the API server's metrics");
    metrics
        .lines()
        .filter(|line| line.starts_with("apiserver_dropped_requests_total"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn a_sync_slows_down_to_what_a_busy_api_server_accepts() {
    let cluster = PrivateCluster::start_with_apiserver_args(
        "overload",
        "--enable-priority-and-fairness=false --max-requests-inflight=2 \
         --max-mutating-requests-inflight=1",
    );
    let admin = support::client_for(cluster.kubeconfig()).await;
    // system:masters is exempt from the limits: orch syncs as the deployer, an admin by
    // role only.
    let binding: ClusterRoleBinding = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "deployer-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "deployer"}],
    }))
    .unwrap();
    let bindings: Api<ClusterRoleBinding> = Api::all(admin.clone());
    if bindings.get_opt("deployer-admin").await.unwrap().is_none() {
        bindings
            .create(&PostParams::default(), &binding)
            .await
            .unwrap();
    }
    let mut releases = String::from("helmDefaults:\n  wait: false\nreleases:\n");
    for i in 0..RELEASES {
        releases.push_str(&format!(
            "  - name: r{i}\n    namespace: {NAMESPACE}\n    createNamespace: true\n    chart: {}\n",
            engine_chart().display()
        ));
    }
    let project = Project::new(&releases);
    let admin_config = std::fs::read_to_string(cluster.kubeconfig()).unwrap();
    let deployer = project.dir().join("deployer.kubeconfig");
    std::fs::write(
        &deployer,
        admin_config.replace("token: orch-admin-token", "token: orch-deployer-token"),
    )
    .unwrap();
    let deployer = deployer.to_str().unwrap();

    let before = dropped_requests(&admin).await;
    project
        .orch(&["--kubeconfig", deployer, "sync", "--concurrency", "20"])
        .expect(0);
    let turned_away = dropped_requests(&admin).await - before;
    assert!(
        turned_away > 0.0,
        "the API server turned nothing away: the test did not load it"
    );
    for i in 0..RELEASES {
        let statuses: Vec<Status> = records(&admin, NAMESPACE, &format!("r{i}"))
            .await
            .iter()
            .map(|r| r.info.status)
            .collect();
        assert_eq!(statuses, [Status::Deployed], "r{i}");
    }
    project
        .orch(&["--kubeconfig", deployer, "diff", "--detailed-exitcode"])
        .expect(0);
}
