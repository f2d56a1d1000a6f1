//! The cluster engine as users run it: `orch sync`, `diff`, `status`, `destroy` against the
//! test control plane, each test in its own namespace, asserting on real cluster state.

mod support;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use orch::record::Status;
use support::{Project, TestNamespace, engine_releases as releases, records};

/// The summary row of `release`: [release, action, revision, time].
fn row<'a>(stdout: &'a str, release: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|cells| cells.first() == Some(&release))
        .unwrap_or_else(|| panic!("no summary row for {release}:\n{stdout}"))
}

async fn resource_versions(ns: &TestNamespace) -> BTreeMap<String, String> {
    let mut versions = BTreeMap::new();
    let config_maps: Api<ConfigMap> = ns.api();
    for cm in config_maps.list(&Default::default()).await.unwrap() {
        versions.insert(
            format!("cm/{}", cm.metadata.name.unwrap()),
            cm.metadata.resource_version.unwrap(),
        );
    }
    let deployments: Api<Deployment> = ns.api();
    for d in deployments.list(&Default::default()).await.unwrap() {
        versions.insert(
            format!("deploy/{}", d.metadata.name.unwrap()),
            d.metadata.resource_version.unwrap(),
        );
    }
    versions
}

async fn config_map(ns: &TestNamespace, name: &str) -> Option<ConfigMap> {
    ns.api::<ConfigMap>().get_opt(name).await.unwrap()
}

/// `web-config`'s greeting, applied first by another field manager (`other-tool`).
async fn another_manager_owns_the_greeting(ns: &TestNamespace) {
    let other = serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "web-config"},
        "data": {"greeting": "from-the-other-tool"}
    });
    ns.api::<ConfigMap>()
        .patch(
            "web-config",
            &kube::api::PatchParams::apply("other-tool"),
            &kube::api::Patch::Apply(&other),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn no_op_sync_writes_nothing_and_diff_shows_exactly_the_change() {
    let ns = TestNamespace::new("noop").await;
    let project = Project::new(&releases(ns.name(), &[("web", "")]));
    let first = project.orch(&["sync"]).expect(0);
    assert_eq!(
        row(&first.stdout, &format!("{}/web", ns.name()))[1..3],
        ["install", "1"]
    );
    let before = resource_versions(&ns).await;
    assert!(
        before.contains_key("deploy/web") && before.contains_key("cm/web-config"),
        "{before:?}"
    );

    let second = project.orch(&["sync"]).expect(0);
    assert!(second.stdout.contains("no change"), "{}", second.stdout);
    assert_eq!(
        resource_versions(&ns).await,
        before,
        "a no-op sync wrote an object"
    );
    assert_eq!(
        records(&ns.client(), ns.name(), "web").await.len(),
        1,
        "a no-op sync wrote a revision"
    );
    project.orch(&["diff", "--detailed-exitcode"]).expect(0);

    project.write(
        "helmfile.yaml",
        &releases(
            ns.name(),
            &[("web", "set:\n  - {name: config.greeting, value: hola}")],
        ),
    );
    let diff = project.orch(&["diff", "--detailed-exitcode"]).expect(2);
    assert!(
        diff.stdout
            .contains("-  greeting: hello\n+  greeting: hola\n"),
        "{}",
        diff.stdout
    );
    assert!(
        diff.stdout
            .contains(&format!("~ ConfigMap {}/web-config", ns.name())),
        "{}",
        diff.stdout
    );
    assert!(
        diff.stdout
            .contains(&format!("~ Deployment {}/web", ns.name())),
        "checksum annotation: {}",
        diff.stdout
    );
    assert!(
        diff.stdout
            .contains("1 release changed: 0 objects added, 2 changed, 0 removed"),
        "{}",
        diff.stdout
    );

    let json = project.orch(&["diff", "-o", "json"]).expect(0);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["summary"]["changed"], 2);

    project.orch(&["sync"]).expect(0);
    assert_eq!(
        config_map(&ns, "web-config").await.unwrap().data.unwrap()["greeting"],
        "hola"
    );
    project.orch(&["diff", "--detailed-exitcode"]).expect(0);
    let history = records(&ns.client(), ns.name(), "web").await;
    let statuses: Vec<Status> = history.iter().map(|r| r.info.status).collect();
    assert_eq!(statuses, vec![Status::Superseded, Status::Deployed]);
}

#[tokio::test]
async fn secret_values_never_leave_the_cluster_through_orch() {
    let ns = TestNamespace::new("secrets").await;
    let old = "old-pw-6f1e2d";
    let new = "new-pw-9a8b7c";
    let project = Project::new(&releases(
        ns.name(),
        &[(
            "db",
            &format!("values:\n  - secret: {{password: {old}, user: admin}}"),
        )],
    ));
    let mut outputs = vec![project.orch(&["sync", "-v"]).expect(0)];
    let changed = ["--set", &format!("secret.password={new}")];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter().chain(&changed).map(|s| s.to_string()).collect()
    };
    let diff = project.orch(
        &with(&["diff", "-v"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(
        diff.stdout
            .contains("-  password: (hidden, old value)\n+  password: (hidden, new value)\n"),
        "{}",
        diff.stdout
    );
    assert!(diff.stdout.contains("user: (hidden)"), "{}", diff.stdout);
    outputs.push(diff);
    for args in [
        &["diff", "-o", "json"][..],
        &["apply", "-v"],
        &["status", "-o", "json"],
        &["status"],
    ] {
        outputs.push(project.orch(&with(args).iter().map(String::as_str).collect::<Vec<_>>()));
    }
    outputs.push(project.orch(&["--log-format", "json", "-vv", "sync"]));
    use base64::Engine;
    let encoded = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for run in &outputs {
        for secret in [old.to_string(), new.to_string(), encoded(old), encoded(new)] {
            assert!(
                !run.all_output().contains(&secret),
                "`{secret}` printed:\n{}",
                run.all_output()
            );
        }
    }
}

#[tokio::test]
async fn selection_syncs_only_the_selected_release_unless_needs_are_included() {
    let ns = TestNamespace::new("select").await;
    let project = Project::new(&releases(
        ns.name(),
        &[
            ("db", ""),
            ("api", "needs: [db]"),
            ("web", "needs: [api]"),
            ("other", ""),
        ],
    ));
    project.orch(&["sync", "-l", "name=web"]).expect(0);
    let client = ns.client();
    assert_eq!(records(&client, ns.name(), "web").await.len(), 1);
    for absent in ["db", "api", "other"] {
        assert!(
            records(&client, ns.name(), absent).await.is_empty(),
            "{absent} was synced"
        );
    }
    let run = project
        .orch(&["sync", "-l", "name=web", "--include-transitive-needs"])
        .expect(0);
    let order: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        order,
        [
            "RELEASE",
            &format!("{}/db", ns.name()),
            &format!("{}/api", ns.name()),
            &format!("{}/web", ns.name())
        ]
    );
    assert!(records(&client, ns.name(), "other").await.is_empty());
}

#[tokio::test]
async fn a_failed_migration_skips_dependents_and_atomic_restores_the_previous_revision() {
    let ns = TestNamespace::new("hookfail").await;
    let good = "values:\n  - migration: {enabled: true}\natomic: true";
    let project = Project::new(&releases(
        ns.name(),
        &[
            ("base", good),
            ("dependent", "needs: [base]"),
            ("independent", ""),
        ],
    ));
    project.orch(&["sync"]).expect(0);
    assert!(config_map(&ns, "base-config").await.is_some());

    let failing = "values:\n  - migration: {enabled: true, podAnnotations: {simulator.orch.dev/fail: \"true\"}}\n  - config: {greeting: broken}\natomic: true";
    project.write(
        "helmfile.yaml",
        &releases(
            ns.name(),
            &[
                ("base", failing),
                (
                    "dependent",
                    "needs: [base]\nset:\n  - {name: replicas, value: 2}",
                ),
                ("independent", "set:\n  - {name: replicas, value: 2}"),
            ],
        ),
    );
    let run = project.orch(&["sync"]).expect(1);
    let base = format!("{}/base", ns.name());
    assert_eq!(row(&run.stdout, &base)[1], "failed");
    assert_eq!(
        row(&run.stdout, &format!("{}/dependent", ns.name()))[1],
        "skipped"
    );
    assert!(
        run.stdout.contains(&format!(
            "release {}/dependent skipped: needs {base}, which failed",
            ns.name()
        )),
        "{}",
        run.stdout
    );
    assert_eq!(
        row(&run.stdout, &format!("{}/independent", ns.name()))[1..3],
        ["upgrade", "2"]
    );
    let hook_failure = format!(
        "hook Job {}/base-migrate failed: Job failed: BackoffLimitExceeded",
        ns.name()
    );
    assert!(run.stdout.contains(&hook_failure), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("container migrate: terminated (Error, exit code 1)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("rolled back: revision 3 restores revision 1"),
        "{}",
        run.stdout
    );

    let history = records(&ns.client(), ns.name(), "base").await;
    let statuses: Vec<Status> = history.iter().map(|r| r.info.status).collect();
    assert_eq!(
        statuses,
        vec![Status::Superseded, Status::Failed, Status::Deployed]
    );
    assert_eq!(history[2].info.description, "Rollback to 1");
    let greeting = config_map(&ns, "base-config").await.unwrap().data.unwrap()["greeting"].clone();
    assert_eq!(
        greeting, "hello",
        "the previous revision's objects are back"
    );
    let dependent: Deployment = ns.api().get("dependent").await.unwrap();
    assert_eq!(
        dependent.spec.unwrap().replicas,
        Some(1),
        "the skipped release was not touched"
    );
}

#[tokio::test]
async fn removed_objects_are_pruned_and_installed_false_and_destroy_remove_releases() {
    let ns = TestNamespace::new("prune").await;
    let project = Project::new(&releases(
        ns.name(),
        &[
            ("app", "set:\n  - {name: extra, value: true}"),
            ("gone", ""),
        ],
    ));
    project.orch(&["sync"]).expect(0);
    assert!(config_map(&ns, "app-extra").await.is_some());

    project.write(
        "helmfile.yaml",
        &releases(ns.name(), &[("app", ""), ("gone", "installed: false")]),
    );
    let diff = project.orch(&["diff"]).expect(0);
    assert!(
        diff.stdout
            .contains(&format!("- ConfigMap {}/app-extra", ns.name())),
        "{}",
        diff.stdout
    );
    assert!(
        diff.stdout
            .contains(&format!("- Deployment {}/gone", ns.name())),
        "{}",
        diff.stdout
    );
    let run = project.orch(&["sync"]).expect(0);
    assert_eq!(
        row(&run.stdout, &format!("{}/gone", ns.name()))[1],
        "uninstall"
    );
    assert!(
        config_map(&ns, "app-extra").await.is_none(),
        "app-extra was not pruned"
    );
    assert!(config_map(&ns, "app-config").await.is_some());
    assert!(
        ns.api::<Deployment>()
            .get_opt("gone")
            .await
            .unwrap()
            .is_none()
    );
    assert!(records(&ns.client(), ns.name(), "gone").await.is_empty());

    let run = project.orch(&["destroy"]).expect(0);
    assert_eq!(
        row(&run.stdout, &format!("{}/app", ns.name()))[1],
        "uninstall"
    );
    assert!(records(&ns.client(), ns.name(), "app").await.is_empty());
    assert!(config_map(&ns, "app-config").await.is_none());
    assert!(
        ns.api::<Deployment>()
            .get_opt("app")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_crd_and_its_resources_sync_in_one_release_and_destroy_removes_both() {
    let ns = TestNamespace::new("crd").await;
    let group = format!("{}.orch.dev", ns.name());
    let project = Project::new(&format!(
        "releases:\n  - name: widgets\n    namespace: {}\n    chart: ./widgets\n",
        ns.name()
    ));
    project.write(
        "widgets/crd.yaml",
        &format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{plural: widgets, singular: widget, kind: Widget}}\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n            spec: {{type: object, x-kubernetes-preserve-unknown-fields: true}}\n"
        ),
    );
    project.write(
        "widgets/widget.yaml.j2",
        &format!("apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: first\nspec:\n  size: {{{{ values.size | default(3) }}}}\n"),
    );
    let diff = project.orch(&["diff"]).expect(0);
    assert!(
        diff.stdout
            .contains(&format!("+ Widget {}/first", ns.name())),
        "{}",
        diff.stdout
    );
    project.orch(&["sync"]).expect(0);
    let kubectl = |args: &[&str]| {
        let output = std::process::Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", support::kubeconfig())
            .output()
            .expect("run kubectl");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let size = kubectl(&[
        "get",
        &format!("widgets.{group}"),
        "-n",
        ns.name(),
        "first",
        "-o",
        "jsonpath={.spec.size}",
    ]);
    assert_eq!(size, "3");
    project.orch(&["sync"]).expect(0);
    project.orch(&["destroy"]).expect(0);
    let crds = kubectl(&["get", "crd", "-o", "name"]);
    assert!(!crds.contains(&group), "the CRD is gone: {crds}");
}

#[tokio::test]
async fn a_field_owned_by_another_manager_is_a_conflict_unless_forced() {
    let ns = TestNamespace::new("conflict").await;
    another_manager_owns_the_greeting(&ns).await;
    let project = Project::new(&releases(ns.name(), &[("web", "")]));
    let run = project.orch(&["sync"]).expect(1);
    assert!(
        run.stdout.contains("other-tool") && run.stdout.contains(".data.greeting"),
        "{}",
        run.stdout
    );
    assert_eq!(
        config_map(&ns, "web-config").await.unwrap().data.unwrap()["greeting"],
        "from-the-other-tool"
    );
    project.orch(&["sync", "--force-conflicts"]).expect(0);
    assert_eq!(
        config_map(&ns, "web-config").await.unwrap().data.unwrap()["greeting"],
        "hello"
    );
}

#[tokio::test]
async fn diff_works_before_the_namespace_exists() {
    let ns = TestNamespace::new("nsabsent").await;
    let absent = format!("{}-new", ns.name());
    let project = Project::new(&releases(&absent, &[("web", "")]));
    let diff = project.orch(&["diff", "--detailed-exitcode"]).expect(2);
    assert!(
        diff.stdout
            .contains(&format!("+ ConfigMap {absent}/web-config")),
        "{}",
        diff.stdout
    );
    assert!(
        diff.stdout.contains(&format!("+ Deployment {absent}/web")),
        "{}",
        diff.stdout
    );
    project.orch(&["sync"]).expect(0);
    project.orch(&["diff", "--detailed-exitcode"]).expect(0);
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(ns.client());
    namespaces
        .delete(&absent, &Default::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_kustomize_release_is_built_per_environment_synced_recorded_and_destroyed() {
    let ns = TestNamespace::new("kustomize").await;
    let overlays = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kustomize/hustle/overlays");
    let project = Project::new("");
    std::fs::remove_file(project.dir().join("helmfile.yaml")).unwrap();
    project.write(
        "releases.yaml.j2",
        &format!(
            "environments:\n  staging: {{}}\n  prod: {{}}\n---\nreleases:\n  - name: hustle\n    namespace: {}\n    chart: {}/{{{{ environment.name }}}}\n",
            ns.name(),
            overlays.display()
        ),
    );
    let prod = project
        .orch(&["-f", "releases.yaml.j2", "-e", "prod", "template"])
        .expect(0);
    assert!(
        prod.stdout.contains("replicas: 3") && prod.stdout.contains("api:1.0.0"),
        "{}",
        prod.stdout
    );
    assert!(
        prod.stdout.contains("# Source: prod/kustomization.yaml"),
        "{}",
        prod.stdout
    );

    let run = project
        .orch(&["-f", "releases.yaml.j2", "-e", "staging", "sync"])
        .expect(0);
    assert_eq!(
        row(&run.stdout, &format!("{}/hustle", ns.name()))[1..3],
        ["install", "1"]
    );
    let api: Deployment = ns.api().get("api").await.unwrap();
    let image = api.spec.unwrap().template.spec.unwrap().containers[0]
        .image
        .clone()
        .unwrap();
    assert_eq!(image, "registry.example/hustle/api:1.1.0-rc.1");
    project
        .orch(&[
            "-f",
            "releases.yaml.j2",
            "-e",
            "staging",
            "diff",
            "--detailed-exitcode",
        ])
        .expect(0);
    assert_eq!(records(&ns.client(), ns.name(), "hustle").await.len(), 1);
    project
        .orch(&["-f", "releases.yaml.j2", "-e", "staging", "destroy"])
        .expect(0);
    assert!(
        ns.api::<Deployment>()
            .get_opt("api")
            .await
            .unwrap()
            .is_none()
    );
}

/// helmfile's release hooks, as a state file writes them: arguments are templates of
/// their own, escaped from the state file's render.
fn logging_hook(events: &str, script: &str) -> String {
    format!("hooks:\n  - events: [{events}]\n    command: sh\n    args: [\"-c\", \"{script}\"]\n")
}

#[tokio::test]
async fn helmfile_hooks_run_around_a_sync_that_changes_the_release() {
    let ns = TestNamespace::new("state-hooks").await;
    let hooks = logging_hook(
        "presync, postsync",
        "echo {{`{{ .Event.Name }}`}} {{`{{ .Release.Name }}`}} >> events.log",
    );
    let project = Project::new(&releases(ns.name(), &[("web", &hooks)]));
    let first = project.orch(&["sync"]).expect(0);
    let log = || std::fs::read_to_string(project.dir().join("events.log")).unwrap_or_default();
    assert_eq!(log(), "presync web\npostsync web\n");
    // Every command a state file runs is shown.
    assert!(
        first
            .stderr
            .contains("hook[presync]: sh -c echo presync web >> events.log"),
        "{}",
        first.stderr
    );
    assert!(config_map(&ns, "web-config").await.is_some());
    // Nothing to change: no sync, no hooks.
    project.orch(&["sync"]).expect(0);
    assert_eq!(log(), "presync web\npostsync web\n");
}

#[tokio::test]
async fn a_failing_presync_hook_fails_its_release_before_anything_is_written() {
    let ns = TestNamespace::new("state-hook-fails").await;
    let hooks = logging_hook("presync", "echo the database is not ready >&2; exit 3");
    let project = Project::new(&releases(ns.name(), &[("web", &hooks)]));
    let run = project.orch(&["sync"]).expect(1);
    let output = run.all_output();
    assert!(output.contains("hook[presync]"), "{output}");
    assert!(output.contains("the database is not ready"), "{output}");
    assert!(records(&ns.client(), ns.name(), "web").await.is_empty());
    assert!(config_map(&ns, "web-config").await.is_none());
}

#[tokio::test]
async fn history_max_keeps_that_many_revision_records_and_the_deployed_one() {
    let ns = TestNamespace::new("history").await;
    let release = |greeting: &str| {
        format!(
            "helmDefaults:\n  historyMax: 2\n{}",
            releases(
                ns.name(),
                &[(
                    "web",
                    &format!("set:\n  - {{name: config.greeting, value: {greeting}}}")
                )]
            )
            .replacen("helmDefaults:\n", "", 1)
        )
    };
    let project = Project::new(&release("one"));
    for greeting in ["one", "two", "three"] {
        project.write("helmfile.yaml", &release(greeting));
        project.orch(&["sync"]).expect(0);
    }
    let kept: Vec<(u32, Status)> = records(&ns.client(), ns.name(), "web")
        .await
        .iter()
        .map(|r| (r.version, r.info.status))
        .collect();
    assert_eq!(kept, [(2, Status::Superseded), (3, Status::Deployed)]);
}

#[tokio::test]
async fn sync_args_force_conflicts_take_fields_another_manager_owns() {
    let ns = TestNamespace::new("syncargs").await;
    another_manager_owns_the_greeting(&ns).await;
    let text = releases(ns.name(), &[("web", "")]).replacen(
        "helmDefaults:\n",
        "helmDefaults:\n  syncArgs: [--force-conflicts]\n",
        1,
    );
    let project = Project::new(&text);
    // The review shows what the sync takes, rather than the conflict.
    let diff = project.orch(&["diff", "--detailed-exitcode"]).expect(2);
    assert!(
        diff.stdout.contains("from-the-other-tool"),
        "{}",
        diff.stdout
    );
    project.orch(&["sync"]).expect(0);
    assert_eq!(
        config_map(&ns, "web-config").await.unwrap().data.unwrap()["greeting"],
        "hello"
    );
}

#[tokio::test]
async fn disable_validation_reviews_a_kind_not_served_yet_as_new() {
    // disableValidationOnInstall applies too: the release is not installed.
    let ns = TestNamespace::new("novalidate").await;
    let release = |flag: &str| {
        format!(
            "releases:\n  - name: widgets\n    namespace: {}\n    chart: ./widgets\n{flag}",
            ns.name()
        )
    };
    let project = Project::new(&release(""));
    project.write(
        "widgets/Chart.yaml",
        "apiVersion: v2\nname: widgets\nversion: 0.1.0\n",
    );
    // Its CRD would come with another release, not synced yet.
    project.write(
        "widgets/templates/widget.yaml",
        "apiVersion: example.orch.dev/v1\nkind: Widget\nmetadata:\n  name: first\nspec:\n  size: 3\n",
    );
    let refused = project.orch(&["diff"]).expect(1);
    assert!(refused.stderr.contains("Widget"), "{}", refused.stderr);
    for flag in ["disableValidation", "disableValidationOnInstall"] {
        project.write("helmfile.yaml", &release(&format!("    {flag}: true\n")));
        let review = project.orch(&["diff", "--detailed-exitcode"]).expect(2);
        assert!(
            review.stdout.contains("Widget") && review.stdout.contains("first"),
            "{flag}: {}",
            review.stdout
        );
    }
}

#[tokio::test]
async fn force_replaces_an_object_whose_immutable_fields_change() {
    let ns = TestNamespace::new("force").await;
    let release = |force: &str, greeting: &str| {
        format!(
            "releases:\n  - name: frozen\n    namespace: {}\n    chart: ./frozen\n    set:\n      - {{name: greeting, value: {greeting}}}\n{force}",
            ns.name()
        )
    };
    let project = Project::new(&release("", "one"));
    project.write(
        "frozen/Chart.yaml",
        "apiVersion: v2\nname: frozen\nversion: 0.1.0\n",
    );
    project.write(
        "frozen/templates/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: frozen\nimmutable: true\ndata:\n  greeting: {{ .Values.greeting }}\n",
    );
    project.orch(&["sync"]).expect(0);
    project.write("helmfile.yaml", &release("", "two"));
    let refused = project.orch(&["sync"]).expect(1);
    assert!(
        format!("{}{}", refused.stdout, refused.stderr).contains("immutable"),
        "{}{}",
        refused.stdout,
        refused.stderr
    );
    project.write("helmfile.yaml", &release("    force: true\n", "two"));
    let review = project.orch(&["diff", "--detailed-exitcode"]).expect(2);
    assert!(review.stdout.contains("two"), "{}", review.stdout);
    project.orch(&["sync"]).expect(0);
    let replaced = config_map(&ns, "frozen").await.unwrap();
    assert_eq!(replaced.data.unwrap()["greeting"], "two");
}

#[tokio::test]
async fn cleanup_on_fail_deletes_what_a_failed_upgrade_created() {
    let ns = TestNamespace::new("cleanup").await;
    let release = |extra: &str| {
        releases(
            ns.name(),
            &[(
                "web",
                &format!("timeout: 2\ncleanupOnFail: true\nvalues:\n  - {extra}"),
            )],
        )
    };
    let project = Project::new(&release("extra: false"));
    project.orch(&["sync"]).expect(0);
    // The upgrade creates web-extra, then its pods never get ready.
    project.write(
        "helmfile.yaml",
        &release("{extra: true, podAnnotations: {simulator.orch.dev/ready-after: 60s}}"),
    );
    let failed = project.orch(&["sync"]).expect(1);
    assert!(
        failed
            .stdout
            .contains("deleting what the failed upgrade created (1 objects)")
            || failed
                .stderr
                .contains("deleting what the failed upgrade created (1 objects)"),
        "{}{}",
        failed.stdout,
        failed.stderr
    );
    assert!(config_map(&ns, "web-extra").await.is_none());
    assert!(
        config_map(&ns, "web-config").await.is_some(),
        "what the release had stays"
    );
}

#[tokio::test]
async fn what_helmfile_has_kustomize_and_helm_do_to_a_chart_reaches_the_cluster() {
    // Added dependencies, a strategic merge patch, a transformer and a post-renderer,
    // all applied in-process, synced; a second run finds nothing to change.
    let ns = TestNamespace::new("chartify").await;
    let text = format!(
        "releases:\n  - name: web\n    namespace: {}\n    chart: ./app\n{}",
        ns.name(),
        concat!(
            "    dependencies:\n",
            "      - {chart: ./extra, version: 0.1.0, alias: sidecar}\n",
            "    strategicMergePatches:\n",
            "      - {apiVersion: v1, kind: ConfigMap, metadata: {name: web-config}, data: {patched: smp}}\n",
            "    transformers:\n",
            "      - apiVersion: builtin\n",
            "        kind: LabelTransformer\n",
            "        metadata: {name: team}\n",
            "        labels: {team: orch}\n",
            "        fieldSpecs: [{path: metadata/labels, create: true}]\n",
            "    postRenderer: sh\n",
            "    postRendererArgs: [./post-render.sh]\n",
        )
    );
    let project = Project::new(&text);
    project.write(
        "app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    );
    project.write(
        "app/templates/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\ndata:\n  greeting: hello\n",
    );
    project.write(
        "extra/Chart.yaml",
        "apiVersion: v2\nname: extra\nversion: 0.1.0\n",
    );
    project.write(
        "extra/templates/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\ndata:\n  from: dependency\n",
    );
    project.write(
        "post-render.sh",
        "cat\nprintf -- '---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: added\\ndata:\\n  by: post-renderer\\n'\n",
    );
    project.orch(&["sync"]).expect(0);
    let config = config_map(&ns, "web-config").await.expect("web-config");
    let data = config.data.clone().unwrap();
    assert_eq!(
        (data["greeting"].as_str(), data["patched"].as_str()),
        ("hello", "smp")
    );
    assert_eq!(config.metadata.labels.unwrap()["team"], "orch");
    // Named by its alias, as helm names an aliased dependency.
    let dependency = config_map(&ns, "web-sidecar")
        .await
        .expect("the dependency's");
    assert_eq!(dependency.data.unwrap()["from"], "dependency");
    assert_eq!(dependency.metadata.labels.unwrap()["team"], "orch");
    let added = config_map(&ns, "added").await.expect("the post-renderer's");
    assert_eq!(added.data.unwrap()["by"], "post-renderer");
    project.orch(&["diff", "--detailed-exitcode"]).expect(0);
}

#[tokio::test]
async fn reuse_values_keeps_the_deployed_values_the_file_no_longer_sets() {
    let ns = TestNamespace::new("reuse").await;
    let release = |extra: &str| releases(ns.name(), &[("web", extra)]);
    let greeting =
        || async { config_map(&ns, "web-config").await.unwrap().data.unwrap()["greeting"].clone() };
    let project = Project::new(&release("set:\n  - {name: config.greeting, value: one}"));
    project.orch(&["sync"]).expect(0);
    // The file no longer sets it; reused, the deployed value stays: nothing to change.
    project.write("helmfile.yaml", &release("reuseValues: true"));
    project.orch(&["diff", "--detailed-exitcode"]).expect(0);
    project.orch(&["sync"]).expect(0);
    assert_eq!(greeting().await, "one");
    // Without it, the chart's default comes back.
    project.write("helmfile.yaml", &release(""));
    project.orch(&["sync"]).expect(0);
    assert_eq!(greeting().await, "hello");
}
