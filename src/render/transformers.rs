//! A release's kustomize `transformers`, run over its rendered objects as kustomize runs
//! them: each one over every object, in order, after the patches.

use serde_json::{Map, Value};

use crate::config::transformers::{FieldSpec, Transformer};

use super::manifest::Manifest;

pub fn apply(transformers: &[Transformer], manifests: &mut [Manifest]) -> Result<(), String> {
    if transformers.is_empty() {
        return Ok(());
    }
    // A transformer changes one object at a time, so each object is read once and goes
    // through them all in order.
    for manifest in manifests.iter_mut() {
        let mut object = manifest.whole_object()?;
        let before = object.clone();
        for transformer in transformers {
            transform(transformer, &mut object);
        }
        if object != before {
            super::patches::replace_object(manifest, object);
        }
    }
    Ok(())
}

/// Runs one transformer over one object.
fn transform(transformer: &Transformer, object: &mut Value) {
    match transformer {
        Transformer::LabelTransformer(t) => set_entries(object, &t.labels, &t.field_specs),
        Transformer::AnnotationsTransformer(t) => {
            set_entries(object, &t.annotations, &t.field_specs)
        }
        Transformer::PrefixSuffixTransformer(t) => {
            for spec in applicable(&t.field_specs, object) {
                visit(object, &steps(&spec.path), false, &mut |field| {
                    if let Value::String(text) = field {
                        *text = format!("{}{text}{}", t.prefix, t.suffix);
                    }
                });
            }
        }
        Transformer::ReplicaCountTransformer(t) => {
            if name(object) == Some(t.replica.name.as_str()) {
                for spec in applicable(&t.field_specs, object) {
                    visit(object, &steps(&spec.path), spec.create, &mut |field| {
                        *field = Value::from(t.replica.count);
                    });
                }
            }
        }
        Transformer::ValueAddTransformer(t) => {
            let targets: Vec<_> = t
                .targets
                .iter()
                // The object's own namespace only, as kustomize sees the rendered objects.
                .filter(|t| super::patches::targets(&t.selector, object, ""))
                .collect();
            for target in targets {
                visit(object, &steps(&target.field_path), true, &mut |field| {
                    *field = Value::String(t.value.clone());
                });
            }
        }
    }
}

fn set_entries(object: &mut Value, entries: &Map<String, Value>, specs: &[FieldSpec]) {
    for spec in applicable(specs, object) {
        visit(object, &steps(&spec.path), spec.create, &mut |field| {
            if field.is_null() {
                *field = Value::Object(Map::new());
            }
            if let Value::Object(map) = field {
                map.extend(entries.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        });
    }
}

fn steps(path: &str) -> Vec<&str> {
    path.split('/').filter(|step| !step.is_empty()).collect()
}

/// Calls `change` on the field at `steps` (on each item's, where a step is a list); with
/// `create`, missing maps on the way, and the field itself (as null), are made.
fn visit(node: &mut Value, steps: &[&str], create: bool, change: &mut dyn FnMut(&mut Value)) {
    if let Value::Array(items) = node {
        for item in items {
            visit(item, steps, create, change);
        }
        return;
    }
    let Some((first, rest)) = steps.split_first() else {
        change(node);
        return;
    };
    let Value::Object(map) = node else {
        return;
    };
    if !map.contains_key(*first) {
        if !create {
            return;
        }
        let empty = if rest.is_empty() {
            Value::Null
        } else {
            Value::Object(Map::new())
        };
        map.insert(first.to_string(), empty);
    }
    if let Some(next) = map.get_mut(*first) {
        visit(next, rest, create, change);
    }
}

fn group_version(object: &Value) -> (&str, &str) {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

fn name(object: &Value) -> Option<&str> {
    object.pointer("/metadata/name").and_then(Value::as_str)
}

fn matches(want: &Option<String>, have: &str) -> bool {
    want.as_deref().is_none_or(|want| want == have)
}

/// The field specs for this object's kind, group and version.
fn applicable<'s>(specs: &'s [FieldSpec], object: &Value) -> Vec<&'s FieldSpec> {
    specs.iter().filter(|spec| applies(spec, object)).collect()
}

/// Whether a field spec is for this object's kind, group and version.
fn applies(spec: &FieldSpec, object: &Value) -> bool {
    let (group, version) = group_version(object);
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    matches(&spec.group, group) && matches(&spec.version, version) && matches(&spec.kind, kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::transformers::parse;
    use serde_json::json;

    fn deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}}})
    }

    /// Whether the transformer changed the object.
    fn run(config: Value, object: &mut Value) -> bool {
        let before = object.clone();
        transform(&parse(config, 0).unwrap(), object);
        *object != before
    }

    #[test]
    fn labels_and_annotations_go_where_their_field_specs_say() {
        let mut object = deployment();
        let labels = json!({"kind": "LabelTransformer", "labels": {"team": "a"}, "fieldSpecs": [
            {"path": "metadata/labels", "create": true},
            {"path": "spec/selector/matchLabels", "create": false},
            {"path": "spec/template/metadata/labels", "create": true, "kind": "Deployment"},
            {"path": "spec/jobTemplate/metadata/labels", "create": true, "kind": "CronJob"}]});
        assert!(run(labels, &mut object));
        assert_eq!(object["metadata"]["labels"], json!({"team": "a"}));
        assert_eq!(
            object["spec"]["template"]["metadata"]["labels"],
            json!({"team": "a"})
        );
        assert!(object["spec"].get("selector").is_none());
        assert!(object["spec"].get("jobTemplate").is_none());
        let annotations = json!({"kind": "AnnotationsTransformer", "annotations": {"n": "1"},
            "fieldSpecs": [{"path": "metadata/annotations", "create": true}]});
        assert!(run(annotations, &mut object));
        assert_eq!(object["metadata"]["annotations"], json!({"n": "1"}));
    }

    #[test]
    fn names_replicas_and_added_values() {
        let mut object = deployment();
        let prefix = json!({"kind": "PrefixSuffixTransformer", "prefix": "p-", "suffix": "-s",
            "fieldSpecs": [{"path": "metadata/name"}, {"path": "spec/template/spec/containers/name"}]});
        assert!(run(prefix, &mut object));
        assert_eq!(object["metadata"]["name"], "p-web-s");
        assert_eq!(
            object["spec"]["template"]["spec"]["containers"][1]["name"],
            "p-b-s"
        );
        let replicas = json!({"kind": "ReplicaCountTransformer",
            "replica": {"name": "p-web-s", "count": 5},
            "fieldSpecs": [{"path": "spec/replicas", "create": true, "kind": "Deployment"}]});
        assert!(run(replicas, &mut object));
        assert_eq!(object["spec"]["replicas"], 5);
        let add = json!({"kind": "ValueAddTransformer", "value": "1893", "targets": [
            {"fieldPath": "metadata/annotations/issue", "selector": {"kind": "Deployment"}},
            {"fieldPath": "metadata/annotations/other", "selector": {"kind": "Service"}}]});
        assert!(run(add, &mut object));
        assert_eq!(object["metadata"]["annotations"], json!({"issue": "1893"}));
    }
}
