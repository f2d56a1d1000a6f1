//! What real public charts rely on at sync time, isolated in charts of our own and synced to
//! the test control plane with both renderers: manifests read in Kubernetes' YAML dialect.

mod support;

use k8s_openapi::api::apps::v1::Deployment;
use support::{Project, TestNamespace};

/// A chart whose Deployment mounts a ConfigMap with `defaultMode: 0755`, as bitnami's redis
/// and kafka charts of 2022 write it: YAML 1.1 reads that as the octal 493, and the API
/// server refuses anything but a number.
fn octal_mode_chart(project: &Project) {
    project.write(
        "octal/Chart.yaml",
        "apiVersion: v2\nname: octal\nversion: 0.1.0\n",
    );
    project.write(
        "octal/templates/scripts.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: scripts\ndata:\n  start.sh: echo start\n",
    );
    project.write(
        "octal/templates/deployment.yaml",
        concat!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n",
            "  selector: {matchLabels: {app: octal}}\n  template:\n",
            "    metadata: {labels: {app: octal}}\n    spec:\n",
            "      containers:\n        - name: app\n          image: busybox\n",
            "          volumeMounts: [{name: scripts, mountPath: /scripts}]\n",
            "      volumes:\n        - name: scripts\n",
            "          configMap:\n            name: scripts\n            defaultMode: 0755\n",
        ),
    );
}

#[tokio::test]
async fn octal_file_modes_sync_as_kubectl_reads_them_with_either_renderer() {
    for renderer in ["native", "helm"] {
        let ns = TestNamespace::new(&format!("octal-{renderer}")).await;
        let project = Project::new(&format!(
            "releases:\n  - name: octal\n    namespace: {}\n    chart: ./octal\n",
            ns.name()
        ));
        octal_mode_chart(&project);
        project.orch(&["sync", "--renderer", renderer]).expect(0);
        let deployment = ns
            .api::<Deployment>()
            .get("app")
            .await
            .expect("the Deployment");
        let mode = deployment
            .spec
            .and_then(|s| s.template.spec)
            .and_then(|s| s.volumes)
            .and_then(|v| v.into_iter().next())
            .and_then(|v| v.config_map)
            .and_then(|c| c.default_mode);
        assert_eq!(mode, Some(493), "{renderer}: 0755 is octal");
        let second = project.orch(&["sync", "--renderer", renderer]).expect(0);
        assert!(
            second.stdout.contains("no change"),
            "{renderer}: {}",
            second.stdout
        );
    }
}
