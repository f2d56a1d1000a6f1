//! A chart rendered as an embedder renders it: subcharts chosen by values, `.Files`,
//! `.Capabilities`, `lookup` through the embedder's `Lookup`, and `helm template`'s output
//! order and headers.

use std::path::Path;
use std::sync::Arc;

use helm_engine::{CapabilitiesInfo, Lookup, NativeRenderer, ReleaseInfo, render_chart, to_stream};

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// A chart `app` with a subchart `cache` behind `cache.enabled`.
fn chart() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: cache\n  version: 0.1.0\n  condition: cache.enabled\n",
            ),
            ("values.yaml", "replicas: 1\ncache:\n  enabled: false\n"),
            ("files/motd.txt", "hello\n"),
            (
                "templates/deployment.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: {{ .Values.replicas }}\n",
            ),
            (
                "templates/service.yaml",
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n",
            ),
            (
                "templates/config.yaml",
                concat!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n",
                    "  motd: {{ .Files.Get \"files/motd.txt\" | trim | quote }}\n",
                    "  pdb: {{ ternary \"policy/v1\" \"policy/v1beta1\" (.Capabilities.APIVersions.Has \"policy/v1\") }}\n",
                    "  kube: {{ .Capabilities.KubeVersion.Version }}\n",
                    "{{- $secret := lookup \"v1\" \"Secret\" .Release.Namespace \"app\" }}\n",
                    "  password: {{ if $secret }}{{ $secret.data.password }}{{ else }}generated{{ end }}\n",
                    "  numbers: {{ with $secret }}{{ printf \"%T\" .metadata.generation }}{{ end }}\n",
                ),
            ),
            (
                "charts/cache/Chart.yaml",
                "apiVersion: v2\nname: cache\nversion: 0.1.0\n",
            ),
            (
                "charts/cache/templates/cache.yaml",
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-cache\n",
            ),
        ],
    );
    dir
}

fn release() -> ReleaseInfo {
    ReleaseInfo {
        name: "web".into(),
        namespace: "shop".into(),
        revision: 1,
        is_upgrade: false,
    }
}

#[test]
fn renders_in_helms_order_with_files_and_capabilities() {
    let chart = chart();
    let capabilities = CapabilitiesInfo::new(Some("v1.20.2"), &[]).unwrap();
    let out = render_chart(
        chart.path(),
        &release(),
        &serde_json::json!({}),
        &capabilities,
    )
    .map(|documents| to_stream(&documents))
    .unwrap();
    let sources: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("# Source: "))
        .collect();
    // ConfigMap, then Service, then Deployment: Helm's install order, not file order.
    assert_eq!(
        sources,
        [
            "app/templates/config.yaml",
            "app/templates/service.yaml",
            "app/templates/deployment.yaml"
        ]
    );
    assert!(out.contains("  motd: \"hello\"\n"), "{out}");
    // Helm's built-in API versions include policy/v1 whatever the version: the cluster's own
    // view is the embedder's to give.
    assert!(out.contains("  pdb: policy/v1\n"), "{out}");
    assert!(out.contains("  kube: v1.20.2\n"), "{out}");
    assert!(out.contains("  password: generated\n"), "{out}");
}

#[test]
fn a_condition_in_the_values_enables_the_subchart() {
    let chart = chart();
    let capabilities = CapabilitiesInfo::new(None, &[]).unwrap();
    let values = serde_json::json!({ "cache": { "enabled": true }, "replicas": 3 });
    let out = to_stream(&render_chart(chart.path(), &release(), &values, &capabilities).unwrap());
    assert!(
        out.contains("# Source: app/charts/cache/templates/cache.yaml\n"),
        "{out}"
    );
    assert!(out.contains("  name: web-cache\n"), "{out}");
    assert!(out.contains("  replicas: 3\n"), "{out}");
}

/// The live Secret that `lookup` finds, as a cluster would answer.
struct LiveSecret;

impl Lookup for LiveSecret {
    fn lookup(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<serde_json::Value, String> {
        Ok(match (api_version, kind, namespace, name) {
            ("v1", "Secret", "shop", "app") => {
                serde_json::json!({
                    "metadata": { "generation": 3 },
                    "data": { "password": "kept" }
                })
            }
            _ => serde_json::json!({}),
        })
    }
}

#[test]
fn lookup_goes_to_the_embedders_cluster() {
    let chart = chart();
    let capabilities = CapabilitiesInfo::new(None, &[]).unwrap();
    let renderer = NativeRenderer::with_lookup(Arc::new(LiveSecret));
    let out = renderer
        .render(
            chart.path(),
            &release(),
            &serde_json::json!({}),
            &capabilities,
        )
        .map(|documents| to_stream(&documents))
        .unwrap();
    assert!(out.contains("  password: kept\n"), "{out}");
    // Whole numbers of live objects are int64, as client-go's unstructured decoding makes them.
    assert!(out.contains("  numbers: int64\n"), "{out}");
}

#[test]
fn a_template_error_names_chart_file_line_and_column() {
    let chart = chart();
    write(
        chart.path(),
        &[(
            "templates/broken.yaml",
            "a: 1\nb: {{ required \"set b\" .Values.b }}\n",
        )],
    );
    let capabilities = CapabilitiesInfo::new(None, &[]).unwrap();
    let err = render_chart(
        chart.path(),
        &release(),
        &serde_json::json!({}),
        &capabilities,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "execution error at (app/templates/broken.yaml:2:7): set b"
    );
}

#[test]
fn kind_order_is_helms() {
    use helm_engine::kind_order::cmp_install;
    use std::cmp::Ordering::*;
    assert_eq!(cmp_install("Namespace", "Deployment"), Less);
    assert_eq!(cmp_install("Service", "Deployment"), Less);
    // Kinds Helm does not list (custom resources) come last, by name among themselves.
    assert_eq!(cmp_install("Widget", "APIService"), Greater);
    assert_eq!(cmp_install("Alpha", "Widget"), Less);
}

#[test]
fn a_documents_object_is_what_kubernetes_reads_from_its_printed_text() {
    let chart = chart();
    // Trimmed for splitting, a document's last block scalar would lose its line break;
    // printed, it ends in one, and that is what the API server receives.
    write(
        chart.path(),
        &[(
            "templates/script.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: script\ndata:\n  run.sh: |\n    echo hi\n",
        )],
    );
    let capabilities = CapabilitiesInfo::new(None, &[]).unwrap();
    let documents = render_chart(
        chart.path(),
        &release(),
        &serde_json::json!({}),
        &capabilities,
    )
    .unwrap();
    let script = documents
        .iter()
        .find(|d| d.source == "app/templates/script.yaml")
        .unwrap();
    assert!(script.text.ends_with("    echo hi\n"), "{:?}", script.text);
    let object = script.object.as_ref().unwrap();
    assert_eq!(object["data"]["run.sh"], "echo hi\n");
}

#[test]
fn a_chart_yaml_without_api_version_is_a_v1_chart_as_helm_loads_it() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("Chart.yaml", "name: old\nversion: 1.0.0\n"),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Chart.Name }}-{{ .Chart.APIVersion }}\n",
            ),
        ],
    );
    let capabilities = CapabilitiesInfo::new(None, &[]).unwrap();
    let documents = render_chart(
        dir.path(),
        &release(),
        &serde_json::json!({}),
        &capabilities,
    )
    .unwrap();
    assert!(
        to_stream(&documents).contains("name: old-v1"),
        "{}",
        to_stream(&documents)
    );
}
