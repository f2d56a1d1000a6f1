//! Every kind of bad input gives one clear error (with file:line where there is a file),
//! exits 1 and does not panic.

mod offline;

use std::path::Path;

use offline::orch;

const CHART: &[(&str, &str)] = &[
    (
        "charts/app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    ),
    ("charts/app/values.yaml", "name: x\n"),
    (
        "charts/app/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  name: {{ .Values.name | quote }}\n",
    ),
];

struct Case {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    /// Substrings of the error, in order of appearance.
    expect: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "malformed YAML",
        files: &[(
            "helmfile.yaml",
            "releases:\n  - name: a\n    chart: [./charts/app\n",
        )],
        args: &["list"],
        expect: &[
            "helmfile.yaml:4:1: did not find expected ',' or ']', while parsing a flow sequence at line 3 column 12",
        ],
    },
    Case {
        name: "unknown key",
        files: &[(
            "helmfile.yaml",
            "releases:\n  - name: a\n    chart: ./charts/app\n    namespce: x\n",
        )],
        args: &["list"],
        expect: &[
            "helmfile.yaml:4:5: releases[0]: unknown key `namespce` (did you mean `namespace`?)",
        ],
    },
    Case {
        name: "unknown top-level key",
        files: &[("helmfile.yaml", "relases: []\n")],
        args: &["list"],
        expect: &["helmfile.yaml:1:1: unknown key `relases` (did you mean `releases`?)"],
    },
    Case {
        name: "wrong type",
        files: &[(
            "helmfile.yaml",
            "releases:\n  - name: a\n    chart: ./charts/app\n    needs: b\n",
        )],
        args: &["list"],
        expect: &[
            "helmfile.yaml:4:",
            "releases[0].needs: invalid type: string \"b\", expected a sequence",
        ],
    },
    Case {
        name: "duplicate key",
        files: &[(
            "helmfile.yaml",
            "releases:\n  - name: a\n    chart: ./charts/app\n    name: b\n",
        )],
        args: &["list"],
        expect: &["helmfile.yaml:", "duplicate"],
    },
    Case {
        name: "missing values file",
        files: &[(
            "helmfile.yaml",
            "releases:\n  - name: a\n    chart: ./charts/app\n    values: [missing.yaml]\n",
        )],
        args: &["template"],
        expect: &["helmfile.yaml:2: values file missing.yaml does not exist"],
    },
    Case {
        name: "missing environment values file",
        files: &[(
            "helmfile.yaml",
            "environments:\n  dev:\n    values: [env/dev.yaml]\n",
        )],
        args: &["-e", "dev", "list"],
        expect: &["helmfile.yaml:1: values file env/dev.yaml does not exist"],
    },
    Case {
        name: "template error",
        files: &[(
            "releases.yaml.j2",
            "releases:\n  - name: a\n    chart: ./charts/app\n    namespace: {{ environment.values.ns }}\n",
        )],
        args: &["-f", "releases.yaml.j2", "list"],
        expect: &[
            "releases.yaml.j2:4: template error: undefined value",
            "namespace: {{ environment.values.ns }}",
        ],
    },
    Case {
        name: "template syntax error",
        files: &[(
            "releases.yaml.j2",
            "releases:\n{% for x in [1] %}\n  - name: a{{ x }\n",
        )],
        args: &["-f", "releases.yaml.j2", "list"],
        expect: &["releases.yaml.j2:3: template error: syntax error"],
    },
    Case {
        name: "values template error",
        files: &[
            (
                "helmfile.yaml",
                "releases:\n  - name: a\n    chart: ./charts/app\n    values: [v.yaml.j2]\n",
            ),
            (
                "v.yaml.j2",
                "name: {{ required(values.name, 'set name in the environment') }}\n",
            ),
        ],
        args: &["template"],
        expect: &["v.yaml.j2:1: template error", "set name in the environment"],
    },
    Case {
        name: "unknown environment",
        files: &[(
            "helmfile.yaml",
            "environments:\n  staging: {}\n  prod: {}\nreleases: []\n",
        )],
        args: &["-e", "stagin", "list"],
        expect: &["unknown environment `stagin`; defined: prod, staging"],
    },
    Case {
        name: "unknown need",
        files: &[(
            "helmfile.yaml",
            "releases:\n  - name: db\n    chart: ./charts/app\n  - name: app\n    chart: ./charts/app\n    needs: [dbb]\n",
        )],
        args: &["list"],
        expect: &[
            "helmfile.yaml:4: release default/app needs `dbb`, which is not a release (did you mean `default/db`?)",
        ],
    },
    Case {
        name: "cycle",
        files: &[(
            "helmfile.yaml",
            "releases:\n  - {name: a, chart: ./charts/app, needs: [b]}\n  - {name: b, chart: ./charts/app, needs: [a]}\n",
        )],
        args: &["graph"],
        expect: &["releases need each other in a cycle: default/a -> default/b -> default/a"],
    },
    Case {
        name: "duplicate release",
        files: &[(
            "helmfile.yaml",
            "releases:\n  - {name: a, chart: ./charts/app}\n  - {name: a, chart: ./charts/app}\n",
        )],
        args: &["list"],
        expect: &["helmfile.yaml:3: release default/a is defined twice (first at helmfile.yaml:2)"],
    },
    Case {
        name: "bad selector",
        files: &[("helmfile.yaml", "releases: []\n")],
        args: &["-l", "tier", "list"],
        expect: &["malformed selector `tier`: `tier` is not key=value or key!=value"],
    },
    Case {
        name: "no matching release",
        files: &[(
            "helmfile.yaml",
            "releases:\n  - {name: a, chart: ./charts/app}\n",
        )],
        args: &["-l", "name=b", "template"],
        expect: &["no release matches -l name=b"],
    },
    Case {
        name: "bad --set",
        files: &[("helmfile.yaml", "releases: []\n")],
        args: &["--set", "a..b=1", "list"],
        expect: &["--set a..b=1: empty key in path `a..b`"],
    },
    Case {
        name: "missing helm",
        files: &[(
            "helmfile.yaml",
            "releases:\n  - {name: a, chart: ./charts/app}\n",
        )],
        args: &["--helm-binary", "/nonexistent/helm", "template"],
        expect: &[
            "helmfile.yaml:2: release default/a: cannot run helm (/nonexistent/helm:",
            "--helm-binary",
        ],
    },
    Case {
        name: "missing chart directory",
        files: &[(
            "helmfile.yaml",
            "releases:\n  - {name: a, chart: ./charts/nope}\n",
        )],
        args: &["template"],
        expect: &["helmfile.yaml:2: release default/a: chart directory charts/nope does not exist"],
    },
    Case {
        name: "chart render error",
        files: &[
            (
                "helmfile.yaml",
                "releases:\n  - {name: a, chart: ./charts/bad}\n",
            ),
            (
                "charts/bad/Chart.yaml",
                "apiVersion: v2\nname: bad\nversion: 0.1.0\n",
            ),
            (
                "charts/bad/templates/x.yaml",
                "kind: {{ .Values.nope.deeper }}\n",
            ),
        ],
        args: &["template"],
        expect: &[
            "release default/a:",
            "nil pointer evaluating interface {}.deeper",
        ],
    },
    Case {
        name: "invalid release name",
        files: &[(
            "helmfile.yaml",
            "releases:\n  - {name: My_App, chart: ./charts/app}\n",
        )],
        args: &["list"],
        expect: &["helmfile.yaml:2: release name `My_App` must be lowercase letters"],
    },
    Case {
        name: "condition on a missing value",
        files: &[(
            "helmfile.yaml",
            "releases:\n  - {name: a, chart: ./charts/app, condition: db.enabled}\n",
        )],
        args: &["list"],
        expect: &[
            "helmfile.yaml:2: condition `db.enabled`: the values of environment `default` have no such key",
        ],
    },
    Case {
        name: "values entry of the wrong type",
        files: &[(
            "helmfile.yaml",
            "releases:\n  - {name: a, chart: ./charts/app, values: [3]}\n",
        )],
        args: &["list"],
        expect: &[
            "helmfile.yaml:2:",
            "a values entry is a file path or a map of values, not a number",
        ],
    },
    Case {
        name: "no releases file",
        files: &[],
        args: &["list"],
        expect: &["no releases file:", "pass -f PATH"],
    },
    Case {
        name: "missing -f file",
        files: &[],
        args: &["-f", "nope.yaml", "list"],
        expect: &["nope.yaml: No such file or directory"],
    },
];

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

#[test]
fn each_bad_input_gives_one_clear_error() {
    let mut failures = Vec::new();
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), CHART);
        write(dir.path(), case.files);
        let (code, _, stderr) = orch(dir.path(), case.args);
        let mut rest = stderr.as_str();
        let in_order = case.expect.iter().all(|part| match rest.find(part) {
            Some(i) => {
                rest = &rest[i + part.len()..];
                true
            }
            None => false,
        });
        let one_error = stderr.lines().filter(|l| l.starts_with("error: ")).count() == 1
            && stderr.starts_with("error: ");
        if code != 1 || !in_order || !one_error {
            failures.push(format!("{}: exit {code}, stderr:\n{stderr}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn missing_file_handler_warn_skips_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), CHART);
    write(
        dir.path(),
        &[(
            "helmfile.yaml",
            "missingFileHandler: Warn\nreleases:\n  - name: a\n    chart: ./charts/app\n    values: [missing.yaml]\n",
        )],
    );
    let (code, stdout, stderr) = orch(dir.path(), &["template"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("skipping missing values file missing.yaml"),
        "{stderr}"
    );
    assert!(stdout.contains("kind: ConfigMap"));
}
