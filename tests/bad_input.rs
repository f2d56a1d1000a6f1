//! Every kind of bad input gives one clear error, exits 1, and neither panics nor hangs.
//!
//! The corpus is data: each directory of `tests/bad_input/` is one case — the files a user
//! would have, and `case.yaml` with a comment on what is wrong, the command line (`args`)
//! and the substrings the error must contain, in order (`expect`). The first word of the
//! directory's name is the case's category. `_shared/` (a small chart) is copied under
//! every case first. Files rather than a Rust table because a case is then what the user
//! had — binary garbage, Latin-1, NUL bytes and tabs included, unescaped — a new one is a
//! directory a broken file can be dropped into, and 150 cases as Rust string literals
//! would be a 2 000-line file of escapes.
//!
//! Inputs too big to check in, or with computed arguments (10 000-deep nesting, a 5 MB
//! name, 20 000 releases, a 5 000-step `--set` path), are built by `generated_cases`.
//!
//! Every case must: exit 1; print exactly one `error: ` line, first on stderr; contain the
//! expected substrings in order (file:line where a file is involved); not panic; and end
//! within `CASE_TIMEOUT` (a kubeconfig pointing at a closed port must not hang orch).

mod offline;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use offline::{finish, orch, repo};
use serde::Deserialize;

/// Far more than any case needs (the slowest render a chart through helm): reaching it
/// means orch hung.
const CASE_TIMEOUT: Duration = Duration::from_secs(30);

/// `case.yaml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectation {
    args: Vec<String>,
    /// Substrings of stderr, in order of appearance.
    expect: Vec<String>,
}

struct Case {
    name: String,
    /// Relative path and content of each file.
    files: Vec<(PathBuf, Vec<u8>)>,
    expectation: Expectation,
}

fn corpus() -> PathBuf {
    repo().join("tests/bad_input")
}

/// The files under `dir`, relative to it, with their contents.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap().to_path_buf();
                files.push((relative, std::fs::read(&path).unwrap()));
            }
        }
    }
    files
}

fn checked_in_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('_') {
            continue;
        }
        let mut files = files_under(&dir);
        let index = files
            .iter()
            .position(|(path, _)| path == Path::new("case.yaml"))
            .unwrap_or_else(|| panic!("{name} has no case.yaml"));
        let (_, text) = files.remove(index);
        let expectation = serde_yaml_ng::from_slice(&text)
            .unwrap_or_else(|err| panic!("{name}/case.yaml: {err}"));
        cases.push(Case {
            name,
            files,
            expectation,
        });
    }
    cases
}

fn generated(
    name: &str,
    files: Vec<(&str, String)>,
    args: Vec<String>,
    expect: Vec<String>,
) -> Case {
    Case {
        name: name.to_string(),
        files: files
            .into_iter()
            .map(|(path, text)| (PathBuf::from(path), text.into_bytes()))
            .collect(),
        expectation: Expectation { args, expect },
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn generated_cases() -> Vec<Case> {
    const RELEASE: &str = "releases:\n  - name: a\n    chart: ./charts/app\n";
    let with_values = "releases:\n  - name: a\n    chart: ./charts/app\n    values: [v.yaml]\n";
    let many_releases: String = (0..20_000)
        .map(|i| {
            let need = if i == 19_999 {
                "nope".to_string()
            } else {
                format!("r{}", i + 1)
            };
            format!("  - name: r{i}\n    chart: ./charts/app\n    needs: [{need}]\n")
        })
        .collect();
    let block_nesting: String = (0..1_000)
        .map(|i| format!("{}k:\n", "  ".repeat(i)))
        .collect();
    let many_keys: String = (0..100_000)
        .map(|i| format!("k{i}: {i}\n"))
        .chain(["k0: again\n".to_string()])
        .collect();
    vec![
        generated(
            "huge-deep-flow-nesting",
            vec![(
                "helmfile.yaml",
                format!("releases: {}{}\n", "[".repeat(10_000), "]".repeat(10_000)),
            )],
            strings(&["list"]),
            strings(&["helmfile.yaml:1:", "nested more than 128 levels deep"]),
        ),
        generated(
            "huge-deep-block-nesting-in-values",
            vec![
                ("helmfile.yaml", with_values.into()),
                ("v.yaml", block_nesting),
            ],
            strings(&["template"]),
            strings(&["v.yaml:", "nested more than 128 levels deep"]),
        ),
        generated(
            "huge-release-name",
            vec![(
                "helmfile.yaml",
                format!(
                    "releases:\n  - name: {}\n    chart: ./charts/app\n",
                    "a".repeat(5_000_000)
                ),
            )],
            strings(&["list"]),
            strings(&[
                "helmfile.yaml:2: release name `aaaa",
                "a... (5000000 bytes)` is longer than 53 characters",
            ]),
        ),
        generated(
            "huge-set-path",
            vec![("helmfile.yaml", RELEASE.into())],
            vec![
                "--set".into(),
                format!("{}=1", vec!["a"; 5_000].join(".")),
                "template".into(),
            ],
            strings(&["(10001 bytes): the path has 5000 levels; values nest at most 128 deep"]),
        ),
        generated(
            "huge-many-releases",
            vec![("helmfile.yaml", format!("releases:\n{many_releases}"))],
            strings(&["graph"]),
            strings(&["helmfile.yaml:59999: release default/r19999 needs `nope`"]),
        ),
        generated(
            "huge-values-file-with-a-late-duplicate",
            vec![("helmfile.yaml", with_values.into()), ("v.yaml", many_keys)],
            strings(&["template"]),
            strings(&["v.yaml:100001:1: duplicate key `k0` (first at line 1)"]),
        ),
    ]
}

fn write_files(dir: &Path, files: &[(PathBuf, Vec<u8>)]) {
    for (path, content) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

/// Runs orch in `dir`; `None` when it had not finished after `CASE_TIMEOUT` (then killed).
fn orch_bounded(dir: &Path, args: &[String]) -> Option<(i32, String, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_orch"))
        .current_dir(dir)
        .args(args)
        // What the user's shell may set must not change what a case sees.
        .env_remove("KUBECONFIG")
        .env_remove("ORCH_LOG")
        .env_remove("ORCH_ENVIRONMENT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run orch");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + CASE_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Some(finish(Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }))
}

/// What is wrong with a case's run, if anything.
fn check(case: &Case) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &files_under(&corpus().join("_shared")));
    write_files(dir.path(), &case.files);
    let Some((code, _, stderr)) = orch_bounded(dir.path(), &case.expectation.args) else {
        return Some(format!("still running after {CASE_TIMEOUT:?}"));
    };
    let mut rest = stderr.as_str();
    let missing = case
        .expectation
        .expect
        .iter()
        .find(|part| match rest.find(part.as_str()) {
            Some(i) => {
                rest = &rest[i + part.len()..];
                false
            }
            None => true,
        });
    let error_lines = stderr.lines().filter(|l| l.starts_with("error: ")).count();
    let problem = if code != 1 {
        format!("exit {code}")
    } else if !stderr.starts_with("error: ") || error_lines != 1 {
        format!("{error_lines} `error: ` lines, not one line first")
    } else if let Some(part) = missing {
        format!("no {part:?} (in order)")
    } else {
        return None;
    };
    // Long inputs make long (shortened) messages; a failure report shows their start.
    let shown: String = stderr.chars().take(2_000).collect();
    Some(format!("{problem}; stderr:\n{shown}"))
}

#[test]
fn each_bad_input_gives_one_clear_error() {
    let cases: Vec<Case> = checked_in_cases()
        .into_iter()
        .chain(generated_cases())
        .collect();
    assert!(
        cases.len() >= 60,
        "the corpus shrank to {} cases",
        cases.len()
    );
    let mut per_category: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in &cases {
        let category = case.name.split('-').next().unwrap_or_default();
        *per_category.entry(category).or_default() += 1;
        if let Some(failure) = check(case) {
            failures.push(format!("{}: {failure}", case.name));
        }
    }
    eprintln!("{} bad inputs: {per_category:?}", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn missing_file_handler_warn_skips_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &files_under(&corpus().join("_shared")));
    std::fs::write(
        dir.path().join("helmfile.yaml"),
        "missingFileHandler: Warn\nreleases:\n  - name: a\n    chart: ./charts/app\n    values: [missing.yaml]\n",
    )
    .unwrap();
    let (code, stdout, stderr) = orch(dir.path(), &["template"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("skipping missing values file missing.yaml"),
        "{stderr}"
    );
    assert!(stdout.contains("kind: ConfigMap"));
}
