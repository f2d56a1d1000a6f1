//! The diff stage: rendered objects against live ones, normalized, with Secret values masked.
//!
//! Pure: objects come in as JSON values (the desired side after a server-side dry-run
//! apply, the live side as read), data and text come out. Fetching both is `cluster`'s job.

mod json;
mod markdown;
mod normalize;
mod secrets;
mod summary;
mod text;

use std::fmt;

use similar::TextDiff;

pub use json::{render_json, render_json_summary};
pub use markdown::{MIN_COMMENT_CHARS, render_markdown, render_markdown_summary};
pub use normalize::normalize;
pub use secrets::{HIDDEN, HIDDEN_NEW, HIDDEN_OLD, is_secret, mask_secrets};
pub(crate) use summary::plural;
pub use summary::{DiffSummary, ObjectCounts, SummaryTable};
pub use text::render_text;

use serde_json::Value;

use crate::config::ReleaseId;

/// Which object a diff is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId {
    pub api_version: String,
    pub kind: String,
    /// `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{} {namespace}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Removed,
    Changed,
    Unchanged,
}

impl Change {
    /// The mark before the object in text output, as in a plan: `+`, `-`, `~`.
    pub fn symbol(self) -> char {
        match self {
            Change::Added => '+',
            Change::Removed => '-',
            Change::Changed => '~',
            Change::Unchanged => ' ',
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
            Change::Unchanged => "unchanged",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectDiff {
    pub id: ObjectId,
    pub change: Change,
    /// Unified diff of the normalized, masked YAML (`--- live` / `+++ desired`, with
    /// `/dev/null` for a missing side); empty when unchanged.
    pub unified: String,
}

impl ObjectDiff {
    /// Drops the diff's lines (after the `---`/`+++` headers) whose text any pattern
    /// matches; an object no changed line is left of is unchanged.
    fn leave_out_lines(&mut self, patterns: &[regex::Regex]) {
        if self.change == Change::Unchanged {
            return;
        }
        let mut kept = String::new();
        let mut changes = 0;
        for (index, line) in self.unified.lines().enumerate() {
            let is_change = index >= 2 && (line.starts_with('+') || line.starts_with('-'));
            if index >= 2
                && patterns
                    .iter()
                    .any(|p| p.is_match(&line[1.min(line.len())..]))
            {
                continue;
            }
            changes += usize::from(is_change);
            kept.push_str(line);
            kept.push('\n');
        }
        if changes == 0 {
            self.change = Change::Unchanged;
            kept.clear();
        }
        self.unified = kept;
    }
}

/// Compares one object: `live` is what the cluster has (`None`: it would be created),
/// `desired` what the release renders (`None`: it would be removed). `context` is the
/// number of unchanged lines shown around each change.
pub fn diff_object(
    id: ObjectId,
    live: Option<&Value>,
    desired: Option<&Value>,
    context: usize,
) -> ObjectDiff {
    let live = live.map(normalize);
    let desired = desired.map(normalize);
    // Masked after normalizing, so the placeholders compare only what is reviewed.
    let (live, desired) = mask_secrets(live.as_ref(), desired.as_ref());
    let old = live.as_ref().map(normalize::to_yaml);
    let new = desired.as_ref().map(normalize::to_yaml);
    let change = match (&old, &new) {
        (None, Some(_)) => Change::Added,
        (Some(_), None) => Change::Removed,
        (Some(old), Some(new)) if old != new => Change::Changed,
        _ => Change::Unchanged,
    };
    let unified = if change == Change::Unchanged {
        String::new()
    } else {
        let (old_header, new_header) = match change {
            Change::Added => ("/dev/null", "desired"),
            Change::Removed => ("live", "/dev/null"),
            _ => ("live", "desired"),
        };
        let (old, new) = (old.unwrap_or_default(), new.unwrap_or_default());
        TextDiff::from_lines(&old, &new)
            .unified_diff()
            .context_radius(context)
            .header(old_header, new_header)
            .to_string()
    };
    ObjectDiff {
        id,
        change,
        unified,
    }
}

/// Everything `orch diff` found for one release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseDiff {
    /// Which release; its cluster is set in a run across clusters.
    pub id: ReleaseId,
    /// In the order they are shown; unchanged ones are kept so callers can count them.
    pub objects: Vec<ObjectDiff>,
    /// Hooks that will run. The caller lists them only when they will run, so they count
    /// as a change: running a migration is something a reviewer must see even if no
    /// object changes.
    pub hooks: Vec<HookToRun>,
    /// The objects' diffs are left out (helmfile's `suppressDiff`): which objects change
    /// is still shown.
    pub suppressed: bool,
}

/// A Helm hook a sync of the release would run. Kept as data, not as the sentence text
/// output shows, so each output can say it in its own space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookToRun {
    pub kind: String,
    pub name: String,
    /// The Helm event it runs at, as in `helm.sh/hook`: `pre-upgrade`.
    pub event: &'static str,
    pub weight: i64,
}

/// `will run: Job migrate (pre-upgrade, weight 0)`.
impl fmt::Display for HookToRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "will run: {} {} ({}, weight {})",
            self.kind, self.name, self.event, self.weight
        )
    }
}

impl ReleaseDiff {
    /// The release's review as its file asks: lines any of `patterns` matches left out of
    /// every object's diff (an object with no changed line left is unchanged, as with
    /// helm-diff's --suppress-output-line-regex); with `suppress_diff`, no diff text at
    /// all.
    pub fn reviewed(mut self, patterns: &[regex::Regex], suppress_diff: bool) -> Self {
        if !patterns.is_empty() {
            for object in &mut self.objects {
                object.leave_out_lines(patterns);
            }
        }
        if suppress_diff {
            for object in &mut self.objects {
                object.unified.clear();
            }
            self.suppressed = true;
        }
        self
    }

    pub fn has_changes(&self) -> bool {
        !self.hooks.is_empty() || self.changed_objects().next().is_some()
    }

    pub fn counts(&self) -> ObjectCounts {
        let mut counts = ObjectCounts::default();
        for object in &self.objects {
            match object.change {
                Change::Added => counts.added += 1,
                Change::Changed => counts.changed += 1,
                Change::Removed => counts.removed += 1,
                Change::Unchanged => {}
            }
        }
        counts
    }

    /// The objects worth showing: all but the unchanged ones.
    pub fn changed_objects(&self) -> impl Iterator<Item = &ObjectDiff> {
        self.objects
            .iter()
            .filter(|object| object.change != Change::Unchanged)
    }
}

#[cfg(test)]
mod tests;
