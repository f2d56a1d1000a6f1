//! Parity of the native renderer with `helm template`: every chart of the corpus, with each
//! of its values sets, rendered both ways and compared as parsed objects, then as text
//! (documents in any order, trailing white space ignored).
//!
//! The corpus: tests/fixtures/charts/<name>/chart with values sets in .../values/*.yaml
//! (plus the chart's defaults alone), and the example's charts with the values orch merges
//! for each of their releases in each environment. A values file may start with
//! `# kube-version: X` and `# api-versions: a/v1,b/v1` lines to set capabilities. A case
//! whose fixture or values file name contains `fails` must be refused by both renderers;
//! any other case where either one fails is a difference.
//!
//! helm comes from ORCH_HELM_BINARY or PATH; without it the test fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use helm_engine::{CapabilitiesInfo, ReleaseInfo, render_chart, to_stream};
use orch::config::{self, LoadOptions, Overrides};

struct Case {
    label: String,
    chart: PathBuf,
    values: serde_json::Value,
    kube_version: Option<String>,
    api_versions: Vec<String>,
    namespace: String,
    release: String,
}

#[derive(Default)]
struct Tally {
    cases: usize,
    objects_equal: usize,
    text_equal: usize,
    failures: Vec<String>,
}

#[test]
fn native_rendering_matches_helm_template() {
    let helm = helm_binary();
    let mut cases = fixture_cases();
    cases.extend(example_cases());
    assert!(!cases.is_empty(), "no parity cases found");
    let mut tally = Tally::default();
    for case in &cases {
        tally.cases += 1;
        let helm_out = helm_template(&helm, case);
        let native_out = native_template(case);
        match (helm_out, native_out) {
            (Ok(expected), Ok(actual)) => compare(case, &expected, &actual, &mut tally),
            (Err(_), Err(_)) if case.label.contains("fails") => {
                // Both refuse input that is meant to be refused: that is parity too.
                tally.objects_equal += 1;
                tally.text_equal += 1;
            }
            (Err(e), Err(_)) => tally
                .failures
                .push(format!("{}: both failed; helm: {e}", case.label)),
            (Ok(_), Err(e)) => tally
                .failures
                .push(format!("{}: native failed: {e}", case.label)),
            (Err(e), Ok(_)) => tally.failures.push(format!(
                "{}: helm failed but native rendered: {e}",
                case.label
            )),
        }
    }
    println!(
        "{} of {} charts × values sets identical (objects); {} of {} identical as text",
        tally.objects_equal, tally.cases, tally.text_equal, tally.cases
    );
    for failure in &tally.failures {
        println!("---\n{failure}");
    }
    assert_eq!(
        tally.objects_equal, tally.cases,
        "native rendering differs from helm template"
    );
}

fn compare(case: &Case, expected: &str, actual: &str, tally: &mut Tally) {
    let objects = |stream: &str| -> Result<Vec<String>, String> {
        let mut docs: Vec<String> =
            orch::render::manifest::split(stream, "?", orch::render::Reading::Whole)?
                .into_iter()
                .map(|m| {
                    format!(
                        "{}\n{}",
                        m.source,
                        serde_json::to_string_pretty(&m.object).unwrap_or_default()
                    )
                })
                .collect();
        docs.sort();
        Ok(docs)
    };
    match (objects(expected), objects(actual)) {
        (Ok(e), Ok(a)) if e == a => tally.objects_equal += 1,
        (Ok(e), Ok(a)) => {
            tally.failures.push(format!(
                "{}: objects differ\n{}",
                case.label,
                first_difference(&e.join("\n"), &a.join("\n"))
            ));
            return;
        }
        (e, a) => {
            tally.failures.push(format!(
                "{}: cannot parse output: helm {:?} native {:?}",
                case.label,
                e.err(),
                a.err()
            ));
            return;
        }
    }
    if normalized_text(expected) == normalized_text(actual) {
        tally.text_equal += 1;
    } else {
        tally.failures.push(format!(
            "{}: same objects, text differs\n{}",
            case.label,
            first_difference(
                &normalized_text(expected).join("\n---\n"),
                &normalized_text(actual).join("\n---\n")
            )
        ));
    }
}

fn normalized_text(stream: &str) -> Vec<String> {
    let mut docs: Vec<String> = stream
        .split("\n---\n")
        .map(|d| {
            d.trim_start_matches("---\n")
                .lines()
                .map(str::trim_end)
                .collect::<Vec<_>>()
                .join("\n")
                .trim()
                .to_string()
        })
        .filter(|d| !d.is_empty())
        .collect();
    docs.sort();
    docs
}

fn first_difference(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let at = e
        .iter()
        .zip(a.iter())
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    let from = at.saturating_sub(3);
    format!(
        "helm:\n{}\nnative:\n{}",
        e[from..(at + 4).min(e.len())].join("\n"),
        a[from..(at + 4).min(a.len())].join("\n")
    )
}

fn helm_binary() -> PathBuf {
    let candidate =
        std::env::var_os("ORCH_HELM_BINARY").map_or_else(|| PathBuf::from("helm"), PathBuf::from);
    let works = Command::new(&candidate)
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        works,
        "helm not found (set ORCH_HELM_BINARY or put helm on PATH): the parity suite needs it"
    );
    candidate
}

fn helm_template(helm: &Path, case: &Case) -> Result<String, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let values = dir.path().join("values.json");
    std::fs::write(&values, serde_json::to_vec(&case.values).unwrap())
        .map_err(|e| e.to_string())?;
    let mut command = Command::new(helm);
    command
        .args(["template", &case.release])
        .arg(&case.chart)
        .args(["--namespace", &case.namespace, "--include-crds", "--values"])
        .arg(&values);
    if let Some(kube) = &case.kube_version {
        command.args(["--kube-version", kube]);
    }
    for api in &case.api_versions {
        command.args(["--api-versions", api]);
    }
    let output = command.output().map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn native_template(case: &Case) -> Result<String, String> {
    let release = ReleaseInfo {
        name: case.release.clone(),
        namespace: case.namespace.clone(),
        revision: 1,
        is_upgrade: false,
    };
    let capabilities = CapabilitiesInfo::new(case.kube_version.as_deref(), &case.api_versions)?;
    render_chart(&case.chart, &release, &case.values, &capabilities)
        .map(|documents| to_stream(&documents))
        .map_err(|e| e.to_string())
}

fn fixture_cases() -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/charts");
    let mut cases = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    for fixture in names {
        let chart = fixture.join("chart");
        if !chart.is_dir() {
            continue;
        }
        let name = fixture.file_name().unwrap().to_string_lossy().into_owned();
        cases.push(case(
            format!("{name} (defaults)"),
            &chart,
            serde_json::json!({}),
            "",
        ));
        let mut files: Vec<_> = std::fs::read_dir(fixture.join("values"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let values: serde_json::Value = serde_yaml_ng::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let label = format!("{name} ({})", file.file_name().unwrap().to_string_lossy());
            cases.push(case(label, &chart, values, &text));
        }
    }
    cases
}

fn case(label: String, chart: &Path, values: serde_json::Value, header: &str) -> Case {
    let directive = |key: &str| {
        header
            .lines()
            .find_map(|l| l.strip_prefix(&format!("# {key}: ")))
            .map(|v| v.trim().to_string())
    };
    Case {
        label,
        chart: chart.to_path_buf(),
        values: if values.is_null() {
            serde_json::json!({})
        } else {
            values
        },
        kube_version: directive("kube-version"),
        api_versions: directive("api-versions")
            .map(|v| v.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
        namespace: "parity".into(),
        release: "rel".into(),
    }
}

/// The example's releases with the values orch merges for them, in each environment.
fn example_cases() -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cases = Vec::new();
    for environment in ["staging", "prod"] {
        let spec = match config::load(&LoadOptions {
            file: Some(root.join("releases")),
            environment: environment.into(),
            sops_binary: "sops".into(),
            keep_as_read: false,
        }) {
            Ok(spec) => spec,
            Err(e) => panic!("cannot load the example for {environment}: {e}"),
        };
        for release in &spec.releases {
            let Some(dir) = release.chart_dir() else {
                continue;
            };
            let values = spec
                .release_values(release, &Overrides::default())
                .expect("example values");
            cases.push(Case {
                label: format!("example {} ({environment})", release.id),
                chart: dir.to_path_buf(),
                values,
                kube_version: release.kube_version.clone(),
                api_versions: release.api_versions.clone(),
                namespace: release.id.namespace.clone(),
                release: release.id.name.clone(),
            });
        }
    }
    cases
}
