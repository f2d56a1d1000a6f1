//! The diff as people read it: in a terminal, a code review, or a CI log.

use std::fmt::Write;

use super::{DiffSummary, ReleaseDiff};

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Per changed release a header, its hooks, then per changed object a `+`/`-`/`~` line
/// and its unified diff; unchanged releases and objects are left out. Ends with the
/// summary line. `color` adds ANSI colours (only for terminals: CI logs and review
/// comments would show the escape codes).
pub fn render_text(diffs: &[ReleaseDiff], color: bool) -> String {
    let paint = |style: &str, line: &str| {
        if color && !style.is_empty() {
            format!("{style}{line}{RESET}")
        } else {
            line.to_string()
        }
    };
    let mut out = String::new();
    for release in diffs.iter().filter(|release| release.has_changes()) {
        writeln!(out, "{}", paint(BOLD, &format!("release {}", release.id))).ok();
        for hook in &release.hooks {
            writeln!(out, "  {hook}").ok();
        }
        if release.suppressed {
            writeln!(out, "  (its diff is suppressed: suppressDiff)").ok();
        }
        for object in release.changed_objects() {
            let header = format!("{} {}", object.change.symbol(), object.id);
            writeln!(out, "{}", paint(BOLD, &header)).ok();
            for (index, line) in object.unified.lines().enumerate() {
                writeln!(out, "{}", paint(style(index, line), line)).ok();
            }
        }
        out.push('\n');
    }
    writeln!(out, "{}", DiffSummary::of(diffs)).ok();
    out
}

/// The colour of a unified-diff line. The first two lines are the `---`/`+++` headers;
/// after them every line starts with its marker, so a YAML line that itself starts with
/// `-` or `@@` cannot be mistaken for one.
fn style(index: usize, line: &str) -> &'static str {
    if index < 2 {
        return BOLD;
    }
    match line.as_bytes().first() {
        Some(b'@') => CYAN,
        Some(b'-') => RED,
        Some(b'+') => GREEN,
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{migration, release};
    use super::super::{Change, ObjectDiff, ObjectId};
    use super::*;

    fn object(name: &str, change: Change, unified: &str) -> ObjectDiff {
        ObjectDiff {
            id: ObjectId {
                api_version: "v1".to_string(),
                kind: "ConfigMap".to_string(),
                namespace: Some("staging".to_string()),
                name: name.to_string(),
            },
            change,
            unified: unified.to_string(),
        }
    }

    const UNIFIED: &str = "--- live\n+++ desired\n@@ -1 +1 @@\n-a: 1\n+a: 2\n";

    #[test]
    fn plain_text_has_headers_diffs_and_summary() {
        let diffs = [release(
            "staging/web",
            vec![
                object("settings", Change::Changed, UNIFIED),
                object("same", Change::Unchanged, ""),
            ],
        )];
        assert_eq!(
            render_text(&diffs, false),
            "release staging/web\n~ ConfigMap staging/settings\n--- live\n+++ desired\n\
             @@ -1 +1 @@\n-a: 1\n+a: 2\n\n\
             1 release changed: 0 objects added, 1 changed, 0 removed\n"
        );
    }

    #[test]
    fn colour_marks_hunks_removals_and_additions() {
        let diffs = [release(
            "staging/web",
            vec![object("settings", Change::Changed, UNIFIED)],
        )];
        let text = render_text(&diffs, true);
        assert!(text.contains(&format!("{BOLD}--- live{RESET}\n")), "{text}");
        assert!(text.contains(&format!("{CYAN}@@ -1 +1 @@{RESET}\n")));
        assert!(text.contains(&format!("{RED}-a: 1{RESET}\n")));
        assert!(text.contains(&format!("{GREEN}+a: 2{RESET}\n")));
        assert!(!render_text(&diffs, false).contains('\x1b'));
    }

    #[test]
    fn unchanged_releases_are_left_out() {
        let diffs = [release(
            "staging/quiet",
            vec![object("same", Change::Unchanged, "")],
        )];
        assert_eq!(render_text(&diffs, false), "no changes\n");
    }

    #[test]
    fn hooks_alone_make_a_release_show() {
        let mut quiet = release("staging/db", Vec::new());
        quiet.hooks = vec![migration()];
        assert_eq!(
            render_text(&[quiet], false),
            "release staging/db\n  will run: Job migrate (pre-upgrade, weight 0)\n\n\
             1 release changed: 0 objects added, 0 changed, 0 removed; 1 hook will run\n"
        );
    }
}
