//! What of an object is worth reviewing: server bookkeeping dropped, keys in one order.
//!
//! Both sides of a diff come from the API server, so server-added defaults are kept: they
//! appear on both sides and only show up when they actually differ.

use serde_json::{Map, Value};

/// Metadata the server maintains for its own bookkeeping; it changes on every write and
/// says nothing about what the release asks for.
const SERVER_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionGracePeriodSeconds",
];

/// A copy of the whole previous object that `kubectl apply` leaves behind; diffing it
/// repeats every change a second time, as one unreadable JSON line.
pub(crate) const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The object without server bookkeeping, `status`, the last-applied annotation, and
/// `annotations`/`labels` maps that end up empty.
pub fn normalize(object: &Value) -> Value {
    let mut object = object.clone();
    let Some(fields) = object.as_object_mut() else {
        return object;
    };
    fields.remove("status");
    if let Some(metadata) = fields.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in SERVER_METADATA {
            metadata.remove(*field);
        }
        if let Some(annotations) = metadata
            .get_mut("annotations")
            .and_then(Value::as_object_mut)
        {
            annotations.remove(LAST_APPLIED);
        }
        for map in ["annotations", "labels"] {
            if metadata.get(map).is_some_and(is_empty_map) {
                metadata.remove(map);
            }
        }
    }
    object
}

/// `null` counts as empty: the server omits empty maps, a chart may render `labels:`.
fn is_empty_map(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// The object as YAML with every map's keys sorted.
///
/// The live object's key order is the server's serialization order, the desired one's is
/// whatever the dry-run or the chart produced; sorting makes order never show up as a
/// change (and matches `kubectl get -o yaml`). List order is meaningful and kept.
pub(crate) fn to_yaml(object: &Value) -> String {
    // A serde_json::Value always has string keys, so this cannot fail in practice; if it
    // ever did, say so in the diff rather than abort the whole run.
    serde_yaml_ng::to_string(&sorted(object))
        .unwrap_or_else(|error| format!("# cannot show this object as YAML: {error}\n"))
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by_key(|(key, _)| *key);
            let sorted: Map<String, Value> = entries
                .into_iter()
                .map(|(key, value)| (key.clone(), sorted(value)))
                .collect();
            Value::Object(sorted)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn drops_server_bookkeeping_and_status() {
        let live = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "settings",
                "namespace": "staging",
                "uid": "6f1c",
                "resourceVersion": "4711",
                "generation": 3,
                "creationTimestamp": "2024-01-01T00:00:00Z",
                "selfLink": "/api/v1/namespaces/staging/configmaps/settings",
                "deletionGracePeriodSeconds": 30,
                "managedFields": [{"manager": "orch", "operation": "Apply"}],
                "annotations": {LAST_APPLIED: "{\"data\":{}}"},
                "labels": {},
            },
            "data": {"mode": "fast"},
            "status": {"phase": "Active"},
        });
        assert_eq!(
            normalize(&live),
            json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": "staging"},
                "data": {"mode": "fast"},
            })
        );
    }

    #[test]
    fn keeps_other_annotations_labels_and_server_defaults() {
        let object = json!({
            "kind": "Service",
            "metadata": {
                "name": "web",
                "annotations": {LAST_APPLIED: "{}", "team": "payments"},
                "labels": {"app": "web"},
            },
            "spec": {"sessionAffinity": "None", "clusterIP": "10.0.0.1"},
        });
        let normalized = normalize(&object);
        assert_eq!(
            normalized["metadata"]["annotations"],
            json!({"team": "payments"})
        );
        assert_eq!(normalized["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(normalized["spec"], object["spec"]);
    }

    #[test]
    fn non_objects_pass_through() {
        assert_eq!(normalize(&json!("text")), json!("text"));
    }

    #[test]
    fn yaml_sorts_keys_at_every_depth_but_keeps_list_order() {
        let object = json!({
            "spec": {"b": 1, "a": [{"z": 1, "y": 2}, "second"]},
            "kind": "Thing",
            "apiVersion": "v1",
        });
        assert_eq!(
            to_yaml(&object),
            "apiVersion: v1\nkind: Thing\nspec:\n  a:\n  - y: 2\n    z: 1\n  - second\n  b: 1\n"
        );
    }

    #[test]
    fn yaml_shows_multi_line_strings_line_by_line() {
        // So a one-line change in a config file shows as one changed line, not the blob.
        let yaml = to_yaml(&json!({"data": {"app.conf": "port: 80\nmode: fast\n"}}));
        assert!(yaml.contains("\n    port: 80\n    mode: fast\n"), "{yaml}");
    }
}
