//! Faults during a sync, against the test control plane: a second sync of a busy release,
//! a run that dies holding the lock, Ctrl-C, a Deployment that never becomes ready, a failed
//! first install with `atomic`. Each ends with every release at its old or new revision,
//! recorded truthfully, and a re-run that converges.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use orch::record::Status;
use support::{
    Project, TIMEOUT, TestNamespace, engine_releases as releases, records, revision_statuses,
    wait_for,
};

const SLOW: &str = "values:\n  - podAnnotations: {simulator.orch.dev/ready-after: 4s}";

fn spawn_sync(project: &Project) -> Child {
    support::orch()
        .current_dir(project.dir())
        .arg("sync")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start orch")
}

fn finish(child: Child) -> (i32, String) {
    let output = child.wait_with_output().expect("wait for orch");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!all.contains("panicked"), "{all}");
    (output.status.code().unwrap_or(-1), all)
}

async fn wait_for_status(ns: &TestNamespace, release: &str, status: Status) {
    let client = ns.client();
    wait_for(
        &format!("{release} to be {}", status.as_str()),
        TIMEOUT,
        || {
            let client = client.clone();
            async move {
                let history = records(&client, ns.name(), release).await;
                match history.last() {
                    Some(r) if r.info.status == status => Ok(()),
                    other => Err(format!("{:?}", other.map(|r| r.info.status))),
                }
            }
        },
    )
    .await;
}

fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

#[tokio::test]
async fn a_second_sync_of_a_busy_release_refuses() {
    let ns = TestNamespace::new("busy").await;
    let project = Project::new(&releases(ns.name(), &[("slow", SLOW)]));
    let first = spawn_sync(&project);
    wait_for_status(&ns, "slow", Status::PendingInstall).await;
    let second = project.orch(&["sync"]).expect(1);
    assert!(
        second.stdout.contains(&format!(
            "release {}/slow is locked: revision 1 is pending-install",
            ns.name()
        )),
        "{}",
        second.stdout
    );
    let (code, output) = finish(first);
    assert_eq!(code, 0, "{output}");
    let history = records(&ns.client(), ns.name(), "slow").await;
    assert_eq!(history.len(), 1, "the refused sync wrote a revision");
    assert_eq!(history[0].info.status, Status::Deployed);
}

#[tokio::test]
async fn a_lock_left_by_a_dead_run_is_taken_over_and_a_foreign_one_needs_force_unlock() {
    let ns = TestNamespace::new("deadlock").await;
    let project = Project::new(&releases(ns.name(), &[("slow", SLOW)]));
    let first = spawn_sync(&project);
    wait_for_status(&ns, "slow", Status::PendingInstall).await;
    signal(&first, "-KILL");
    finish(first);

    // The holder ran here and is gone: the next sync says so and goes on by itself.
    let taken = project.orch(&["sync"]).expect(0);
    assert!(
        taken.stderr.contains("is gone: marking it failed"),
        "{}",
        taken.stderr
    );
    let statuses: Vec<Status> = revision_statuses(&ns.client(), ns.name(), "slow").await;
    assert_eq!(statuses, vec![Status::Failed, Status::Deployed]);
    project.orch(&["diff", "--detailed-exitcode"]).expect(0);

    // A run on another host cannot be checked: orch refuses until told.
    project.write("helmfile.yaml", &releases(ns.name(), &[("slow", "values:\n  - replicas: 2\n  - podAnnotations: {simulator.orch.dev/ready-after: 4s}")]));
    let second = spawn_sync(&project);
    wait_for_status(&ns, "slow", Status::PendingUpgrade).await;
    signal(&second, "-KILL");
    finish(second);
    let secret = "sh.helm.release.v1.slow.v3";
    let foreign = serde_json::json!({"metadata": {"annotations": {"orch.dev/holder": "elsewhere pid 1 started 1"}}});
    ns.api::<k8s_openapi::api::core::v1::Secret>()
        .patch(
            secret,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&foreign),
        )
        .await
        .unwrap();
    let refused = project.orch(&["sync"]).expect(1);
    assert!(
        refused
            .stdout
            .contains("the run elsewhere pid 1 started 1 is working on it"),
        "{}",
        refused.stdout
    );
    assert!(
        refused.stdout.contains("sync again with --force-unlock"),
        "{}",
        refused.stdout
    );
    project.orch(&["sync", "--force-unlock"]).expect(0);
    let statuses: Vec<Status> = revision_statuses(&ns.client(), ns.name(), "slow").await;
    assert_eq!(
        statuses,
        vec![
            Status::Failed,
            Status::Superseded,
            Status::Failed,
            Status::Deployed
        ]
    );
}

#[tokio::test]
async fn ctrl_c_starts_nothing_new_and_a_rerun_converges() {
    let ns = TestNamespace::new("sigint").await;
    let project = Project::new(&releases(
        ns.name(),
        &[
            ("first", SLOW),
            ("second", "needs: [first]"),
            ("third", "needs: [second]"),
        ],
    ));
    let run = spawn_sync(&project);
    wait_for_status(&ns, "first", Status::PendingInstall).await;
    signal(&run, "-INT");
    let (code, output) = finish(run);
    assert_eq!(code, 130, "{output}");
    assert!(
        output.contains("interrupted: no release was started after the interrupt"),
        "{output}"
    );
    let client = ns.client();
    let first = records(&client, ns.name(), "first").await;
    assert_eq!(
        first.last().map(|r| r.info.status),
        Some(Status::Deployed),
        "the running release finished: {output}"
    );
    assert!(
        records(&client, ns.name(), "second").await.is_empty(),
        "{output}"
    );
    assert!(
        records(&client, ns.name(), "third").await.is_empty(),
        "{output}"
    );

    let rerun = project.orch(&["sync"]).expect(0);
    for (release, action) in [
        ("first", "no change"),
        ("second", "install"),
        ("third", "install"),
    ] {
        let line = rerun
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{}/{release} ", ns.name())))
            .unwrap_or_default();
        assert!(line.contains(action), "{release}: {}", rerun.stdout);
    }
}

#[tokio::test]
async fn a_deployment_that_never_becomes_ready_times_out_with_its_pods_reasons() {
    let ns = TestNamespace::new("notready").await;
    let failing = "timeout: 4\nvalues:\n  - podAnnotations: {simulator.orch.dev/fail: \"true\"}";
    let project = Project::new(&releases(
        ns.name(),
        &[
            ("stuck", failing),
            ("after", "needs: [stuck]"),
            ("aside", ""),
        ],
    ));
    let run = project.orch(&["sync"]).expect(1);
    assert!(
        run.stdout.contains(&format!(
            "release {}/stuck failed: timed out waiting for:",
            ns.name()
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("Deployment {}/stuck: ", ns.name())),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("  pod stuck-") && run.stdout.contains(": Running"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "release {}/after skipped: needs {}/stuck, which failed",
            ns.name(),
            ns.name()
        )),
        "{}",
        run.stdout
    );
    let statuses: Vec<Status> = revision_statuses(&ns.client(), ns.name(), "stuck").await;
    assert_eq!(statuses, vec![Status::Failed]);
    assert_eq!(
        records(&ns.client(), ns.name(), "aside").await.len(),
        1,
        "independent releases finish"
    );

    project.write(
        "helmfile.yaml",
        &releases(
            ns.name(),
            &[("stuck", ""), ("after", "needs: [stuck]"), ("aside", "")],
        ),
    );
    project.orch(&["sync"]).expect(0);
    let statuses: Vec<Status> = revision_statuses(&ns.client(), ns.name(), "stuck").await;
    assert_eq!(
        statuses,
        vec![Status::Failed, Status::Deployed],
        "fixed, the re-run converges"
    );
}

#[tokio::test]
async fn a_failed_first_install_with_atomic_leaves_nothing() {
    let ns = TestNamespace::new("atomicinstall").await;
    let failing = "atomic: true\nvalues:\n  - migration: {enabled: true, podAnnotations: {simulator.orch.dev/fail: \"true\"}}";
    let project = Project::new(&releases(ns.name(), &[("fresh", failing)]));
    let run = project.orch(&["sync"]).expect(1);
    assert!(
        run.stdout
            .contains("rolled back: the failed install was removed"),
        "{}",
        run.stdout
    );
    assert!(records(&ns.client(), ns.name(), "fresh").await.is_empty());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        ns.api::<ConfigMap>()
            .get_opt("fresh-config")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_hook_that_never_finishes_times_out_and_stops_only_its_dependents() {
    let ns = TestNamespace::new("hookhang").await;
    let hanging = "timeout: 3\nvalues:\n  - migration: {enabled: true, podAnnotations: {simulator.orch.dev/ready-after: 120s}}";
    let project = Project::new(&releases(
        ns.name(),
        &[
            ("hangs", hanging),
            ("after", "needs: [hangs]"),
            ("aside", ""),
        ],
    ));
    let run = project.orch(&["sync"]).expect(1);
    let hook = format!(
        "release {}/hangs failed: hook Job {}/hangs-migrate failed: not finished in time",
        ns.name(),
        ns.name()
    );
    assert!(run.stdout.contains(&hook), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "release {}/after skipped: needs {}/hangs, which failed",
            ns.name(),
            ns.name()
        )),
        "{}",
        run.stdout
    );
    assert_eq!(
        records(&ns.client(), ns.name(), "aside").await.len(),
        1,
        "independent releases finish"
    );
    assert!(
        ns.api::<k8s_openapi::api::apps::v1::Deployment>()
            .get_opt("hangs")
            .await
            .unwrap()
            .is_none(),
        "nothing applied after a failed pre-install hook"
    );

    project.write(
        "helmfile.yaml",
        &releases(
            ns.name(),
            &[
                ("hangs", "values:\n  - migration: {enabled: true}"),
                ("after", "needs: [hangs]"),
                ("aside", ""),
            ],
        ),
    );
    project.orch(&["sync"]).expect(0);
    project.orch(&["diff", "--detailed-exitcode"]).expect(0);
}

#[tokio::test]
async fn an_object_the_api_server_rejects_fails_its_release_with_the_servers_reason() {
    let ns = TestNamespace::new("rejected").await;
    let invalid = "set:\n  - {name: config.bad key, value: x}";
    let project = Project::new(&releases(
        ns.name(),
        &[("bad", invalid), ("after", "needs: [bad]"), ("aside", "")],
    ));
    let run = project.orch(&["sync"]).expect(1);
    let rejected = format!(
        "release {}/bad failed: apply ConfigMap {}/bad-config: ",
        ns.name(),
        ns.name()
    );
    assert!(
        run.stdout.contains(&rejected) && run.stdout.contains("is invalid"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("release {}/after skipped", ns.name())),
        "{}",
        run.stdout
    );
    assert_eq!(records(&ns.client(), ns.name(), "aside").await.len(), 1);
    let statuses: Vec<Status> = revision_statuses(&ns.client(), ns.name(), "bad").await;
    assert_eq!(statuses, vec![Status::Failed], "recorded truthfully");

    project.write(
        "helmfile.yaml",
        &releases(
            ns.name(),
            &[("bad", ""), ("after", "needs: [bad]"), ("aside", "")],
        ),
    );
    project.orch(&["sync"]).expect(0);
    project.orch(&["diff", "--detailed-exitcode"]).expect(0);
}

#[tokio::test]
async fn bad_input_writes_nothing_to_the_cluster() {
    let ns = TestNamespace::new("badinput").await;
    let broken: [(&str, &str); 3] = [
        // Two releases render the same ConfigMap.
        (
            "twins",
            "  - {name: twin, namespace: NS, chart: ./same}\n  - {name: twin2, namespace: NS, chart: ./same}\n",
        ),
        // A chart renders an object without a kind.
        (
            "kindless",
            "  - {name: kindless, namespace: NS, chart: ./kindless}\n",
        ),
        // A values template fails.
        (
            "template",
            "  - {name: tpl, namespace: NS, chart: ./same, values: [broken.yaml.j2]}\n",
        ),
    ];
    for (case, releases) in broken {
        let project = Project::new(&format!("releases:\n{}", releases.replace("NS", ns.name())));
        project.write(
            "same/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: same}\n",
        );
        project.write(
            "kindless/x.yaml",
            "apiVersion: v1\nmetadata: {name: nokind}\n",
        );
        project.write("broken.yaml.j2", "a: {{ nope.missing }}\n");
        let run = project.orch(&["sync"]);
        assert_eq!(run.code, 1, "{case}: {}", run.all_output());
        assert!(run.stderr.starts_with("error: "), "{case}: {}", run.stderr);
    }
    let config_maps = ns
        .api::<ConfigMap>()
        .list(&Default::default())
        .await
        .unwrap();
    let ours: Vec<_> = config_maps
        .items
        .iter()
        .filter_map(|c| c.metadata.name.clone())
        .filter(|n| n != "kube-root-ca.crt")
        .collect();
    assert!(ours.is_empty(), "bad input wrote {ours:?}");
    let secrets = ns
        .api::<k8s_openapi::api::core::v1::Secret>()
        .list(&Default::default())
        .await
        .unwrap();
    assert!(
        secrets.items.iter().all(|s| !s
            .metadata
            .name
            .clone()
            .unwrap_or_default()
            .starts_with("sh.helm")),
        "bad input wrote a record"
    );
}
