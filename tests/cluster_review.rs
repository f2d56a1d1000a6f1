//! `orch diff` as a pull request shows it: the markdown comment, its summary, and the
//! exit code CI acts on, against the test control plane.

mod support;

use support::{Project, TestNamespace, engine_releases as releases};

const OLD_PASSWORD: &str = "old-pw-4c1d7e";
const NEW_PASSWORD: &str = "new-pw-8b2f90";

/// `web` runs a migration and has a Secret; `db` asks for its diff to be suppressed.
fn fixture(namespace: &str, changed: bool) -> String {
    let (greeting, password, extra) = match changed {
        false => ("hello", OLD_PASSWORD, false),
        true => ("hola", NEW_PASSWORD, true),
    };
    releases(
        namespace,
        &[
            (
                "web",
                &format!(
                    "values:\n  - config: {{greeting: {greeting}}}\n    \
                     secret: {{password: {password}}}\n    extra: {extra}\n    \
                     migration: {{enabled: true}}"
                ),
            ),
            (
                "db",
                &format!("suppressDiff: true\nvalues:\n  - extra: {}", !extra),
            ),
        ],
    )
}

/// The comment for `fixture(_, true)` against `fixture(_, false)` synced, with the test's
/// namespace written `NAMESPACE`.
const COMMENT: &str = include_str!("fixtures/review/comment.md");

#[tokio::test]
async fn a_pull_request_comment_shows_the_change_and_never_a_secret() {
    let ns = TestNamespace::new("review").await;
    let project = Project::new(&fixture(ns.name(), false));
    project.orch(&["sync"]).expect(0);
    project.write("helmfile.yaml", &fixture(ns.name(), true));

    let markdown = project
        .orch(&["diff", "-o", "markdown", "--detailed-exitcode"])
        .expect(2);
    let comment = markdown.stdout.replace(ns.name(), "NAMESPACE");
    assert_eq!(comment, COMMENT, "the comment:\n{comment}");

    let summary = project
        .orch(&["diff", "-o", "markdown", "--summary", "--detailed-exitcode"])
        .expect(2);
    let (head, _) = COMMENT.split_once("\n<details>").expect("a diff");
    assert_eq!(summary.stdout.replace(ns.name(), "NAMESPACE"), head);

    let text = project
        .orch(&["diff", "--summary", "--detailed-exitcode"])
        .expect(2);
    // Cells, as the columns' width follows the namespace's random name.
    let cells: Vec<String> = text
        .stdout
        .replace(ns.name(), "NAMESPACE")
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        cells,
        [
            "RELEASE NAMESPACE ADDED CHANGED REMOVED HOOKS",
            "web NAMESPACE 1 3 0 Job web-migrate (pre-upgrade)",
            "db NAMESPACE 0 1 1",
            "",
            "2 releases changed: 1 object added, 4 changed, 1 removed; 1 hook will run",
        ]
    );

    let json = project
        .orch(&["diff", "-o", "json", "--summary", "--detailed-exitcode"])
        .expect(2);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(json["summary"]["hooks"], 1);
    let web = &json["releases"][0];
    assert_eq!(
        (
            &web["name"],
            &web["namespace"],
            &web["added"],
            &web["changed"]
        ),
        (&"web".into(), &ns.name().into(), &1.into(), &3.into())
    );
    assert!(web["objects"][0].get("diff").is_none(), "{web}");

    use base64::Engine;
    let encoded = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for run in [&markdown, &summary, &text] {
        for secret in [OLD_PASSWORD, NEW_PASSWORD] {
            for shown in [secret.to_string(), encoded(secret)] {
                assert!(!run.all_output().contains(&shown), "{shown} printed");
            }
        }
    }

    project.orch(&["sync"]).expect(0);
    let quiet = project
        .orch(&["diff", "-o", "markdown", "--detailed-exitcode"])
        .expect(0);
    assert_eq!(quiet.stdout, "### orch diff — no changes\n");
}
