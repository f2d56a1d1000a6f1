//! What a run's diff comes to: counts per release and over the run, and the table of
//! changed releases that `--summary` and the markdown comment show.

use std::fmt;

use super::ReleaseDiff;

/// How many of a release's objects are added, changed and removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObjectCounts {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
}

/// Counts over all releases, for the last line of the output and for CI.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffSummary {
    pub releases_changed: usize,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    /// Hooks that will run, over all releases.
    pub hooks: usize,
}

impl DiffSummary {
    pub fn of(diffs: &[ReleaseDiff]) -> DiffSummary {
        let mut summary = DiffSummary::default();
        for release in diffs {
            if release.has_changes() {
                summary.releases_changed += 1;
            }
            let counts = release.counts();
            summary.added += counts.added;
            summary.changed += counts.changed;
            summary.removed += counts.removed;
            summary.hooks += release.hooks.len();
        }
        summary
    }

    pub fn is_empty(&self) -> bool {
        self.releases_changed == 0
    }
}

/// `"s"` after a count other than one, for every "N thing(s)" orch prints.
pub(crate) fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// `3 releases changed: 2 objects added, 5 changed, 1 removed`, then `; 1 hook will run`
/// when any will, or `no changes`.
impl fmt::Display for DiffSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no changes");
        }
        write!(
            f,
            "{} release{} changed: {} object{} added, {} changed, {} removed",
            self.releases_changed,
            plural(self.releases_changed),
            self.added,
            plural(self.added),
            self.changed,
            self.removed,
        )?;
        match self.hooks {
            0 => Ok(()),
            1 => f.write_str("; 1 hook will run"),
            n => write!(f, "; {n} hooks will run"),
        }
    }
}

/// One row per release that changes: where it is, its counts, the hooks that will run.
/// Cells are plain text; each output escapes and lays them out its own way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryTable {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

impl SummaryTable {
    /// A cluster column only in a run across clusters, where names alone are ambiguous.
    pub fn of(diffs: &[ReleaseDiff]) -> SummaryTable {
        let changed: Vec<&ReleaseDiff> = diffs.iter().filter(|r| r.has_changes()).collect();
        let across_clusters = changed.iter().any(|r| r.id.cluster.is_some());
        let mut headers = vec!["Release"];
        if across_clusters {
            headers.push("Cluster");
        }
        headers.extend(["Namespace", "Added", "Changed", "Removed", "Hooks"]);
        let rows = changed
            .iter()
            .map(|release| {
                let counts = release.counts();
                let mut row = vec![release.id.name.clone()];
                if across_clusters {
                    row.push(release.id.cluster.clone().unwrap_or_default());
                }
                let hooks: Vec<String> = release
                    .hooks
                    .iter()
                    .map(|hook| format!("{} {} ({})", hook.kind, hook.name, hook.event))
                    .collect();
                row.extend([
                    release.id.namespace.clone(),
                    counts.added.to_string(),
                    counts.changed.to_string(),
                    counts.removed.to_string(),
                    hooks.join(", "),
                ]);
                row
            })
            .collect();
        SummaryTable { headers, rows }
    }
}
