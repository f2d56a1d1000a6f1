//! The comment a reviewer reads, and that it stays within the limit without breaking
//! its markdown.

use serde_json::{Value, json};

use super::super::tests::{
    NEW_PASSWORD, OLD_PASSWORD, TOKEN, assert_hides, base64, id, live_config_map, migration,
    release, secret,
};
use super::super::{ReleaseDiff, diff_object};
use super::*;

fn config_map(name: &str, data: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "staging"},
        "data": data,
    })
}

/// Two releases that change and one that does not: `web` with an object of each kind of
/// change, a Secret and a hook, `worker` with suppressDiff.
fn review() -> Vec<ReleaseDiff> {
    let mut live_settings = live_config_map("slow");
    live_settings["data"]["replicas"] = json!("2");
    let mut desired_settings = config_map(
        "settings",
        json!({"mode": "fast", "port": "80", "region": "eu"}),
    );
    desired_settings["data"]["replicas"] = json!("2");
    let live_secret = secret(json!({"password": base64(OLD_PASSWORD), "token": base64(TOKEN)}));
    let desired_secret = secret(json!({"password": base64(NEW_PASSWORD), "token": base64(TOKEN)}));
    let mut web = release(
        "staging/web",
        vec![
            diff_object(
                id("ConfigMap", "settings"),
                Some(&live_settings),
                Some(&desired_settings),
                3,
            ),
            diff_object(
                id("ConfigMap", "feature-flags"),
                None,
                Some(&config_map("feature-flags", json!({"beta": "on"}))),
                3,
            ),
            diff_object(
                id("ConfigMap", "legacy"),
                Some(&config_map("legacy", json!({"old": "yes"}))),
                None,
                3,
            ),
            diff_object(
                id("Secret", "db"),
                Some(&live_secret),
                Some(&desired_secret),
                3,
            ),
        ],
    );
    web.hooks = vec![migration()];
    let worker = release(
        "staging/worker",
        vec![diff_object(
            id("ConfigMap", "worker-settings"),
            Some(&config_map("worker-settings", json!({"threads": "4"}))),
            Some(&config_map("worker-settings", json!({"threads": "8"}))),
            3,
        )],
    )
    .reviewed(&[], true);
    let same = config_map("same", json!({"a": "b"}));
    let quiet = release(
        "staging/quiet",
        vec![diff_object(
            id("ConfigMap", "same"),
            Some(&same),
            Some(&same),
            3,
        )],
    );
    vec![web, worker, quiet]
}

const SNAPSHOT: &str = include_str!("../testdata/review.md");

#[test]
fn the_comment_is_a_table_then_each_release_folded() {
    let comment = render_markdown(&review(), 65000);
    assert_eq!(comment, SNAPSHOT, "the comment:\n{comment}");
    assert_hides(&comment, &[OLD_PASSWORD, NEW_PASSWORD, TOKEN]);
}

#[test]
fn the_summary_is_the_comment_up_to_the_first_diff() {
    let summary = render_markdown_summary(&review(), 65000);
    let (head, _) = SNAPSHOT.split_once("\n<details>").expect("a diff");
    assert_eq!(summary, head);
}

#[test]
fn no_changes_is_one_line() {
    let quiet = &review()[2..];
    assert_eq!(
        render_markdown(quiet, 65000),
        "### orch diff — no changes\n"
    );
    assert_eq!(
        render_markdown_summary(quiet, 65000),
        "### orch diff — no changes\n"
    );
}

#[test]
fn table_cells_are_escaped_and_a_run_across_clusters_names_clusters() {
    let mut diffs = review();
    diffs[0].id.cluster = Some("east|prod_1".to_string());
    diffs[0].id.name = "web|api".to_string();
    let table = render_markdown_summary(&diffs, 65000);
    assert!(
        table.contains("\n| Release | Cluster | Namespace | Added | Changed | Removed | Hooks |\n"),
        "{table}"
    );
    assert!(
        table.contains(
            "\n| web\\|api | east\\|prod\\_1 | staging | 1 | 2 | 1 | Job migrate (pre-upgrade) |\n"
        ),
        "{table}"
    );
    assert!(
        table.contains("\n| worker |  | staging | 0 | 1 | 0 |  |\n"),
        "{table}"
    );
}

/// `count` releases `staging/r0`... each changing one ConfigMap of `lines` data keys.
fn long_review(count: usize, lines: usize) -> Vec<ReleaseDiff> {
    (0..count)
        .map(|r| {
            let data: serde_json::Map<String, Value> = (0..lines)
                .map(|l| {
                    (
                        format!("key-{l:04}"),
                        json!(format!("value {l} of release {r}")),
                    )
                })
                .collect();
            let name = format!("settings-{r}");
            let desired = config_map(&name, Value::Object(data));
            release(
                &format!("staging/r{r}"),
                vec![diff_object(id("ConfigMap", &name), None, Some(&desired), 3)],
            )
        })
        .collect()
}

/// Every line of the diffs that a fence in `comment` holds, after checking that each
/// `<details>` and fence is closed, in order.
fn fenced_lines(comment: &str) -> Vec<&str> {
    let mut fenced = Vec::new();
    let mut in_details = false;
    let mut fence: Option<&str> = None;
    for line in comment.lines() {
        match fence {
            Some(open) if line == open => fence = None,
            Some(_) => fenced.push(line),
            None if line.starts_with("<details>") => {
                assert!(!in_details, "nested <details>:\n{comment}");
                in_details = true;
            }
            None if line == "</details>" => {
                assert!(in_details, "</details> without <details>:\n{comment}");
                in_details = false;
            }
            None if line.starts_with("```") => {
                assert!(in_details, "a fence outside <details>:\n{comment}");
                let open = line.strip_suffix("diff").expect("a diff fence");
                fence = Some(open);
            }
            None => {}
        }
    }
    assert!(fence.is_none() && !in_details, "left open:\n{comment}");
    fenced
}

#[test]
fn a_long_review_is_cut_to_the_limit_at_a_line_and_says_what_is_missing() {
    let diffs = long_review(6, 400);
    let whole: Vec<String> = diffs
        .iter()
        .flat_map(|release| Fold::of(release).lines)
        .collect();
    let full = render_markdown(&diffs, usize::MAX);
    for max_chars in [MIN_COMMENT_CHARS, 1500, 4000, 9000, 20000, 65000] {
        let comment = render_markdown(&diffs, max_chars);
        assert!(
            comment.chars().count() <= max_chars,
            "{} > {max_chars}",
            comment.chars().count()
        );
        let (head, _) = full.split_once("\n<details>").expect("diffs");
        assert!(
            comment.starts_with(head),
            "the table is not whole:\n{comment}"
        );
        for line in fenced_lines(&comment) {
            assert!(whole.iter().any(|l| l == line), "cut line {line:?}");
        }
        let cut_note = format!("more lines of this diff left out to stay within {max_chars}");
        let left_out_note = format!("_Left out to stay within {max_chars} characters: the diffs");
        assert!(
            comment.contains(&cut_note) || comment.contains(&left_out_note),
            "no note on what is missing:\n{comment}"
        );
        // Each release is shown, or named in the closing note, or counted in it.
        let folded = comment.matches("<details>").count();
        let note = comment.lines().find(|l| l.starts_with("_Left out to stay"));
        let left_out = note.map_or(0, |note| {
            let named = (0..6)
                .filter(|r| note.contains(&format!("staging/r{r}")))
                .count();
            // `and N more`, or only `N releases`.
            let counted = note
                .rsplit_once(" and ")
                .or_else(|| note.rsplit_once(" the diffs of "))
                .and_then(|(_, more)| more.split(' ').next()?.parse::<usize>().ok());
            named + counted.unwrap_or(0)
        });
        assert_eq!(folded + left_out, 6, "{comment}");
    }
    assert_eq!(render_markdown(&diffs, full.chars().count()), full);
}

#[test]
fn releases_without_room_are_counted_when_their_names_do_not_fit() {
    let diffs = long_review(400, 1);
    let comment = render_markdown(&diffs, 20000);
    assert!(comment.chars().count() <= 20000);
    fenced_lines(&comment);
    let table_rows = comment.lines().filter(|l| l.starts_with("| r")).count();
    assert_eq!(table_rows, 400, "{comment}");
    assert!(
        comment.contains("more. Run `orch diff` to see them._\n"),
        "{comment}"
    );
}

#[test]
fn a_table_past_the_limit_gives_way_to_a_note() {
    let diffs = long_review(200, 1);
    for (summary, what) in [
        (
            render_markdown(&diffs, MIN_COMMENT_CHARS),
            "releases and the diffs are",
        ),
        (
            render_markdown_summary(&diffs, MIN_COMMENT_CHARS),
            "releases are",
        ),
    ] {
        assert!(summary.chars().count() <= MIN_COMMENT_CHARS, "{summary}");
        assert!(!summary.contains("<details>"));
        let shown = summary.lines().filter(|l| l.starts_with("| r")).count();
        assert!(shown > 0, "{summary}");
        let note = format!(
            "\n_{} more {what} left out to stay within 1000 characters. \
             Run `orch diff` to see them._\n",
            200 - shown
        );
        assert!(summary.ends_with(&note), "{summary}");
    }
}

#[test]
fn backticks_in_a_value_cannot_close_the_fence() {
    let live = config_map("docs", json!({"readme": "intro\n```\nrm -rf /\n```\nend"}));
    let desired = config_map(
        "docs",
        json!({"readme": "intro\n```\nrm -rf /tmp\n```\nend"}),
    );
    let diffs = [release(
        "staging/docs",
        vec![diff_object(
            id("ConfigMap", "docs"),
            Some(&live),
            Some(&desired),
            3,
        )],
    )];
    let comment = render_markdown(&diffs, 65000);
    assert!(comment.contains("\n````diff\n"), "{comment}");
    let fenced = fenced_lines(&comment);
    assert!(fenced.contains(&"     ```"), "{comment}");
    assert!(fenced.contains(&"+    rm -rf /tmp"), "{comment}");
    assert!(comment.ends_with("\n````\n</details>\n"), "{comment}");
}
