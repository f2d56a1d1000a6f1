//! Day 2 as users run it against the test control plane: `orch history`, `orch rollback`
//! (checked with the real `helm history`) and `orch test` with passing and failing test
//! hooks, each test in its own namespace.

mod support;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use orch::record::Status;
use serde_json::Value;
use support::{Project, TestNamespace, engine_releases as releases, records};

/// `helm args… -n namespace -o json`, parsed.
fn helm_json(namespace: &str, args: &[&str]) -> Value {
    let output = std::process::Command::new(support::helm())
        .args(args)
        .args(["-n", namespace, "-o", "json"])
        .env("KUBECONFIG", support::kubeconfig())
        .output()
        .expect("run helm");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "helm {args:?} failed: {stderr}");
    serde_json::from_slice(&output.stdout).expect("helm's JSON")
}

/// Each revision as (revision, status, description): what `helm history` and
/// `orch history` must agree on.
fn revisions(history: &Value) -> Vec<(u64, String, String)> {
    let field = |line: &Value, key: &str| line[key].as_str().unwrap_or_default().to_string();
    history
        .as_array()
        .expect("a list of revisions")
        .iter()
        .map(|line| {
            (
                line["revision"].as_u64().unwrap_or_default(),
                field(line, "status"),
                field(line, "description"),
            )
        })
        .collect()
}

async fn greeting(ns: &TestNamespace, release: &str) -> Option<String> {
    let config = ns
        .api::<ConfigMap>()
        .get_opt(&format!("{release}-config"))
        .await
        .expect("read the ConfigMap")?;
    config.data?.get("greeting").cloned()
}

/// The engine chart's `web` with `greeting`, and with the `extra` ConfigMap when `extra`;
/// its revisions have pre-rollback and post-rollback hooks (`fail_rollback`: the first
/// fails).
fn web(ns: &TestNamespace, greeting: &str, extra: bool, fail_rollback: bool) -> String {
    releases(
        ns.name(),
        &[(
            "web",
            &format!(
                "values:\n  - config: {{greeting: {greeting}}}\n    extra: {extra}\n    \
                 rollbackHooks: {{enabled: true, fail: {fail_rollback}}}"
            ),
        )],
    )
}

#[tokio::test]
async fn rollback_restores_an_earlier_revision_as_helm_history_records_it() {
    let ns = TestNamespace::new("rollback").await;
    let project = Project::new(&web(&ns, "one", false, false));
    project.orch(&["sync"]).expect(0);
    project.write("helmfile.yaml", &web(&ns, "two", true, false));
    project.orch(&["sync"]).expect(0);

    let history = project.orch(&["history", "web"]).expect(0);
    let lines: Vec<&str> = history.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", history.stdout);
    assert!(
        lines[0].starts_with("REVISION  UPDATED"),
        "{}",
        history.stdout
    );
    assert!(
        lines[1].starts_with("1 ") && lines[1].contains("superseded  app-1.0.0  1.0  "),
        "{}",
        history.stdout
    );
    assert!(lines[2].ends_with("Upgrade complete"), "{}", history.stdout);

    let rolled = project.orch(&["rollback", "web"]).expect(0);
    assert_eq!(
        rolled.stdout,
        format!(
            "release {}/web: revision 3 restores revision 1\n",
            ns.name()
        )
    );
    assert_eq!(greeting(&ns, "web").await.as_deref(), Some("one"));
    let extra = ns
        .api::<ConfigMap>()
        .get_opt("web-extra")
        .await
        .expect("read");
    assert!(extra.is_none(), "revision 1 has no web-extra: it is pruned");
    // The restored revision's own rollback hooks ran, in order, and are kept.
    let jobs = ns.api::<Job>();
    for hook in ["web-pre-rollback", "web-post-rollback"] {
        let job = jobs.get(hook).await.expect("the rollback hook's Job");
        assert_eq!(job.status.and_then(|s| s.succeeded), Some(1), "{hook}");
    }

    // helm reads the same story from the records orch wrote.
    let expected = vec![
        (1, "superseded".into(), "Install complete".into()),
        (2, "superseded".into(), "Upgrade complete".into()),
        (3, "deployed".into(), "Rollback to 1".into()),
    ];
    assert_eq!(
        revisions(&helm_json(ns.name(), &["history", "web"])),
        expected
    );
    let ours = project.orch(&["history", "web", "-o", "json"]).expect(0);
    let ours: Value = serde_json::from_str(&ours.stdout).expect("orch's JSON");
    assert_eq!(revisions(&ours), expected);
    assert_eq!(ours[2]["chart"], "app-1.0.0");
    assert_eq!(ours[2]["app_version"], "1.0");
    let values = helm_json(ns.name(), &["get", "values", "web"]);
    assert_eq!(values["config"]["greeting"], "one", "revision 1's values");

    // An explicit revision, and one that does not exist: refused, nothing written.
    project.orch(&["rollback", "web", "2", "--wait"]).expect(0);
    assert_eq!(greeting(&ns, "web").await.as_deref(), Some("two"));
    let refused = project.orch(&["rollback", "web", "9"]).expect(1);
    assert!(
        refused
            .stderr
            .contains("it has no revision 9; it has 1, 2, 3, 4"),
        "{}",
        refused.stderr
    );
    assert_eq!(records(&ns.client(), ns.name(), "web").await.len(), 4);
    let unknown = project.orch(&["history", "nope"]).expect(1);
    assert!(
        unknown.stderr.contains(&format!(
            "no release nope in the releases files (for this environment and selection); \
             the releases are: {}/web",
            ns.name()
        )),
        "{}",
        unknown.stderr
    );
}

#[tokio::test]
async fn a_failed_rollback_is_recorded_as_helm_records_it_and_a_sync_converges() {
    let ns = TestNamespace::new("rollbackfail").await;
    let project = Project::new(&web(&ns, "one", false, true));
    project.orch(&["sync"]).expect(0);
    project.write("helmfile.yaml", &web(&ns, "two", false, false));
    project.orch(&["sync"]).expect(0);

    let failed = project.orch(&["rollback", "web"]).expect(1);
    assert!(
        failed.stderr.contains(&format!(
            "release {}/web: rollback failed: hook Job {}/web-pre-rollback failed",
            ns.name(),
            ns.name()
        )),
        "{}",
        failed.stderr
    );
    // The pre-rollback hook failed before any object changed.
    assert_eq!(greeting(&ns, "web").await.as_deref(), Some("two"));
    let history = revisions(&helm_json(ns.name(), &["history", "web"]));
    assert_eq!(history.len(), 3);
    assert_eq!(history[1].1, "superseded");
    assert_eq!(history[2].1, "failed");
    assert!(
        history[2]
            .2
            .starts_with("Rollback \"web\" failed: hook Job"),
        "{history:?}"
    );

    project.orch(&["sync"]).expect(0);
    let statuses: Vec<Status> = records(&ns.client(), ns.name(), "web")
        .await
        .iter()
        .map(|r| r.info.status)
        .collect();
    assert_eq!(statuses.last(), Some(&Status::Deployed));
    project.orch(&["diff", "--detailed-exitcode"]).expect(0);
}

/// A release with test hooks: (name, YAML of the test's fields).
fn tested(name: &str, tests: &[&str]) -> (String, String) {
    let list: String = tests.iter().map(|t| format!("\n      - {t}")).collect();
    (name.to_string(), format!("values:\n  - tests:{list}"))
}

#[tokio::test]
async fn orch_test_runs_test_hooks_prints_their_logs_and_fails_on_a_failing_one() {
    let ns = TestNamespace::new("tests").await;
    let passing = tested(
        "api",
        &[r#"{name: connection, log: "GET /healthz 200\nall good"}"#],
    );
    let failing = tested(
        "worker",
        &[
            r#"{name: ok, log: "queue reachable"}"#,
            r#"{name: jobs, job: true, fail: true, log: "no job ran in 30s"}"#,
        ],
    );
    let plain = ("db".to_string(), String::new());
    let all = [&passing, &failing, &plain].map(|(name, extra)| (name.as_str(), extra.as_str()));
    let project = Project::new(&releases(ns.name(), &all));
    project.orch(&["sync"]).expect(0);

    let run = project.orch(&["test"]).expect(1);
    let out = &run.stdout;
    let name = ns.name();
    assert!(
        out.contains(&format!(
            "release {name}/api (revision 1): 1 test\n  KIND  NAME                 PHASE      TOOK\n  \
             Pod   api-test-connection  Succeeded  "
        )),
        "{out}"
    );
    assert!(
        out.contains(
            "  --- Pod api-test-connection: pod api-test-connection, container test ---\n  \
             GET /healthz 200\n  all good\n"
        ),
        "{out}"
    );
    assert!(out.contains("  Job   worker-test-jobs  Failed"), "{out}");
    assert!(
        out.contains("  no job ran in 30s\n"),
        "the failing Job's pod log: {out}"
    );
    assert!(
        out.contains(&format!(
            "  failed: hook Job {name}/worker-test-jobs failed: Job failed"
        )),
        "{out}"
    );
    assert!(
        out.ends_with(&format!(
            "2 releases tested: 1 passed, 1 failed\nwithout tests: {name}/db\n"
        )),
        "{out}"
    );

    // helm sees the last test suite in the record, as after `helm test`.
    let status = helm_json(name, &["status", "api"]);
    let hooks = status["hooks"].as_array().expect("the record's hooks");
    assert_eq!(hooks[0]["name"], "api-test-connection");
    assert_eq!(hooks[0]["last_run"]["phase"], "Succeeded");

    let only_passing = project
        .orch(&["test", "-l", "name=api", "-o", "json"])
        .expect(0);
    let json: Value = serde_json::from_str(&only_passing.stdout).expect("JSON");
    let test = &json["releases"][0]["tests"][0];
    assert_eq!(test["phase"], "Succeeded");
    assert_eq!(test["logs"][0]["log"], "GET /healthz 200\nall good");
    // The test pod is kept (before-hook-creation), and a rerun replaced it.
    let pods = ns.api::<Pod>();
    assert!(
        pods.get_opt("api-test-connection")
            .await
            .expect("read")
            .is_some()
    );
}
