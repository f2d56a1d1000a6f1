//! The diff as a pull-request comment: the totals, a table of the releases that change,
//! then each release's diff folded in `<details>`, all within the host's comment limit.
//!
//! The limit counts characters (GitHub's is 65,536). The heading and table come first
//! and whole; diffs follow in order while they fit, the first that does not is cut at a
//! line, and releases left without room are named, so a reviewer always knows what is
//! missing and that `orch diff` shows it.

use super::summary::plural;
use super::{DiffSummary, ReleaseDiff, SummaryTable};

/// The smallest limit the comment is laid out for: the heading, the table's head and a
/// note on what was left out always fit in it.
pub const MIN_COMMENT_CHARS: usize = 1000;

/// The whole comment, at most `max_chars` characters (at least [`MIN_COMMENT_CHARS`]).
/// Without changes, one line saying so.
pub fn render_markdown(diffs: &[ReleaseDiff], max_chars: usize) -> String {
    let folds: Vec<Fold> = diffs
        .iter()
        .filter(|release| release.changed_objects().next().is_some())
        .map(Fold::of)
        .collect();
    let mut comment = Comment::new(max_chars);
    if comment.summary(diffs, &folds) {
        comment.diffs(&folds);
    }
    comment.text
}

/// The heading and the table only, at most `max_chars` characters.
pub fn render_markdown_summary(diffs: &[ReleaseDiff], max_chars: usize) -> String {
    let mut comment = Comment::new(max_chars);
    comment.summary(diffs, &[]);
    comment.text
}

/// The comment as it grows, and how much of the limit it has used.
struct Comment {
    text: String,
    chars: usize,
    max_chars: usize,
}

impl Comment {
    fn new(max_chars: usize) -> Comment {
        Comment {
            text: String::new(),
            chars: 0,
            max_chars,
        }
    }

    fn push(&mut self, part: &str) {
        self.chars += chars(part);
        self.text.push_str(part);
    }

    fn room(&self) -> usize {
        self.max_chars.saturating_sub(self.chars)
    }

    /// The heading and the table. The table is whole when it leaves room to name the
    /// `folds` that may follow; else its last rows give way to a note, no diff follows,
    /// and this returns `false`.
    fn summary(&mut self, diffs: &[ReleaseDiff], folds: &[Fold]) -> bool {
        let summary = DiffSummary::of(diffs);
        self.push(&format!("### orch diff — {summary}\n"));
        if summary.is_empty() {
            return true;
        }
        let table = SummaryTable::of(diffs);
        let rows: Vec<String> = table.rows.iter().map(|row| table_row(row)).collect();
        let separator = vec!["---"; table.headers.len()];
        self.push(&format!(
            "\n{}{}",
            table_row(&table.headers),
            table_row(&separator)
        ));
        let whole: usize = rows.iter().map(|row| chars(row)).sum();
        if whole + self.left_out_reserve(folds) <= self.room() {
            rows.iter().for_each(|row| self.push(row));
            return true;
        }
        let with_diffs = !folds.is_empty();
        let mut shown = 0;
        while shown < rows.len() {
            let note = self.rows_left_out(rows.len() - shown - 1, with_diffs);
            if chars(&rows[shown]) + chars(&note) > self.room() {
                break;
            }
            self.push(&rows[shown]);
            shown += 1;
        }
        let note = self.rows_left_out(rows.len() - shown, with_diffs);
        self.push(&note);
        false
    }

    /// Each fold whole while it fits with room to name the rest; the first that does not
    /// is cut, and the folds after it (or it too, if not one line fits) are named.
    fn diffs(&mut self, folds: &[Fold]) {
        for (index, fold) in folds.iter().enumerate() {
            let rest = &folds[index + 1..];
            let reserve = self.left_out_reserve(rest);
            let whole = fold.render(&fold.lines, 0, self.max_chars);
            if chars(&whole) + reserve <= self.room() {
                self.push(&whole);
                continue;
            }
            let room = self.room().saturating_sub(reserve);
            let left_out = match fold.cut(room, self.max_chars) {
                Some(cut) => {
                    self.push(&cut);
                    rest
                }
                None => &folds[index..],
            };
            if !left_out.is_empty() {
                let note = self.folds_left_out(left_out);
                self.push(&note);
            }
            return;
        }
    }

    /// The note after a table cut short by `more` rows, and before no diffs.
    fn rows_left_out(&self, more: usize, with_diffs: bool) -> String {
        let what = match (more, with_diffs) {
            (0, _) => "The diffs are".to_string(),
            (n, true) => format!("{n} more release{} and the diffs are", plural(n)),
            (1, false) => "1 more release is".to_string(),
            (n, false) => format!("{n} more releases are"),
        };
        format!(
            "\n_{what} left out to stay within {} characters. Run `orch diff` to see them._\n",
            self.max_chars
        )
    }

    /// The room to keep for naming `folds` if they get none: the note naming them all,
    /// unless that would take more than a quarter of the limit from the diffs; never less
    /// than the note that only counts them, so [`Comment::folds_left_out`] always fits.
    fn left_out_reserve(&self, folds: &[Fold]) -> usize {
        if folds.is_empty() {
            return 0;
        }
        let names = fold_names(folds);
        let all_named = chars(&self.names_left_out(&names, 0));
        let counted = chars(&self.names_left_out(&[], names.len()));
        all_named.min(counted.max(self.max_chars / 4))
    }

    /// The note naming the releases whose diffs got no room: as many names as fit, then
    /// `and N more`.
    fn folds_left_out(&self, folds: &[Fold]) -> String {
        let names = fold_names(folds);
        // Each name adds more characters than the shrinking count takes away, so the
        // notes that fit are those naming the first few.
        let counts: Vec<usize> = (0..=names.len()).collect();
        let fitting = counts.partition_point(|&named| {
            let note = self.names_left_out(&names[..named], names.len() - named);
            chars(&note) <= self.room()
        });
        let named = fitting.saturating_sub(1);
        self.names_left_out(&names[..named], names.len() - named)
    }

    fn names_left_out(&self, named: &[String], unnamed: usize) -> String {
        let mut names = named.join(", ");
        match (named.is_empty(), unnamed) {
            (_, 0) => {}
            (true, n) => names = format!("{n} release{}", plural(n)),
            (false, n) => names.push_str(&format!(" and {n} more")),
        }
        format!(
            "\n_Left out to stay within {} characters: the diffs of {names}. \
             Run `orch diff` to see them._\n",
            self.max_chars
        )
    }
}

/// One release's diff as a `<details>` block: each changed object's `+`/`-`/`~` line and
/// unified diff, as `orch diff` prints them, in a fence no line of theirs can close.
struct Fold<'a> {
    release: &'a ReleaseDiff,
    lines: Vec<String>,
    fence: String,
}

impl<'a> Fold<'a> {
    fn of(release: &'a ReleaseDiff) -> Fold<'a> {
        let mut lines = Vec::new();
        for object in release.changed_objects() {
            lines.push(format!("{} {}", object.change.symbol(), object.id));
            lines.extend(object.unified.lines().map(str::to_string));
        }
        // A context line is ` ` then the YAML, and a fence may be indented by up to three
        // spaces: a value with ``` in it would close a fence of three.
        let longest_run = lines.iter().map(|line| longest_backtick_run(line)).max();
        let fence = "`".repeat(longest_run.unwrap_or(0).max(2) + 1);
        Fold {
            release,
            lines,
            fence,
        }
    }

    /// The block with `lines` of the diff, saying that `left_out` more are not shown.
    fn render(&self, lines: &[String], left_out: usize, max_chars: usize) -> String {
        let counts = self.release.counts();
        let counts: Vec<String> = [
            (counts.added, "added"),
            (counts.changed, "changed"),
            (counts.removed, "removed"),
        ]
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{count} {what}"))
        .collect();
        let mut out = format!(
            "\n<details><summary><code>{}</code>: {}{}</summary>\n\n",
            escape_html(&self.release.id.to_string()),
            counts.join(", "),
            if left_out > 0 { " (cut short)" } else { "" },
        );
        if self.release.suppressed {
            out.push_str("Its diff is suppressed (`suppressDiff`); these objects change:\n\n");
        }
        let fence = &self.fence;
        out.push_str(&format!("{fence}diff\n"));
        for line in lines {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&format!("{fence}\n"));
        if left_out > 0 {
            out.push_str(&format!(
                "\n_{left_out} more line{} of this diff left out to stay within {max_chars} \
                 characters. Run `orch diff` to see them all._\n\n",
                plural(left_out)
            ));
        }
        out.push_str("</details>\n");
        out
    }

    /// The block with as many of its first lines as fit in `room`, at least one.
    fn cut(&self, room: usize, max_chars: usize) -> Option<String> {
        let mut upto = Vec::with_capacity(self.lines.len());
        let mut total = 0;
        for line in &self.lines {
            upto.push(total);
            total += chars(line) + 1;
        }
        (1..self.lines.len()).rev().find_map(|kept| {
            let left_out = self.lines.len() - kept;
            let frame = chars(&self.render(&[], left_out, max_chars));
            (frame + upto[kept] <= room)
                .then(|| self.render(&self.lines[..kept], left_out, max_chars))
        })
    }
}

fn fold_names(folds: &[Fold]) -> Vec<String> {
    folds
        .iter()
        .map(|fold| escape_inline(&fold.release.id.to_string()))
        .collect()
}

fn table_row<S: AsRef<str>>(cells: &[S]) -> String {
    let cells: Vec<String> = cells
        .iter()
        .map(|cell| escape_inline(cell.as_ref()))
        .collect();
    format!("| {} |\n", cells.join(" | "))
}

/// Text that markdown shows as written, in a paragraph or a table cell (`|` would end
/// the cell).
fn escape_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text for inside an HTML tag, where markdown is not read.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn longest_backtick_run(line: &str) -> usize {
    line.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests;
