//! `orch diff --summary` in a terminal: the releases that change as a table, then the
//! totals, as the full diff ends.

use crate::diff::{DiffSummary, ReleaseDiff, SummaryTable};

pub fn text(diffs: &[ReleaseDiff]) -> String {
    let summary = DiffSummary::of(diffs);
    if summary.is_empty() {
        return format!("{summary}\n");
    }
    let table = SummaryTable::of(diffs);
    let headers: Vec<String> = table.headers.iter().map(|h| h.to_uppercase()).collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    format!("{}\n{summary}\n", super::table(&headers, &table.rows))
}
