//! What real public charts rely on at sync time, isolated in charts of our own and synced to
//! the test control plane: manifests read in Kubernetes' YAML dialect (both renderers), and
//! the cluster's own view at diff and sync — `.Capabilities` from discovery and live
//! `lookup` — as `helm upgrade` has it.

mod support;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
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

/// A chart that picks API versions by `.Capabilities.APIVersions.Has`, as charts pick
/// PodDisruptionBudget's and HorizontalPodAutoscaler's, and records what it saw.
fn capabilities_chart(project: &Project) {
    project.write(
        "caps/Chart.yaml",
        "apiVersion: v2\nname: caps\nversion: 0.1.0\n",
    );
    project.write(
        "caps/templates/seen.yaml",
        concat!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: seen\ndata:\n",
            "  policyV1: {{ .Capabilities.APIVersions.Has \"policy/v1\" | quote }}\n",
            "  autoscalingV2: {{ .Capabilities.APIVersions.Has \"autoscaling/v2\" | quote }}\n",
            "  autoscalingV2beta2: {{ .Capabilities.APIVersions.Has \"autoscaling/v2beta2\" | quote }}\n",
            "  deploymentKind: {{ .Capabilities.APIVersions.Has \"apps/v1/Deployment\" | quote }}\n",
            "  kubeMinor: {{ .Capabilities.KubeVersion.Minor | quote }}\n",
        ),
    );
    project.write(
        "caps/templates/pdb.yaml",
        concat!(
            "{{- if .Capabilities.APIVersions.Has \"policy/v1\" }}\napiVersion: policy/v1\n",
            "{{- else }}\napiVersion: policy/v1beta1\n{{- end }}\n",
            "kind: PodDisruptionBudget\nmetadata:\n  name: app\n",
            "spec:\n  maxUnavailable: 1\n  selector: {matchLabels: {app: caps}}\n",
        ),
    );
}

#[tokio::test]
async fn capabilities_at_sync_are_what_the_cluster_serves() {
    let ns = TestNamespace::new("caps").await;
    let project = Project::new(&format!(
        "releases:\n  - name: caps\n    namespace: {}\n    chart: ./caps\n",
        ns.name()
    ));
    capabilities_chart(&project);
    // Offline, as `helm template`: Helm's built-in list, which has policy/v1.
    let offline = project.orch(&["template"]).expect(0);
    assert!(
        offline.stdout.contains("apiVersion: policy/v1\n"),
        "{}",
        offline.stdout
    );

    // The 1.20 control plane serves policy/v1beta1 and autoscaling/v2beta2 only.
    project.orch(&["sync"]).expect(0);
    let seen = ns
        .api::<ConfigMap>()
        .get("seen")
        .await
        .expect("the ConfigMap");
    let data = seen.data.unwrap_or_default();
    let field = |key: &str| data.get(key).map(String::as_str).unwrap_or("missing");
    assert_eq!(field("policyV1"), "false");
    assert_eq!(field("autoscalingV2"), "false");
    assert_eq!(field("autoscalingV2beta2"), "true");
    assert_eq!(field("deploymentKind"), "true");
    assert_eq!(field("kubeMinor"), "20");
    let second = project.orch(&["sync"]).expect(0);
    assert!(second.stdout.contains("no change"), "{}", second.stdout);
}

/// A generated password kept across upgrades by reading the live Secret, as bitnami's
/// charts keep theirs.
fn password_chart(project: &Project) {
    project.write(
        "db/Chart.yaml",
        "apiVersion: v2\nname: db\nversion: 0.1.0\n",
    );
    project.write(
        "db/templates/secret.yaml",
        concat!(
            "{{- $live := lookup \"v1\" \"Secret\" .Release.Namespace \"db\" }}\n",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n",
            "  password: {{ if $live }}{{ index $live.data \"password\" }}{{ else }}{{ randAlphaNum 16 | b64enc }}{{ end }}\n",
        ),
    );
    project.write(
        "db/templates/found.yaml",
        concat!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: found\ndata:\n",
            "  settings: \"{{ range (lookup \"v1\" \"ConfigMap\" .Release.Namespace \"\").items }}",
            "{{ if eq .metadata.name \"settings\" }}{{ .kind }} {{ .data.mode }}{{ end }}{{ end }}\"\n",
        ),
    );
}

async fn password(ns: &TestNamespace) -> Vec<u8> {
    let secret = ns.api::<Secret>().get("db").await.expect("the Secret");
    secret.data.unwrap_or_default()["password"].0.clone()
}

#[tokio::test]
async fn a_generated_password_survives_the_next_sync_through_live_lookup() {
    for renderer in ["native", "helm"] {
        let ns = TestNamespace::new(&format!("lookup-{renderer}")).await;
        let project = Project::new(&format!(
            "releases:\n  - name: db\n    namespace: {}\n    chart: ./db\n",
            ns.name()
        ));
        password_chart(&project);
        let settings: ConfigMap = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "settings"}, "data": {"mode": "fast"}
        }))
        .expect("a ConfigMap");
        ns.api::<ConfigMap>()
            .create(&Default::default(), &settings)
            .await
            .expect("create the settings ConfigMap");
        let orch = |args: &[&str]| {
            let mut args = args.to_vec();
            args.extend(["--renderer", renderer]);
            project.orch(&args)
        };
        orch(&["sync"]).expect(0);
        let first = password(&ns).await;
        assert_eq!(first.len(), 16, "{renderer}");
        // A list lookup: its items are whole objects, kind included.
        let found = ns
            .api::<ConfigMap>()
            .get("found")
            .await
            .expect("the ConfigMap");
        assert_eq!(
            found.data.unwrap_or_default()["settings"],
            "ConfigMap fast",
            "{renderer}"
        );

        let diff = orch(&["diff", "--detailed-exitcode"]);
        assert_eq!(
            diff.code,
            0,
            "{renderer}: no change to show: {}",
            diff.all_output()
        );
        let second = orch(&["sync"]).expect(0);
        assert!(
            second.stdout.contains("no change"),
            "{renderer}: {}",
            second.stdout
        );
        assert_eq!(
            password(&ns).await,
            first,
            "{renderer}: the live password is kept"
        );
    }
}

/// A chart that records what `.Release` says, as charts that act on upgrades read it.
fn release_chart(project: &Project) {
    project.write(
        "rel/Chart.yaml",
        "apiVersion: v2\nname: rel\nversion: 0.1.0\n",
    );
    project.write(
        "rel/templates/release.yaml",
        concat!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: release\ndata:\n",
            "  upgrade: {{ .Release.IsUpgrade | quote }}\n",
            "  install: {{ .Release.IsInstall | quote }}\n",
        ),
    );
}

#[tokio::test]
async fn an_upgrade_renders_as_an_upgrade_with_either_renderer() {
    for renderer in ["native", "helm"] {
        let ns = TestNamespace::new(&format!("upgrade-{renderer}")).await;
        let project = Project::new(&format!(
            "releases:\n  - name: rel\n    namespace: {}\n    chart: ./rel\n",
            ns.name()
        ));
        release_chart(&project);
        let seen = || async {
            let map = ns
                .api::<ConfigMap>()
                .get("release")
                .await
                .expect("the ConfigMap");
            let data = map.data.unwrap_or_default();
            (data["upgrade"].clone(), data["install"].clone())
        };
        project.orch(&["sync", "--renderer", renderer]).expect(0);
        assert_eq!(seen().await, ("false".into(), "true".into()), "{renderer}");
        // Offline, as `helm template`: always an install.
        let offline = project
            .orch(&["template", "--renderer", renderer])
            .expect(0);
        assert!(
            offline.stdout.contains("upgrade: \"false\""),
            "{}",
            offline.stdout
        );
        project.orch(&["sync", "--renderer", renderer]).expect(0);
        assert_eq!(seen().await, ("true".into(), "false".into()), "{renderer}");
    }
}
