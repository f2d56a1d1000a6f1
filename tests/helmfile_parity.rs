//! orch against helmfile 0.166 on releases files valid for both: the same releases are
//! listed and selected, and `orch template` renders the same objects as
//! `helmfile template --skip-deps`.

mod offline;

use std::path::Path;
use std::process::Command;

use offline::{finish, helmfile, objects, orch_ok, repo};
use serde::Deserialize;
use serde_json::Value;

fn run_helmfile(dir: &Path, args: &[&str]) -> String {
    let (code, stdout, stderr) = finish(
        Command::new(helmfile())
            .current_dir(dir)
            .args(args)
            .output()
            .expect("run helmfile"),
    );
    assert_eq!(code, 0, "helmfile {args:?} failed:\n{stderr}");
    stdout
}

/// What both tools' `list -o json` agree on, per release.
fn listed(json: &str) -> Vec<(String, String, bool, bool, String)> {
    // helmfile prints nothing at all when no release matches.
    if json.trim().is_empty() {
        return Vec::new();
    }
    let rows: Vec<Value> = serde_json::from_str(json).expect("list output is JSON");
    rows.iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["namespace"].as_str().unwrap().to_string(),
                r["enabled"].as_bool().unwrap(),
                r["installed"].as_bool().unwrap(),
                r["chart"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const SELECTIONS: &[&[&str]] = &[
    &[],
    &["-l", "tier=apps"],
    &["-l", "name=api"],
    &["-l", "tier!=apps"],
    &["-l", "tier=apps,name!=worker"],
    &["-l", "name=db", "-l", "name=worker"],
    &["-l", "namespace=observability"],
    &["-l", "chart=web,group=shop"],
];

fn compare(fixture: &str, environments: &[&str]) {
    compare_with(fixture, environments, &[]);
}

/// [`compare`], with `helmfile_args` first on helmfile's command lines.
fn compare_with(fixture: &str, environments: &[&str], helmfile_args: &[&str]) {
    let dir = repo().join("tests/fixtures/parity").join(fixture);
    let mut compared = 0;
    for environment in environments {
        for selection in SELECTIONS {
            let mut args = vec!["-e", environment, "--allow-no-matching-release"];
            args.extend_from_slice(selection);
            let helmfile_list = {
                let mut a = [helmfile_args, &args].concat();
                a.extend(["list", "--output", "json"]);
                run_helmfile(&dir, &a)
            };
            let expected = listed(&helmfile_list);
            let mut a = args.clone();
            a.extend(["list", "-o", "json"]);
            assert_eq!(
                listed(&orch_ok(&dir, &a)),
                expected,
                "{fixture}: list {args:?}"
            );
            if expected.is_empty() {
                continue;
            }
            let mut a = [helmfile_args, &args].concat();
            a.extend(["template", "--skip-deps"]);
            let helmfile_objects = objects(&run_helmfile(&dir, &a));
            let mut a = args.clone();
            a.push("template");
            assert_eq!(
                objects(&orch_ok(&dir, &a)),
                helmfile_objects,
                "{fixture}: template {args:?}"
            );
            compared += 1;
        }
        compare_build(&dir, &["-e", environment], helmfile_args);
    }
    assert!(compared > 0, "{fixture}: no selection rendered anything");
}

/// `orch build` shows each state as `helmfile build` does. A chart helmfile first turns into
/// a new one has a temporary directory as its `chartPath` there, which orch has not.
fn compare_build(dir: &Path, args: &[&str], helmfile_args: &[&str]) {
    let documents = |text: &str| -> Vec<Value> {
        serde_yaml_ng::Deserializer::from_str(text)
            .map(|doc| {
                let mut doc = Value::deserialize(doc).expect("build prints YAML");
                for release in doc["releases"].as_array_mut().into_iter().flatten() {
                    let temporary = release["chartPath"]
                        .as_str()
                        .is_some_and(|p| p.starts_with('/'));
                    if temporary {
                        release.as_object_mut().unwrap().remove("chartPath");
                    }
                }
                doc
            })
            .collect()
    };
    let helmfile_build = run_helmfile(dir, &[helmfile_args, args, &["build"]].concat());
    // The kustomize helmfile runs, which its build shows.
    let kustomize = helmfile_args
        .windows(2)
        .find(|pair| pair[0] == "--kustomize-binary")
        .map_or("kustomize", |pair| pair[1]);
    let orch_args = [args, &["--kustomize-binary", kustomize, "build"]].concat();
    let orch_build = orch_ok(dir, &orch_args);
    assert_eq!(
        documents(&orch_build),
        documents(&helmfile_build),
        "{}: build {args:?}",
        dir.display()
    );
}

#[test]
fn basic_fixture_agrees_with_helmfile() {
    compare("basic", &["default", "staging", "prod"]);
}

#[test]
fn merge_keys_fixture_agrees_with_helmfile() {
    compare("merge-keys", &["default"]);
}

#[test]
fn go_templates_fixture_agrees_with_helmfile() {
    compare("go-templates", &["default", "staging", "prod"]);
}

#[test]
fn write_values_writes_the_values_entries_as_helmfile_does_not_the_set_ones() {
    let dir = repo().join("tests/fixtures/parity/go-templates");
    let ours = orch_ok(&dir, &["write-values", "-l", "name=cache"]);
    let file = tempfile::tempdir().unwrap();
    let template = format!("{}/{{{{ .Release.Name }}}}.yaml", file.path().display());
    run_helmfile(
        &dir,
        &[
            "write-values",
            "-l",
            "name=cache",
            "--output-file-template",
            &template,
        ],
    );
    let theirs = std::fs::read_to_string(file.path().join("cache.yaml")).unwrap();
    let parse = |text: &str| -> Value {
        serde_yaml_ng::from_str(text.split_once("\n# Release: ").map_or(text, |(_, rest)| {
            rest.split_once('\n').map_or("", |(_, values)| values)
        }))
        .unwrap()
    };
    assert_eq!(
        parse(&ours),
        parse(&theirs),
        "orch:\n{ours}\nhelmfile:\n{theirs}"
    );
    assert!(parse(&ours).get("greeting").is_none(), "{ours}");
    // The same text, so helm reads what helmfile would give it: `"yes"` stays quoted.
    let text = ours.split_once("\n# Release: apps/cache\n").unwrap().1;
    assert_eq!(text, theirs);
    assert!(text.contains("EVICT: \"yes\""), "{text}");
}

#[test]
fn a_hook_at_no_event_helmfile_runs_loads_and_is_named_in_a_warning() {
    let dir = repo().join("tests/fixtures/parity/go-templates");
    let (code, _, stderr) = offline::orch(&dir, &["list"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("hooks[0]: `release` is no event helmfile runs a release's hooks at"),
        "{stderr}"
    );
}

#[test]
fn sub_helmfiles_fixture_agrees_with_helmfile() {
    compare("sub-helmfiles", &["default", "staging"]);
}

#[test]
fn release_templates_fixture_agrees_with_helmfile() {
    compare("release-templates", &["default", "staging"]);
}

#[test]
fn any_yaml_a_chart_renders_is_printed_as_helmfile_prints_it() {
    compare("any-yaml", &["default"]);
    let dir = repo().join("tests/fixtures/parity/any-yaml");
    let (code, _, stderr) = offline::orch(&dir, &["template"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("notes/templates/notes.yaml: missing apiVersion, missing kind"),
        "{stderr}"
    );
    let (code, _, stderr) = offline::orch(&dir, &["lint"]);
    assert_ne!(code, 0, "lint takes a document that is no object");
    assert!(stderr.contains("missing apiVersion"), "{stderr}");
}

#[test]
fn hcl_values_fixture_agrees_with_helmfile() {
    compare("hcl-values", &["default"]);
}

#[test]
fn chartify_fixture_agrees_with_helmfile() {
    compare("chartify", &["default"]);
}

#[test]
fn kustomize_patches_fixture_agrees_with_helmfile() {
    // helmfile has kustomize patch what it renders; kubectl's kustomize does here.
    let shim = repo().join("tests/fixtures/parity/kustomize-patches/kustomize-via-kubectl");
    let shim = shim.to_str().unwrap();
    compare_with(
        "kustomize-patches",
        &["default"],
        &["--kustomize-binary", shim],
    );
}

#[test]
fn a_states_own_hooks_run_where_and_when_helmfile_runs_them() {
    let fixture = repo().join("tests/fixtures/parity/state-hooks/helmfile.yaml");
    let hooks_log = |tool: &dyn Fn(&Path)| {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(&fixture).unwrap().replace(
            "../sub-helmfiles/charts/web",
            repo()
                .join("tests/fixtures/parity/sub-helmfiles/charts/web")
                .to_str()
                .unwrap(),
        );
        std::fs::write(dir.path().join("helmfile.yaml"), text).unwrap();
        tool(dir.path());
        std::fs::read_to_string(dir.path().join("hooks.log")).unwrap()
    };
    let template = "state prepare\nrelease prepare web\nrelease cleanup web\nstate cleanup\n";
    // helmfile's build runs no release's cleanup hooks.
    let build = "state prepare\nrelease prepare web\nstate cleanup\n";
    let commands: [(&[&str], &[&str], &str); 2] = [
        (&["template", "--skip-deps"], &["template"], template),
        (&["build"], &["build"], build),
    ];
    for (helmfile_args, orch_args, expected) in commands {
        let theirs = hooks_log(&|dir| {
            run_helmfile(dir, helmfile_args);
        });
        let ours = hooks_log(&|dir| {
            orch_ok(dir, orch_args);
        });
        assert_eq!(ours, theirs, "{orch_args:?}");
        assert_eq!(ours, expected);
    }
}

#[test]
fn json_patches_change_the_rendered_objects() {
    let dir = repo().join("tests/fixtures/json-patches");
    let out = orch_ok(&dir, &["template"]);
    let deployment = out
        .split("---\n")
        .find(|doc| doc.contains("kind: Deployment"))
        .expect("a Deployment");
    assert!(deployment.contains("replicas: 4"), "{deployment}");
    assert!(deployment.contains("patched: \"yes\""), "{deployment}");
    let config_map = out
        .split("---\n")
        .find(|doc| doc.contains("kind: ConfigMap"))
        .expect("a ConfigMap");
    assert!(!config_map.contains("patched"), "{config_map}");
}
