//! Strategic merge patches (kustomize's `patchesStrategicMerge`, helmfile's
//! `strategicMergePatches`) of rendered objects, on their JSON.
//!
//! Maps merge key by key, and `null` removes a key. In an object of a built-in kind, a list
//! whose Kubernetes type has a merge key (containers by `name`, volume mounts by
//! `mountPath`, …) merges item by item, matched on it; `finalizers` merge as a set; any other
//! list is replaced. The directives `$patch: replace | delete`, `$retainKeys` and
//! `$deleteFromPrimitiveList/…` are followed, `$setElementOrder/…` is dropped. An object of
//! another group (a custom resource, whose schema orch does not have) merges as an RFC 7386
//! merge patch, as kustomize merges it without a schema.

use serde_json::{Map, Value};

/// Merges `patch` into `object`, of `kind` (`built_in` when its group is Kubernetes' own).
pub fn merge(object: &mut Value, patch: Value, kind: &str, built_in: bool) {
    if built_in {
        merge_value(object, patch, kind);
    } else {
        json_patch::merge(object, &patch);
    }
}

/// Whether an `apiVersion` is of a group whose types Kubernetes defines.
pub fn is_built_in(api_version: &str) -> bool {
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    group.is_empty() || !group.contains('.') || group.ends_with(".k8s.io")
}

fn merge_value(target: &mut Value, patch: Value, kind: &str) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => merge_map(target, patch, kind),
        (target, patch) => *target = strip_directives(patch),
    }
}

fn merge_map(target: &mut Map<String, Value>, mut patch: Map<String, Value>, kind: &str) {
    match patch.remove("$patch").as_ref().and_then(Value::as_str) {
        Some("replace") => {
            *target = strip_directives_map(patch);
            return;
        }
        Some("delete") => {
            target.clear();
            return;
        }
        _ => {}
    }
    let retained = patch.remove("$retainKeys");
    for (key, value) in patch {
        if key.starts_with("$setElementOrder/") {
            continue;
        }
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(items)), Value::Array(gone)) = (target.get_mut(field), value)
            {
                items.retain(|item| !gone.contains(item));
            }
            continue;
        }
        match value {
            Value::Null => {
                target.remove(&key);
            }
            Value::Object(ref fields) if is_delete(fields) => {
                target.remove(&key);
            }
            Value::Array(items) => {
                let merged = match target.remove(&key) {
                    Some(Value::Array(current)) => merge_list(&key, current, items, kind),
                    _ => strip_list(items),
                };
                target.insert(key, Value::Array(merged));
            }
            value => match target.get_mut(&key) {
                Some(slot) => merge_value(slot, value, kind),
                None => {
                    target.insert(key, strip_directives(value));
                }
            },
        }
    }
    if let Some(Value::Array(keys)) = retained {
        target.retain(|key, _| keys.iter().any(|k| k.as_str() == Some(key)));
    }
}

fn merge_list(field: &str, mut current: Vec<Value>, patch: Vec<Value>, kind: &str) -> Vec<Value> {
    // `- $patch: replace` in a list: the list is the patch's other items.
    if patch
        .iter()
        .any(|item| item.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        let rest = patch
            .into_iter()
            .filter(|item| item.get("$patch").is_none())
            .collect();
        return strip_list(rest);
    }
    if field == "finalizers" {
        for item in patch {
            if !current.contains(&item) {
                current.push(item);
            }
        }
        return current;
    }
    let Some(key) = merge_key(field, &patch, kind) else {
        return strip_list(patch);
    };
    // As kustomize orders them: the patch's items first, in its order, then the items it
    // does not name, in theirs.
    let mut merged = Vec::new();
    for item in patch {
        let Value::Object(fields) = item else {
            merged.push(item);
            continue;
        };
        let position = fields.get(key).and_then(|wanted| {
            current
                .iter()
                .position(|existing| existing.get(key) == Some(wanted))
        });
        let existing = position.map(|i| current.remove(i));
        if is_delete(&fields) {
            continue;
        }
        match existing {
            Some(mut existing) => {
                merge_value(&mut existing, Value::Object(fields), kind);
                merged.push(existing);
            }
            None => merged.push(strip_directives(Value::Object(fields))),
        }
    }
    merged.append(&mut current);
    merged
}

/// The merge key of a list field of Kubernetes' built-in types (their
/// `patchMergeKey`); `None` for a list that a patch replaces.
fn merge_key(field: &str, items: &[Value], kind: &str) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims"
        | "webhooks" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "hostAliases" => "ip",
        "ownerReferences" => "uid",
        "conditions" => "type",
        "topologySpreadConstraints" => "topologyKey",
        // A container's ports merge on containerPort, a Service's on port; other ports
        // lists (a NetworkPolicy's) are replaced.
        "ports" if items.iter().any(|item| item.get("containerPort").is_some()) => "containerPort",
        "ports" if kind == "Service" => "port",
        _ => return None,
    })
}

fn is_delete(fields: &Map<String, Value>) -> bool {
    fields.get("$patch").and_then(Value::as_str) == Some("delete")
}

/// A value taken from a patch as it is: without its directives.
fn strip_directives(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(strip_directives_map(map)),
        Value::Array(items) => Value::Array(strip_list(items)),
        other => other,
    }
}

fn strip_directives_map(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .filter(|(key, _)| !key.starts_with('$'))
        .map(|(key, value)| (key, strip_directives(value)))
        .collect()
}

fn strip_list(items: Vec<Value>) -> Vec<Value> {
    items
        .into_iter()
        .filter(|item| {
            !item
                .as_object()
                .is_some_and(|map| map.contains_key("$patch"))
        })
        .map(strip_directives)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}},
            "spec": {"template": {"spec": {
                "containers": [
                    {"name": "web", "image": "nginx:1", "env": [{"name": "A", "value": "1"}],
                     "ports": [{"containerPort": 80, "name": "http"}]},
                    {"name": "sidecar", "image": "envoy"}
                ],
                "tolerations": [{"key": "a"}],
            }}}
        })
    }

    #[test]
    fn lists_with_a_merge_key_merge_item_by_item_others_are_replaced() {
        let mut object = deployment();
        let patch = json!({
            "metadata": {"labels": {"tier": null, "team": "x"}},
            "spec": {"template": {"spec": {
                "containers": [
                    {"name": "web", "image": "nginx:2", "env": [{"name": "B", "value": "2"}],
                     "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                    {"name": "sidecar", "$patch": "delete"},
                    {"name": "new", "image": "busybox"}
                ],
                "tolerations": [{"key": "b"}],
            }}}
        });
        merge(&mut object, patch, "Deployment", true);
        let spec = &object["spec"]["template"]["spec"];
        assert_eq!(
            object["metadata"]["labels"],
            json!({"app": "web", "team": "x"})
        );
        assert_eq!(spec["containers"].as_array().unwrap().len(), 2);
        assert_eq!(spec["containers"][0]["image"], "nginx:2");
        // kustomize's order: the patch's items, then the others.
        assert_eq!(
            spec["containers"][0]["env"],
            json!([{"name": "B", "value": "2"}, {"name": "A", "value": "1"}])
        );
        assert_eq!(
            spec["containers"][0]["ports"],
            json!([{"containerPort": 80, "name": "http", "protocol": "TCP"}])
        );
        assert_eq!(
            spec["containers"][1],
            json!({"name": "new", "image": "busybox"})
        );
        assert_eq!(spec["tolerations"], json!([{"key": "b"}]));
    }

    #[test]
    fn directives_replace_delete_and_retain() {
        let mut object = deployment();
        let patch = json!({"spec": {"template": {"spec": {
            "containers": [{"$patch": "replace"}, {"name": "only", "image": "x"}],
            "$retainKeys": ["containers"],
        }}}});
        merge(&mut object, patch, "Deployment", true);
        assert_eq!(
            object["spec"]["template"]["spec"],
            json!({"containers": [{"name": "only", "image": "x"}]})
        );
        let mut object = deployment();
        let patch = json!({"metadata": {"labels": {"$patch": "replace", "only": "me"}}});
        merge(&mut object, patch, "Deployment", true);
        assert_eq!(object["metadata"]["labels"], json!({"only": "me"}));
    }

    #[test]
    fn a_custom_resource_merges_as_a_json_merge_patch() {
        let mut object = json!({"apiVersion": "example.com/v1", "kind": "Thing",
            "spec": {"containers": [{"name": "a", "x": 1}], "keep": true}});
        let patch = json!({"spec": {"containers": [{"name": "a", "y": 2}]}});
        let built_in = is_built_in("example.com/v1");
        merge(&mut object, patch, "Thing", built_in);
        assert!(!built_in);
        assert_eq!(
            object["spec"],
            json!({"containers": [{"name": "a", "y": 2}], "keep": true})
        );
        assert!(is_built_in("v1") && is_built_in("apps/v1"));
        assert!(is_built_in("networking.k8s.io/v1"));
    }
}
