//! The diff as data for CI tooling: what `render_text` shows, with ids split into fields.

use serde_json::{Value, json};

use super::{DiffSummary, ObjectDiff, ReleaseDiff};

/// `{"releases": [...], "summary": {...}}`. Like the text, it lists only releases with
/// changes and only changed objects, so tools and people see the same set. Each release
/// carries its counts, so a tool can build a summary table without counting objects.
pub fn render_json(diffs: &[ReleaseDiff]) -> Value {
    document(diffs, true)
}

/// [`render_json`] without the objects' `diff`: which objects change, not how.
pub fn render_json_summary(diffs: &[ReleaseDiff]) -> Value {
    document(diffs, false)
}

fn document(diffs: &[ReleaseDiff], with_diff_text: bool) -> Value {
    let releases: Vec<Value> = diffs
        .iter()
        .filter(|release| release.has_changes())
        .map(|release| {
            let counts = release.counts();
            let mut shown = json!({
                "release": release.id.to_string(),
                "namespace": release.id.namespace,
                "name": release.id.name,
                "added": counts.added,
                "changed": counts.changed,
                "removed": counts.removed,
                "hooks": release.hooks.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "suppressed": release.suppressed,
                "objects": release
                    .changed_objects()
                    .map(|diff| object(diff, with_diff_text))
                    .collect::<Vec<_>>(),
            });
            if let Some(cluster) = &release.id.cluster {
                shown["cluster"] = json!(cluster);
            }
            shown
        })
        .collect();
    let summary = DiffSummary::of(diffs);
    json!({
        "releases": releases,
        "summary": {
            "releasesChanged": summary.releases_changed,
            "added": summary.added,
            "changed": summary.changed,
            "removed": summary.removed,
            "hooks": summary.hooks,
        },
    })
}

fn object(diff: &ObjectDiff, with_diff_text: bool) -> Value {
    let mut shown = json!({
        "apiVersion": diff.id.api_version,
        "kind": diff.id.kind,
        "namespace": diff.id.namespace,
        "name": diff.id.name,
        "change": diff.change.as_str(),
    });
    if with_diff_text {
        shown["diff"] = json!(diff.unified);
    }
    shown
}
