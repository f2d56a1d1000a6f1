//! Whole-stage tests: objects in, the text and JSON a reviewer or CI tool gets out.

use serde_json::{Value, json};

use super::*;

pub(super) fn id(kind: &str, name: &str) -> ObjectId {
    ObjectId {
        api_version: "v1".to_string(),
        kind: kind.to_string(),
        namespace: Some("staging".to_string()),
        name: name.to_string(),
    }
}

pub(super) fn config_map(mode: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "staging"},
        "data": {"mode": mode, "port": "80", "region": "eu"},
    })
}

/// As the server returns it: bookkeeping, status, and keys in its own order.
pub(super) fn live_config_map(mode: &str) -> Value {
    json!({
        "metadata": {
            "resourceVersion": "4711",
            "uid": "6f1c",
            "managedFields": [{"manager": "orch", "fieldsV1": {"f:data": {}}}],
            "namespace": "staging",
            "name": "settings",
        },
        "data": {"region": "eu", "port": "80", "mode": mode},
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "status": {"observed": true},
    })
}

/// The release `namespace/name` with `objects` and no hooks.
pub(super) fn release(id: &str, objects: Vec<ObjectDiff>) -> ReleaseDiff {
    let (namespace, name) = id.split_once('/').expect("namespace/name");
    ReleaseDiff {
        suppressed: false,
        id: ReleaseId {
            cluster: None,
            namespace: namespace.to_string(),
            name: name.to_string(),
        },
        objects,
        hooks: Vec::new(),
    }
}

pub(super) fn migration() -> HookToRun {
    HookToRun {
        kind: "Job".to_string(),
        name: "migrate".to_string(),
        event: "pre-upgrade",
        weight: 0,
    }
}

#[test]
fn a_changed_field_is_the_only_change_shown() {
    let live = live_config_map("slow");
    let diff = diff_object(
        id("ConfigMap", "settings"),
        Some(&live),
        Some(&config_map("fast")),
        1,
    );
    assert_eq!(diff.change, Change::Changed);
    assert_eq!(
        diff.unified,
        "--- live\n+++ desired\n@@ -2,3 +2,3 @@\n data:\n-  mode: slow\n+  mode: fast\n   port: '80'\n"
    );
}

#[test]
fn bookkeeping_status_and_key_order_are_not_changes() {
    let live = live_config_map("fast");
    let diff = diff_object(
        id("ConfigMap", "settings"),
        Some(&live),
        Some(&config_map("fast")),
        3,
    );
    assert_eq!(diff.change, Change::Unchanged);
    assert_eq!(diff.unified, "");
}

#[test]
fn added_and_removed_objects_diff_against_dev_null() {
    let desired = config_map("fast");
    let added = diff_object(id("ConfigMap", "settings"), None, Some(&desired), 3);
    assert_eq!(added.change, Change::Added);
    assert!(
        added
            .unified
            .starts_with("--- /dev/null\n+++ desired\n@@ -0,0 +1,")
    );
    assert!(added.unified.contains("\n+  mode: fast\n"));

    let live = live_config_map("fast");
    let removed = diff_object(id("ConfigMap", "settings"), Some(&live), None, 3);
    assert_eq!(removed.change, Change::Removed);
    assert!(
        removed
            .unified
            .starts_with("--- live\n+++ /dev/null\n@@ -1,")
    );
    assert!(!removed.unified.contains("managedFields"));
    assert!(!removed.unified.contains("status"));
}

pub(super) const OLD_PASSWORD: &str = "correct-horse-old";
pub(super) const NEW_PASSWORD: &str = "battery-staple-new";
pub(super) const TOKEN: &str = "unchanged-token";

pub(super) fn base64(plain: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(plain)
}

pub(super) fn secret(data: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "staging"},
        "type": "Opaque",
        "data": data,
    })
}

pub(super) fn assert_hides(output: &str, values: &[&str]) {
    for value in values {
        assert!(!output.contains(value), "{value:?} leaked:\n{output}");
        assert!(
            !output.contains(&base64(value)),
            "base64 of {value:?} leaked:\n{output}"
        );
    }
}

#[test]
fn secret_diff_names_changed_keys_and_never_shows_values() {
    let mut live = secret(json!({"password": base64(OLD_PASSWORD), "token": base64(TOKEN)}));
    // kubectl's copy of the previous object carries the values in plain JSON.
    live["metadata"]["annotations"] = json!({normalize::LAST_APPLIED: json!({"data": {"password": base64(OLD_PASSWORD)}}).to_string()});
    let desired = secret(json!({"password": base64(NEW_PASSWORD), "token": base64(TOKEN)}));

    let diff = diff_object(id("Secret", "db"), Some(&live), Some(&desired), 3);
    assert_eq!(diff.change, Change::Changed);
    assert!(
        diff.unified
            .contains("\n-  password: (hidden, old value)\n+  password: (hidden, new value)\n"),
        "{}",
        diff.unified
    );
    assert!(
        diff.unified.contains("\n   token: (hidden)\n"),
        "{}",
        diff.unified
    );

    let diffs = [release("staging/db", vec![diff])];
    let text = render_text(&diffs, true);
    let json = render_json(&diffs).to_string();
    for output in [&text, &json] {
        assert_hides(output, &[OLD_PASSWORD, NEW_PASSWORD, TOKEN]);
    }
}

#[test]
fn added_and_removed_secrets_show_keys_only() {
    let desired = secret(json!({"password": base64(NEW_PASSWORD)}));
    let added = diff_object(id("Secret", "db"), None, Some(&desired), 3);
    assert!(
        added.unified.contains("\n+  password: (hidden)\n"),
        "{}",
        added.unified
    );
    let removed = diff_object(id("Secret", "db"), Some(&desired), None, 3);
    assert!(
        removed.unified.contains("\n-  password: (hidden)\n"),
        "{}",
        removed.unified
    );
    assert_hides(
        &format!("{}{}", added.unified, removed.unified),
        &[NEW_PASSWORD],
    );
}

#[test]
fn string_data_compares_with_the_live_data_it_becomes() {
    let live = secret(json!({"password": base64(OLD_PASSWORD), "token": base64(TOKEN)}));
    let mut same = secret(json!({}));
    same["stringData"] = json!({"password": OLD_PASSWORD, "token": TOKEN});
    let unchanged = diff_object(id("Secret", "db"), Some(&live), Some(&same), 3);
    assert_eq!(unchanged.change, Change::Unchanged, "{}", unchanged.unified);

    // stringData wins over data for the same key, as on the server.
    let mut desired = secret(json!({"password": base64(OLD_PASSWORD)}));
    desired["stringData"] = json!({"password": NEW_PASSWORD, "user": "app"});
    let diff = diff_object(id("Secret", "db"), Some(&live), Some(&desired), 3);
    assert_eq!(
        diff.unified,
        "--- live\n+++ desired\n@@ -1,7 +1,7 @@\n apiVersion: v1\n data:\n\
         -  password: (hidden, old value)\n\
         -  token: (hidden)\n\
         +  password: (hidden, new value)\n\
         +  user: (hidden)\n\
         \x20kind: Secret\n metadata:\n   name: db\n"
    );
    assert_hides(&diff.unified, &[OLD_PASSWORD, NEW_PASSWORD, TOKEN, "app"]);
}

#[test]
fn summary_counts_objects_and_changed_releases() {
    let desired = config_map("fast");
    let live = live_config_map("slow");
    let diffs = [
        release(
            "staging/web",
            vec![
                diff_object(id("ConfigMap", "a"), None, Some(&desired), 3),
                diff_object(id("ConfigMap", "b"), None, Some(&desired), 3),
                diff_object(id("ConfigMap", "c"), Some(&live), Some(&desired), 3),
            ],
        ),
        release(
            "staging/worker",
            vec![diff_object(id("ConfigMap", "d"), Some(&live), None, 3)],
        ),
        release(
            "staging/quiet",
            vec![diff_object(
                id("ConfigMap", "e"),
                Some(&desired),
                Some(&desired),
                3,
            )],
        ),
    ];
    let summary = DiffSummary::of(&diffs);
    assert_eq!(
        summary,
        DiffSummary {
            releases_changed: 2,
            added: 2,
            changed: 1,
            removed: 1,
            hooks: 0,
        }
    );
    assert_eq!(
        summary.to_string(),
        "2 releases changed: 2 objects added, 1 changed, 1 removed"
    );
    assert_eq!(DiffSummary::of(&diffs[2..]).to_string(), "no changes");

    let text = render_text(&diffs, false);
    assert!(text.contains("+ ConfigMap staging/a\n--- /dev/null\n"));
    assert!(text.contains("~ ConfigMap staging/c\n--- live\n"));
    assert!(text.contains("- ConfigMap staging/d\n--- live\n+++ /dev/null\n"));
    assert!(!text.contains("staging/quiet"));
    assert!(!text.contains("staging/e"));
}

#[test]
fn json_has_the_same_content_as_data() {
    let desired = config_map("fast");
    let mut web = release(
        "staging/web",
        vec![
            diff_object(id("ConfigMap", "settings"), None, Some(&desired), 3),
            diff_object(id("ConfigMap", "same"), Some(&desired), Some(&desired), 3),
        ],
    );
    web.hooks = vec![migration()];
    let unified = web.objects[0].unified.clone();
    let diffs = [web, release("staging/quiet", Vec::new())];
    let mut summary = render_json(&diffs);
    summary["releases"][0]["objects"][0]
        .as_object_mut()
        .map(|object| object.remove("diff"));
    assert_eq!(render_json_summary(&diffs), summary);
    assert_eq!(
        render_json(&diffs),
        json!({
            "releases": [{
                "release": "staging/web",
                "namespace": "staging",
                "name": "web",
                "added": 1,
                "changed": 0,
                "removed": 0,
                "hooks": ["will run: Job migrate (pre-upgrade, weight 0)"],
                "suppressed": false,
                "objects": [{
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "namespace": "staging",
                    "name": "settings",
                    "change": "added",
                    "diff": unified,
                }],
            }],
            "summary": {"releasesChanged": 1, "added": 1, "changed": 0, "removed": 0, "hooks": 1},
        })
    );
}

#[test]
fn cluster_scoped_ids_have_no_namespace() {
    let namespace = ObjectId {
        api_version: "v1".to_string(),
        kind: "Namespace".to_string(),
        namespace: None,
        name: "staging".to_string(),
    };
    assert_eq!(namespace.to_string(), "Namespace staging");
    assert_eq!(
        id("Deployment", "server").to_string(),
        "Deployment staging/server"
    );
}

#[test]
fn a_review_leaves_out_the_lines_its_file_suppresses_and_the_diff_it_suppresses() {
    let labelled = |chart: &str, mode: &str| {
        let mut object = config_map(mode);
        object["metadata"]["labels"] = json!({"helm.sh/chart": chart});
        object
    };
    let changed = |desired: &Value| {
        let live = live_config_map("a");
        let mut live_labelled = live.clone();
        live_labelled["metadata"]["labels"] = json!({"helm.sh/chart": "web-1.0.0"});
        diff_object(
            id("ConfigMap", "settings"),
            Some(&live_labelled),
            Some(desired),
            3,
        )
    };
    let patterns = [regex::Regex::new("helm.sh/chart").unwrap()];
    // Only the suppressed line changes: the object is unchanged.
    let only_chart = release("staging/web", vec![changed(&labelled("web-1.1.0", "a"))]);
    let reviewed = only_chart.reviewed(&patterns, false);
    assert!(!reviewed.has_changes(), "{:?}", reviewed.objects);
    // Another line changes too: it is shown, the suppressed one is not.
    let both = release("staging/web", vec![changed(&labelled("web-1.1.0", "b"))]);
    let reviewed = both.reviewed(&patterns, false);
    let unified = &reviewed.objects[0].unified;
    assert!(
        unified.contains("+  mode: b") && !unified.contains("helm.sh/chart"),
        "{unified}"
    );
    // suppressDiff: which objects change, not how.
    let both = release("staging/web", vec![changed(&labelled("web-1.1.0", "b"))]);
    let reviewed = both.reviewed(&[], true);
    assert!(reviewed.has_changes() && reviewed.objects[0].unified.is_empty());
    let text = text::render_text(&[reviewed], false);
    assert!(text.contains("~ ConfigMap staging/settings"), "{text}");
    assert!(
        text.contains("(its diff is suppressed: suppressDiff)"),
        "{text}"
    );
}
