//! A release's `transformers`: kustomize's built-in transformer configurations, which
//! helmfile has kustomize run over the rendered objects. orch runs the ones below itself;
//! any other kind is refused by name.

use serde::Deserialize;
use serde_json::Value;

use super::schema::PatchTargetDoc;

/// One transformer, as its configuration says.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind")]
pub enum Transformer {
    /// Sets labels at each of its fields (`metadata/labels`, selectors…).
    LabelTransformer(Labels),
    /// Sets annotations at each of its fields.
    AnnotationsTransformer(Annotations),
    /// Puts a prefix and a suffix on names.
    PrefixSuffixTransformer(PrefixSuffix),
    /// Sets the replica count of the objects of one name.
    ReplicaCountTransformer(ReplicaCount),
    /// Sets a text at a field of the objects a selector matches.
    ValueAddTransformer(ValueAdd),
}

/// Labels, and where they go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Labels {
    #[serde(rename = "apiVersion")]
    _api_version: Option<String>,
    #[serde(rename = "metadata")]
    _metadata: Option<Value>,
    #[serde(default)]
    pub labels: serde_json::Map<String, Value>,
    #[serde(default)]
    pub field_specs: Vec<FieldSpec>,
}

/// Annotations, and where they go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Annotations {
    #[serde(rename = "apiVersion")]
    _api_version: Option<String>,
    #[serde(rename = "metadata")]
    _metadata: Option<Value>,
    #[serde(default)]
    pub annotations: serde_json::Map<String, Value>,
    #[serde(default)]
    pub field_specs: Vec<FieldSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PrefixSuffix {
    #[serde(rename = "apiVersion")]
    _api_version: Option<String>,
    #[serde(rename = "metadata")]
    _metadata: Option<Value>,
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub suffix: String,
    #[serde(default)]
    pub field_specs: Vec<FieldSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReplicaCount {
    #[serde(rename = "apiVersion")]
    _api_version: Option<String>,
    #[serde(rename = "metadata")]
    _metadata: Option<Value>,
    pub replica: Replica,
    #[serde(default)]
    pub field_specs: Vec<FieldSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replica {
    pub name: String,
    pub count: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValueAdd {
    #[serde(rename = "apiVersion")]
    _api_version: Option<String>,
    #[serde(rename = "metadata")]
    _metadata: Option<Value>,
    pub value: String,
    pub targets: Vec<ValueTarget>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValueTarget {
    pub field_path: String,
    /// Group, version, kind, name, namespace: kustomize's selector, a patch target's fields.
    #[serde(default)]
    pub selector: PatchTargetDoc,
}

/// A field of some objects: `path` in `/` steps (a list's items are stepped through), for
/// the objects of the kind, group and version given; `create` makes it where missing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub path: String,
    #[serde(default)]
    pub create: bool,
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
}

/// Reads one `transformers` entry, an inline configuration or a file's.
pub fn parse(entry: Value, index: usize) -> Result<Transformer, String> {
    let kind = entry
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    serde_json::from_value(entry).map_err(|e| {
        let text = e.to_string();
        if text.starts_with("unknown variant") {
            format!(
                "transformers[{index}]: kind `{kind}` is not supported; orch runs LabelTransformer, AnnotationsTransformer, PrefixSuffixTransformer, ReplicaCountTransformer and ValueAddTransformer"
            )
        } else {
            format!("transformers[{index}] ({kind}): {text}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn configurations_are_read_strictly() {
        let labels = json!({"apiVersion": "builtin", "kind": "LabelTransformer",
            "metadata": {"name": "x"}, "labels": {"a": "b"},
            "fieldSpecs": [{"path": "metadata/labels", "create": true}]});
        assert!(matches!(
            parse(labels, 0).unwrap(),
            Transformer::LabelTransformer(Labels { .. })
        ));
        let err = parse(json!({"kind": "ImageTagTransformer"}), 2).unwrap_err();
        assert!(
            err.starts_with("transformers[2]: kind `ImageTagTransformer` is not supported"),
            "{err}"
        );
        let err = parse(json!({"kind": "LabelTransformer", "label": {}}), 0).unwrap_err();
        assert!(err.contains("unknown field `label`"), "{err}");
    }
}
