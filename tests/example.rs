//! The bundled coffee-ordering system, through the offline commands, as the README runs it.

mod offline;

use offline::{objects, orch, orch_ok, repo};
use serde_json::Value;

fn rendered(environment: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["template", "-e", environment];
    args.extend_from_slice(extra);
    objects(&orch_ok(&repo(), &args))
        .iter()
        .map(|o| serde_json::from_str(o).unwrap())
        .collect()
}

fn kinds(objects: &[Value], kind: &str) -> Vec<String> {
    let mut names: Vec<String> = objects
        .iter()
        .filter(|o| o["kind"] == kind)
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn staging_and_prod_render_every_release() {
    for environment in ["staging", "prod"] {
        let objects = rendered(environment, &[]);
        let deployments = kinds(&objects, "Deployment");
        for app in [
            "server",
            "order-service",
            "customer-service",
            "grafana",
            "prometheus",
            "otel-collector",
        ] {
            assert!(
                deployments.contains(&app.to_string()),
                "{environment}: no Deployment {app}: {deployments:?}"
            );
        }
        assert_eq!(
            kinds(&objects, "StatefulSet").len(),
            2,
            "{environment}: postgres and kafka"
        );
        let jobs = kinds(&objects, "Job");
        assert_eq!(
            jobs.len(),
            2,
            "{environment}: one migration Job each for orders and customers: {jobs:?}"
        );
        for job in objects.iter().filter(|o| o["kind"] == "Job") {
            let hook = job["metadata"]["annotations"]["helm.sh/hook"]
                .as_str()
                .unwrap_or("");
            assert_eq!(hook, "pre-install,pre-upgrade", "{job}");
        }
    }
}

#[test]
fn prod_differs_from_staging_where_a_user_expects() {
    let staging = rendered("staging", &[]);
    let prod = rendered("prod", &[]);
    assert!(kinds(&staging, "HorizontalPodAutoscaler").is_empty());
    assert_eq!(kinds(&prod, "HorizontalPodAutoscaler").len(), 3);
    let host = |objects: &[Value]| {
        objects
            .iter()
            .find(|o| o["kind"] == "Ingress" && o["metadata"]["name"] == "server")
            .map(|o| o["spec"]["rules"][0]["host"].as_str().unwrap().to_string())
    };
    assert_eq!(
        host(&staging).as_deref(),
        Some("coffee.staging.example.com")
    );
    assert_eq!(host(&prod).as_deref(), Some("coffee.example.com"));
}

#[test]
fn selection_renders_only_the_selected_release() {
    let objects = rendered("staging", &["-l", "name=server"]);
    assert!(!objects.is_empty());
    for object in &objects {
        let instance = &object["metadata"]["labels"]["app.kubernetes.io/instance"];
        assert_eq!(instance, "server", "{object}");
    }
}

#[test]
fn list_graph_and_lint_describe_the_system() {
    let list: Vec<Value> =
        serde_json::from_str(&orch_ok(&repo(), &["list", "-e", "staging", "-o", "json"])).unwrap();
    assert_eq!(list.len(), 9);
    let server = list.iter().find(|r| r["name"] == "server").unwrap();
    assert_eq!(server["namespace"], "staging");
    assert_eq!(
        server["needs"],
        serde_json::json!(["order-service", "customer-service", "infra/valkey"])
    );

    let graph = orch_ok(&repo(), &["graph", "-e", "prod"]);
    let group_of = |release: &str| -> u32 {
        graph
            .lines()
            .find(|line| line.split_whitespace().nth(1) == Some(release))
            .and_then(|line| line.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("{release} not in graph:\n{graph}"))
    };
    assert!(group_of("infra/postgres") < group_of("prod/order-service"));
    assert!(group_of("prod/order-service") < group_of("prod/server"));

    let mermaid = orch_ok(&repo(), &["graph", "-e", "prod", "-o", "mermaid"]);
    assert!(mermaid.starts_with("flowchart LR\n"));
    let dot = orch_ok(&repo(), &["graph", "-e", "prod", "-o", "dot"]);
    assert!(
        dot.contains("\"prod/server\" -> \"prod/order-service\";"),
        "{dot}"
    );

    let lint = orch_ok(&repo(), &["lint", "-e", "prod"]);
    assert!(lint.starts_with("ok: 9 releases"), "{lint}");
}

#[test]
fn write_values_shows_the_merged_values() {
    let out = orch_ok(
        &repo(),
        &[
            "write-values",
            "-e",
            "prod",
            "-l",
            "name=server",
            "--set",
            "replicaCount=7",
        ],
    );
    assert!(out.starts_with("---\n# Release: prod/server\n"), "{out}");
    let values: Value = serde_yaml_ng::from_str(out.split_once('\n').unwrap().1).unwrap();
    assert_eq!(values["replicaCount"], 7);
    assert_eq!(values["ingress"]["host"], "coffee.example.com");
}

#[test]
fn template_output_dir_writes_one_tree_per_release() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    orch_ok(
        &repo(),
        &[
            "template",
            "-e",
            "staging",
            "-l",
            "tier=infra",
            "--output-dir",
            out,
        ],
    );
    let deployment = dir
        .path()
        .join("infra/postgres/postgres/templates/statefulset.yaml");
    assert!(deployment.is_file(), "missing {}", deployment.display());
    assert!(
        !dir.path().join("staging").exists(),
        "only the selected releases are written"
    );
}

#[test]
fn completion_and_help() {
    let bash = orch_ok(&repo(), &["completion", "bash"]);
    assert!(bash.contains("_orch()"));
    for command in [
        "template",
        "list",
        "graph",
        "lint",
        "write-values",
        "completion",
    ] {
        let help = orch_ok(&repo(), &[command, "--help"]);
        assert!(
            help.contains("Examples:\n  orch "),
            "{command} --help has no example"
        );
    }
    // Global flags work after the subcommand too.
    let (code, _, stderr) = orch(&repo(), &["list", "-e", "nope"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("unknown environment `nope`; defined: prod, staging"),
        "{stderr}"
    );
}
