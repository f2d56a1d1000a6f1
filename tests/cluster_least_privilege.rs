//! orch with an identity allowed only in one namespace: it syncs the releases there (no
//! cluster-admin needed with `createNamespace: false`), and for anything else reports
//! "forbidden" with the verb, resource and namespace, touching nothing.

mod support;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::PostParams;
use support::{Project, TestNamespace, engine_chart, records};

/// A kubeconfig for the test cluster's `deployer` user (hack/cluster/up.sh makes its token).
fn deployer_kubeconfig(dir: &std::path::Path) -> std::path::PathBuf {
    let admin = std::fs::read_to_string(support::kubeconfig()).expect("the test kubeconfig");
    assert!(
        admin.contains("token: orch-admin-token"),
        "an admin token to swap: {admin}"
    );
    let path = dir.join("deployer.kubeconfig");
    std::fs::write(
        &path,
        admin.replace("token: orch-admin-token", "token: orch-deployer-token"),
    )
    .unwrap();
    path
}

#[tokio::test]
async fn a_namespace_scoped_identity_syncs_its_namespace_and_nothing_else() {
    let allowed = TestNamespace::new("allowed").await;
    let forbidden = TestNamespace::new("forbidden").await;
    let role: Role = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "deployer"},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]
    }))
    .unwrap();
    allowed
        .api::<Role>()
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    let binding: RoleBinding = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "deployer"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "deployer"}]
    }))
    .unwrap();
    allowed
        .api::<RoleBinding>()
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();

    let chart = engine_chart();
    let project = Project::new(&format!(
        "helmDefaults:\n  createNamespace: false\nreleases:\n  - {{name: app, namespace: {}, chart: {}}}\n  - {{name: other, namespace: {}, chart: {}}}\n",
        allowed.name(),
        chart.display(),
        forbidden.name(),
        chart.display()
    ));
    let kubeconfig = deployer_kubeconfig(project.dir());
    let kubeconfig = kubeconfig.to_str().unwrap();

    let run = project
        .orch(&["--kubeconfig", kubeconfig, "sync"])
        .expect(1);
    let row = |release: &str| {
        run.stdout
            .lines()
            .find(|l| l.starts_with(&format!("{release} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        row(&format!("{}/app", allowed.name())).contains("install"),
        "{}",
        run.stdout
    );
    assert!(
        row(&format!("{}/other", forbidden.name())).contains("failed"),
        "{}",
        run.stdout
    );
    let expected = format!(
        "User \"deployer\" cannot list resource \"secrets\" in API group \"\" in the namespace \"{}\"",
        forbidden.name()
    );
    assert!(
        run.stdout.contains("forbidden") && run.stdout.contains(&expected),
        "{}",
        run.stdout
    );

    assert_eq!(
        records(&allowed.client(), allowed.name(), "app")
            .await
            .len(),
        1
    );
    assert!(
        allowed
            .api::<Deployment>()
            .get_opt("app")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        forbidden
            .api::<ConfigMap>()
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .iter()
            .all(|c| c.metadata.name.as_deref() == Some("kube-root-ca.crt"))
    );
    assert!(
        forbidden
            .api::<Deployment>()
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let secrets = forbidden
        .api::<Secret>()
        .list(&Default::default())
        .await
        .unwrap();
    assert!(secrets.items.iter().all(|s| {
        !s.metadata
            .name
            .clone()
            .unwrap_or_default()
            .starts_with("sh.helm")
    }));

    let own = project.orch(&[
        "--kubeconfig",
        kubeconfig,
        "diff",
        "--detailed-exitcode",
        "-l",
        &format!("namespace={}", allowed.name()),
    ]);
    own.expect(0);
}
