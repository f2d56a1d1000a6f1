//! A bounded fuzz run of the releases-file parser: random mutations of real releases and
//! values files go through `config::load`, then the plan and every release's values, as a
//! command would take them. None may panic, and every error must say which file it is about.
//!
//! Seeds are the example system (`releases/`, `values/`), the helmfile-parity fixtures and
//! the bad-input corpus. A case takes one seed project, one of its releases or values files,
//! and one to four mutations: a flipped bit, a truncation, lines swapped, deleted, duplicated
//! or re-indented, a YAML or minijinja fragment inserted, the whole file replaced by (or
//! followed by) a random YAML document built from the releases file's own keys.
//!
//! **Bound:** the run stops after `ORCH_FUZZ_SECONDS` seconds (default 10; CI's budget
//! for it is 20) or `MAX_CASES` cases, whichever comes first — a few thousand cases in a
//! debug build. Each run draws a new seed and prints it; `ORCH_FUZZ_SEED=N` replays one. A
//! failure is shrunk by proptest to a minimal list of mutations and shown with the file as
//! mutated. A stack overflow aborts the process before it can report: the mutated project is
//! then left as it was, with the seed, in `target/tmp/fuzz_releases_file-*/`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use orch::config::{self, ConfigError, LoadOptions, Overrides};
use orch::plan::{Plan, SelectOptions};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngSeed, TestError, TestRunner};
use serde_json::Value;

const DEFAULT_SECONDS: u64 = 10;
const MAX_CASES: usize = 50_000;

/// A copy of a seed's files that cases mutate one file of, and restore.
struct Project {
    /// The example or a parity fixture, rather than a bad-input case.
    real: bool,
    root: PathBuf,
    /// What `-f` names: a releases file or directory.
    file: PathBuf,
    /// Environments the unmutated project loads in.
    environments: Vec<String>,
    /// The releases and values files a case may mutate.
    targets: Vec<PathBuf>,
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit { at: Index, bit: u8 },
    Truncate { at: Index },
    SwapLines { a: Index, b: Index },
    DeleteLine { at: Index },
    DuplicateLine { at: Index },
    Indent { at: Index, spaces: usize },
    Insert { at: Index, fragment: &'static str },
    Replace { document: String },
    Append { document: String },
}

#[derive(Debug, Clone)]
struct Case {
    /// Half of the cases mutate the example or a parity fixture: real, valid files.
    real: bool,
    project: Index,
    target: Index,
    environment: Index,
    mutations: Vec<Mutation>,
}

/// Pieces of YAML and minijinja that break files in the ways people do.
const FRAGMENTS: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "{{ values.nope }}",
    "{{ environment.values.x.y }}",
    "{% if %}",
    "{% for x in values %}",
    "{% endfor %}",
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    "\t",
    "  ",
    "\n",
    "&a ",
    "*a",
    "<<: *a\n",
    "<<: [1]\n",
    "---\n",
    "--- !!map\n",
    "!!binary ",
    "!!int x",
    "\"",
    "'",
    "\u{0}",
    "\u{feff}",
    "? ",
    "%YAML 1.1\n",
    "|\n",
    ">-\n",
    "~",
    "null",
    "true",
    "-1",
    "1e999",
    "0x1F",
    "needs: [a, a]\n",
    "needs: [x/y/z]\n",
    "releases:\n",
    "environments: {}\n",
    "environments:\n  default: 3\n",
    "  - name: Bad_Name\n    chart: ./c\n",
    "values: [missing.yaml]\n",
    "condition: a.b\n",
    "set: [{name: 'a..b', value: 1}]\n",
    "é",
    "\u{202e}",
];

/// Keys of the releases-file schema, and a few others, for random documents.
const KEYS: &[&str] = &[
    "releases",
    "environments",
    "helmDefaults",
    "repositories",
    "missingFileHandler",
    "commonLabels",
    "templates",
    "apiVersions",
    "kubeVersion",
    "name",
    "namespace",
    "chart",
    "version",
    "values",
    "set",
    "labels",
    "needs",
    "installed",
    "condition",
    "createNamespace",
    "wait",
    "timeout",
    "atomic",
    "kubeContext",
    "value",
    "url",
    "default",
    "staging",
    "prod",
    "db",
    "x",
];

fn random_document() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-2i64..100).prop_map(Value::from),
        Just(Value::from(1.5)),
        prop::sample::select(vec![
            "a",
            "./charts/app",
            "default/a",
            "a.b",
            "Warn",
            "",
            "{{ x }}"
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..4).prop_map(|entries| {
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect(),
                )
            }),
        ]
    })
    .prop_map(|value| serde_yaml_ng::to_string(&value).unwrap_or_default())
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        1 => any::<Index>().prop_map(|at| Mutation::Truncate { at }),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        2 => any::<Index>().prop_map(|at| Mutation::DeleteLine { at }),
        2 => any::<Index>().prop_map(|at| Mutation::DuplicateLine { at }),
        2 => (any::<Index>(), 1usize..5).prop_map(|(at, spaces)| Mutation::Indent { at, spaces }),
        4 => (any::<Index>(), prop::sample::select(FRAGMENTS))
            .prop_map(|(at, fragment)| Mutation::Insert { at, fragment }),
        1 => random_document().prop_map(|document| Mutation::Replace { document }),
        1 => random_document().prop_map(|document| Mutation::Append { document }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<bool>(),
        any::<Index>(),
        any::<Index>(),
        any::<Index>(),
        prop::collection::vec(mutation(), 1..5),
    )
        .prop_map(|(real, project, target, environment, mutations)| Case {
            real,
            project,
            target,
            environment,
            mutations,
        })
}

/// Line `at` of `bytes` as a byte range, its newline included.
fn line_range(bytes: &[u8], at: &Index) -> std::ops::Range<usize> {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .filter(|&start| start < bytes.len())
        .collect();
    if starts.is_empty() {
        return 0..0;
    }
    let line = at.index(starts.len());
    let start = starts[line];
    let end = starts.get(line + 1).copied().unwrap_or(bytes.len());
    start..end
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let position = |at: &Index, len: usize| at.index(len + 1);
    match mutation {
        Mutation::FlipBit { at, bit } if !bytes.is_empty() => {
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        Mutation::FlipBit { .. } => {}
        Mutation::Truncate { at } => bytes.truncate(position(at, bytes.len())),
        Mutation::SwapLines { a, b } => {
            let (first, second) = (line_range(bytes, a), line_range(bytes, b));
            let (first, second) = if first.start <= second.start {
                (first, second)
            } else {
                (second, first)
            };
            if first.end <= second.start {
                let mut out = bytes[..first.start].to_vec();
                out.extend_from_slice(&bytes[second.clone()]);
                out.extend_from_slice(&bytes[first.end..second.start]);
                out.extend_from_slice(&bytes[first.clone()]);
                out.extend_from_slice(&bytes[second.end..]);
                *bytes = out;
            }
        }
        Mutation::DeleteLine { at } => {
            bytes.drain(line_range(bytes, at));
        }
        Mutation::DuplicateLine { at } => {
            let range = line_range(bytes, at);
            let line = bytes[range.clone()].to_vec();
            bytes.splice(range.start..range.start, line);
        }
        Mutation::Indent { at, spaces } => {
            let start = line_range(bytes, at).start;
            bytes.splice(start..start, std::iter::repeat_n(b' ', *spaces));
        }
        Mutation::Insert { at, fragment } => {
            let i = position(at, bytes.len());
            bytes.splice(i..i, fragment.bytes());
        }
        Mutation::Replace { document } => *bytes = document.clone().into_bytes(),
        Mutation::Append { document } => {
            bytes.extend_from_slice(b"\n---\n");
            bytes.extend_from_slice(document.as_bytes());
        }
    }
}

fn load(project: &Project, environment: &str) -> Result<config::Spec, ConfigError> {
    config::load(&LoadOptions {
        file: Some(project.file.clone()),
        environment: environment.to_string(),
        sops_binary: "sops".into(),
        keep_as_read: false,
    })
}

/// Runs a command's offline stages on the (mutated) project: whether all of them took it,
/// or what went wrong.
fn check(project: &Project, environment: &str) -> Result<bool, String> {
    let names_a_file = |message: String| -> Result<bool, String> {
        if message.trim().is_empty() || !message.contains(project.root.to_str().unwrap()) {
            Err(format!(
                "the error names no file of the project: {message:?}"
            ))
        } else {
            Ok(false)
        }
    };
    let spec = match load(project, environment) {
        Ok(spec) => spec,
        // About the -e flag, not a file: it lists the environments the files define.
        Err(error @ ConfigError::UnknownEnvironment { .. }) => {
            return if error.to_string().contains(environment) {
                Ok(false)
            } else {
                Err(format!("{error}"))
            };
        }
        Err(error) => return names_a_file(error.to_string()),
    };
    if let Err(error) = Plan::new(&spec, &SelectOptions::default()) {
        return names_a_file(error.to_string());
    }
    for release in &spec.releases {
        if let Err(error) = spec.release_values(release, &Overrides::default()) {
            return names_a_file(error.to_string());
        }
    }
    Ok(true)
}

fn copy_tree(from: &Path, to: &Path, skip: &dyn Fn(&Path) -> bool) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if skip(&path) {
            continue;
        }
        if path.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&path, &target, skip);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            // Charts and manifests are the renderer's input, not the parser's.
            if name != "charts" && name != "manifests" {
                yaml_files(&path, out);
            }
        } else if name != "case.yaml"
            && [".yaml", ".yml", ".yaml.j2", ".yml.j2"]
                .iter()
                .any(|e| name.ends_with(e))
        {
            out.push(path);
        }
    }
}

/// Copies each seed under `work` and keeps those that load unmutated in some environment.
fn projects(work: &Path) -> Vec<Project> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seeds: Vec<PathBuf> = vec![repo.to_path_buf()];
    for group in ["tests/fixtures/parity", "tests/bad_input"] {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo.join(group))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('_'))
            .collect();
        dirs.sort();
        seeds.extend(dirs);
    }
    let mut projects = Vec::new();
    for (i, seed) in seeds.iter().enumerate() {
        let root = work.join(format!("p{i}"));
        std::fs::create_dir_all(&root).unwrap();
        if seed == repo {
            for dir in ["releases", "values"] {
                std::fs::create_dir_all(root.join(dir)).unwrap();
                copy_tree(&seed.join(dir), &root.join(dir), &|_| false);
            }
        } else {
            copy_tree(seed, &root, &|p| {
                p.ends_with("charts") || p.ends_with("manifests")
            });
        }
        let file = ["releases", "helmfile.yaml", "releases.yaml.j2"]
            .iter()
            .map(|name| root.join(name))
            .find(|path| path.exists());
        let Some(file) = file else { continue };
        let mut targets = Vec::new();
        yaml_files(&root, &mut targets);
        targets.sort();
        let mut project = Project {
            real: !seed.starts_with(repo.join("tests/bad_input")),
            root,
            file,
            environments: Vec::new(),
            targets,
        };
        project.environments = ["default", "staging", "prod", "dev"]
            .into_iter()
            .filter(|env| load(&project, env).is_ok())
            .map(str::to_string)
            .collect();
        if project.environments.is_empty() {
            // A bad-input seed: broken already, still worth mutating.
            project.environments.push("default".into());
        }
        if !project.targets.is_empty() {
            projects.push(project);
        }
    }
    projects
}

fn budget() -> Duration {
    let seconds = std::env::var("ORCH_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SECONDS);
    Duration::from_secs(seconds)
}

#[test]
fn mutated_releases_files_never_panic_and_errors_name_their_file() {
    // Removed when the test ends, also on failure; a stack overflow leaves it behind.
    let work = tempfile::Builder::new()
        .prefix("fuzz_releases_file-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let projects = projects(work.path());
    assert!(
        projects.len() >= 50,
        "only {} seed projects",
        projects.len()
    );

    let seed: u64 = std::env::var("ORCH_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            nanos.as_nanos() as u64 ^ u64::from(std::process::id())
        });
    std::fs::write(work.path().join("seed"), seed.to_string()).unwrap();
    let mut runner = TestRunner::new(Config {
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = case();
    let started = Instant::now();
    let mut cases = 0;
    let accepted = std::cell::Cell::new(0);
    while started.elapsed() < budget() && cases < MAX_CASES {
        let tree = strategy.new_tree(&mut runner).unwrap();
        let result = runner.run_one(tree, |case| {
            let pool: Vec<&Project> = projects.iter().filter(|p| p.real || !case.real).collect();
            let project = pool[case.project.index(pool.len())];
            let target = &project.targets[case.target.index(project.targets.len())];
            let environment =
                &project.environments[case.environment.index(project.environments.len())];
            let original = std::fs::read(target).unwrap();
            let mut bytes = original.clone();
            for mutation in &case.mutations {
                apply(&mut bytes, mutation);
            }
            std::fs::write(target, &bytes).unwrap();
            let outcome = check(project, environment);
            std::fs::write(target, &original).unwrap();
            outcome
                .map(|ok| accepted.set(accepted.get() + usize::from(ok)))
                .map_err(|why| {
                    let shown: String = String::from_utf8_lossy(&bytes)
                        .chars()
                        .take(3_000)
                        .collect();
                    TestCaseError::fail(format!(
                        "{why}\n-e {environment}, {} mutated to:\n{shown}",
                        target.display()
                    ))
                })
        });
        match result {
            Ok(_) => cases += 1,
            Err(TestError::Fail(reason, case)) => {
                panic!("ORCH_FUZZ_SEED={seed}: {reason}\nminimal case: {case:?}")
            }
            Err(TestError::Abort(reason)) => panic!("ORCH_FUZZ_SEED={seed}: aborted: {reason}"),
        }
    }
    eprintln!(
        "{cases} mutated releases and values files of {} projects in {:.1?}: {} accepted, \
         the others refused with an error naming their file (ORCH_FUZZ_SEED={seed})",
        projects.len(),
        started.elapsed(),
        accepted.get(),
    );
}
