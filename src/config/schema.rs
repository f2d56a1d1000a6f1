//! The releases file as written: helmfile's schema (the non-templated subset), read strictly.
//!
//! These types mirror the file; `config::load` turns them into resolved `ReleaseSpec`s.
//! Every struct denies unknown keys so a typo is an error with a line, not a silent no-op.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::yaml::Node;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FileDoc {
    /// State files merged under this one, read before it.
    #[serde(default)]
    pub bases: Vec<String>,
    /// Other state files (paths or globs) whose releases join the plan.
    #[serde(default)]
    pub helmfiles: Vec<SubHelmfileDoc>,
    /// Values under every environment's (helmfile's defaults).
    #[serde(default)]
    pub values: Vec<ValuesEntry>,
    /// helmfile's old name of `helmDefaults.kubeContext`, which wins over it.
    pub context: Option<String>,
    /// The namespace of every release of this state file, whatever the release says.
    pub namespace: Option<String>,
    /// The kube context of every release of this state file, whatever the release says.
    pub kube_context: Option<String>,
    #[serde(default)]
    pub environments: BTreeMap<String, EnvironmentDoc>,
    /// Each a [`ReleaseDoc`], typed once the templates it inherits are merged into it.
    #[serde(default)]
    pub releases: Vec<Node>,
    pub helm_defaults: Option<HelmDefaultsDoc>,
    #[serde(default)]
    pub repositories: Vec<RepositoryDoc>,
    pub missing_file_handler: Option<MissingFileHandler>,
    #[serde(default, deserialize_with = "scalar_texts")]
    pub common_labels: BTreeMap<String, String>,
    /// Release fields that releases name under `inherit` (or merge as YAML anchors,
    /// `<<: *default`).
    #[serde(default)]
    pub templates: BTreeMap<String, Node>,
    #[serde(default)]
    pub api_versions: Vec<String>,
    pub kube_version: Option<String>,
    /// helmfile's lock file of this state, relative to its directory.
    pub lock_file_path: Option<String>,
    /// The state's own hooks, run at `prepare` and `cleanup`.
    #[serde(default)]
    pub hooks: Vec<HookDoc>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvironmentDoc {
    #[serde(default)]
    pub values: Vec<ValuesEntry>,
    /// sops-encrypted values files, merged over `values`.
    #[serde(default)]
    pub secrets: Vec<String>,
    pub kube_context: Option<String>,
    pub missing_file_handler: Option<MissingFileHandler>,
}

/// Serialized as read (after templates, inheritance and the release pass) for `orch build`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReleaseDoc {
    pub name: String,
    pub namespace: Option<String>,
    pub chart: String,
    #[serde(default, deserialize_with = "scalar_text")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<ValuesEntry>,
    /// Values entries rendered with the release's own data, layered before `values`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values_template: Vec<ValuesEntry>,
    /// sops-encrypted values files, layered after `values` and before `set`, as helmfile
    /// passes them to helm.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<SetDoc>,
    /// `set` entries rendered with the release's own data, put before `set`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_template: Vec<SetDoc>,
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "scalar_texts"
    )]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
    pub installed: Option<bool>,
    pub condition: Option<String>,
    pub create_namespace: Option<bool>,
    pub wait: Option<bool>,
    pub timeout: Option<u64>,
    pub atomic: Option<bool>,
    pub kube_context: Option<String>,
    pub missing_file_handler: Option<MissingFileHandler>,
    pub force: Option<bool>,
    pub verify: Option<bool>,
    pub recreate_pods: Option<bool>,
    pub cleanup_on_fail: Option<bool>,
    pub wait_for_jobs: Option<bool>,
    pub skip_deps: Option<bool>,
    /// Pre-release versions count when the release names no version (helm's --devel).
    pub devel: Option<bool>,
    /// An upgrade's values merge over the deployed ones (helm's --reuse-values).
    pub reuse_values: Option<bool>,
    pub history_max: Option<u64>,
    /// helm-diff's --disable-validation (and helm's --disable-openapi-validation, which
    /// means the same to orch): a review does not fail on kinds the cluster does not serve
    /// yet.
    pub disable_validation: Option<bool>,
    #[serde(rename = "disableOpenAPIValidation")]
    pub disable_openapi_validation: Option<bool>,
    /// `disableValidation` until the release is first installed.
    pub disable_validation_on_install: Option<bool>,
    /// RFC 6902 patches of rendered objects, as helmfile's (kustomize's) `jsonPatches`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json_patches: Vec<JsonPatchDoc>,
    /// Strategic merge patches of rendered objects: each a partial object naming its target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub strategic_merge_patches: Vec<Value>,
    /// Every rendered object's namespace.
    pub force_namespace: Option<String>,
    /// kustomize transformer configurations, inline or in files, run over the rendered
    /// objects last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transformers: Vec<Value>,
    /// Charts added to the release's chart as dependencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<DependencyDoc>,
    /// A command the rendered objects pass through (helm's --post-renderer).
    pub post_renderer: Option<String>,
    pub post_renderer_args: Option<Vec<String>>,
    /// A review shows which objects change, not how.
    pub suppress_diff: Option<bool>,
    /// Lines a review leaves out of the diff (helm-diff's --suppress-output-line-regex).
    pub suppress_output_line_regex: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookDoc>,
}

/// A chart a release adds to its chart's dependencies.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DependencyDoc {
    /// `repo/name`, `oci://host/path/name`, or a chart directory.
    pub chart: String,
    #[serde(
        default,
        deserialize_with = "scalar_text",
        serialize_with = "text_or_empty"
    )]
    pub version: Option<String>,
    #[serde(serialize_with = "text_or_empty")]
    pub alias: Option<String>,
}

/// A helmfile release hook: a command run at some of the release's events.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HookDoc {
    #[serde(serialize_with = "text_or_empty")]
    pub name: Option<String>,
    pub events: Vec<String>,
    pub command: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub showlogs: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JsonPatchDoc {
    pub target: PatchTargetDoc,
    /// The operations: a list, or YAML text of one.
    pub patch: Value,
}

/// Which rendered objects a patch applies to: every field given must match.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PatchTargetDoc {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HelmDefaultsDoc {
    pub wait: Option<bool>,
    pub timeout: Option<u64>,
    pub atomic: Option<bool>,
    pub create_namespace: Option<bool>,
    pub kube_context: Option<String>,
    pub force: Option<bool>,
    pub verify: Option<bool>,
    pub recreate_pods: Option<bool>,
    pub cleanup_on_fail: Option<bool>,
    pub wait_for_jobs: Option<bool>,
    pub skip_deps: Option<bool>,
    pub devel: Option<bool>,
    pub reuse_values: Option<bool>,
    pub history_max: Option<u64>,
    pub disable_validation: Option<bool>,
    #[serde(rename = "disableOpenAPIValidation")]
    pub disable_openapi_validation: Option<bool>,
    pub disable_validation_on_install: Option<bool>,
    /// Extra arguments for every helm command helmfile runs.
    pub args: Option<Vec<String>>,
    /// Extra arguments for `helm upgrade`: orch has a meaning for `--force-conflicts` only.
    pub sync_args: Option<Vec<String>>,
    pub post_renderer: Option<String>,
    pub post_renderer_args: Option<Vec<String>>,
    pub suppress_output_line_regex: Option<Vec<String>>,
    /// helm-diff's arguments: those with a meaning for orch's review.
    pub diff_args: Option<Vec<String>>,
}

/// A `helmfiles` entry: a path or glob, or that with what the sub-helmfile is given.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SubHelmfileDoc {
    Path(String),
    Spec(SubHelmfileSpecDoc),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SubHelmfileSpecDoc {
    pub path: String,
    #[serde(default)]
    pub selectors: Vec<String>,
    #[serde(default)]
    pub selectors_inherited: bool,
    /// Values over the sub-helmfile's environment: files, or values written inline.
    #[serde(default)]
    pub values: Vec<ValuesEntry>,
}

impl SubHelmfileDoc {
    pub fn path(&self) -> &str {
        match self {
            SubHelmfileDoc::Path(path) => path,
            SubHelmfileDoc::Spec(spec) => &spec.path,
        }
    }
}

/// A chart repository or OCI registry, for the fetch stage; credentials are never logged.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RepositoryDoc {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub oci: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    pub ca_file: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    #[serde(default, rename = "insecureSkipTLSVerify")]
    pub insecure_skip_tls_verify: bool,
    #[serde(default)]
    pub pass_credentials: bool,
    /// OCI registries only: plain HTTP instead of HTTPS (Helm's `--plain-http`); an orch
    /// extension, for registries on loopback.
    #[serde(default)]
    pub plain_http: bool,
}

/// A `set` entry: `value` for one value, `values` for a list (helm's `{a,b}`), `file` for a
/// file's text.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SetDoc {
    pub name: String,
    /// `Some(Null)` when written empty (`value:`), which helmfile passes no --set for.
    #[serde(
        default,
        deserialize_with = "present",
        serialize_with = "scalar_as_text",
        skip_serializing_if = "absent_or_empty"
    )]
    pub value: Option<Value>,
    #[serde(serialize_with = "scalars_as_text")]
    pub values: Option<Vec<Value>>,
    /// A file whose text is the value (helm's --set-file).
    pub file: Option<String>,
}

/// A field that is there, even when null (serde reads a null `Option` as absent).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// A text shown as helmfile's Go string field shows it: empty when not given.
fn text_or_empty<S: Serializer>(text: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(text.as_deref().unwrap_or_default())
}

/// A `set` value shown as helmfile's string field holds it: `1` as `"1"`.
pub fn as_text(value: &Value) -> Value {
    match value {
        Value::Bool(_) | Value::Number(_) => Value::String(value.to_string()),
        other => other.clone(),
    }
}

/// helmfile leaves out a `set` value that is empty (`value:`), as its `omitempty` string.
fn absent_or_empty(value: &Option<Value>) -> bool {
    matches!(value, None | Some(Value::Null))
}

fn scalar_as_text<S: Serializer>(value: &Option<Value>, serializer: S) -> Result<S::Ok, S::Error> {
    value.as_ref().map(as_text).serialize(serializer)
}

fn scalars_as_text<S: Serializer>(
    values: &Option<Vec<Value>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let texts: Option<Vec<Value>> = values.as_ref().map(|v| v.iter().map(as_text).collect());
    texts.serialize(serializer)
}

/// What to do when a values file is missing, as helmfile's `missingFileHandler`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum MissingFileHandler {
    #[default]
    Error,
    Warn,
    Info,
    Debug,
}

/// One entry of a `values:` list: a file path, or values written inline.
#[derive(Debug, Clone, PartialEq)]
pub enum ValuesEntry {
    File(String),
    Inline(Value),
}

impl<'de> Deserialize<'de> for ValuesEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(path) => Ok(ValuesEntry::File(path)),
            map @ Value::Object(_) => Ok(ValuesEntry::Inline(map)),
            other => Err(serde::de::Error::custom(format!(
                "a values entry is a file path or a map of values, not {}",
                json_type(&other)
            ))),
        }
    }
}

impl Serialize for ValuesEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ValuesEntry::File(path) => serializer.serialize_str(path),
            ValuesEntry::Inline(values) => values.serialize(serializer),
        }
    }
}

/// A scalar as the text helmfile's Go struct field gets: `true`, `1.2` and `3` are read as
/// strings there (go-yaml v2 decodes a scalar into a string field), so labels and versions
/// written unquoted are their text.
fn text_of_scalar<E: serde::de::Error>(value: Value) -> Result<String, E> {
    match value {
        Value::String(text) => Ok(text),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        // Its text is gone once read (`1.10` is 1.1): `yaml::parse_document` reads it
        // again from the document, as helmfile gets it.
        Value::Number(n) => Err(E::custom(format!(
            "the number {n}: {TEXT_OF_A_DECIMAL_LOST}"
        ))),
        other => Err(E::custom(format!(
            "expected a string, not {}",
            json_type(&other)
        ))),
    }
}

/// What [`text_of_scalar`] says of a decimal, whose text `yaml::parse_document` then reads
/// from the document.
pub const TEXT_OF_A_DECIMAL_LOST: &str = "its text was lost when it was read as a number";

/// A scalar read as its text; see [`text_of_scalar`].
struct ScalarText(String);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        text_of_scalar(Value::deserialize(deserializer)?).map(ScalarText)
    }
}

fn scalar_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<ScalarText>::deserialize(deserializer)?.map(|text| text.0))
}

fn scalar_texts<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(BTreeMap::<String, ScalarText>::deserialize(deserializer)?
        .into_iter()
        .map(|(key, value)| (key, value.0))
        .collect())
}

pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml::Step;
    use std::path::Path;

    fn release(text: &str) -> Result<ReleaseDoc, String> {
        let file = Path::new("f.yaml");
        let doc: FileDoc =
            crate::config::yaml::parse_document(text, file, 1).map_err(|e| e.to_string())?;
        let node = doc.releases.into_iter().next().expect("one release");
        let steps = [Step::Key("releases".into()), Step::Index(0)];
        crate::config::yaml::typed(node, text, file, 1, &steps).map_err(|e| e.to_string())
    }

    #[test]
    fn unquoted_labels_and_versions_are_their_text_as_in_helmfile() {
        let doc = release(
            "releases:\n- name: a\n  chart: c\n  version: 2\n  labels: {bootstrap: true, n: 3, s: x}\n",
        )
        .unwrap();
        assert_eq!(doc.version.as_deref(), Some("2"));
        let labels: Vec<(&str, &str)> = doc
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(labels, [("bootstrap", "true"), ("n", "3"), ("s", "x")]);
        // 1.10 parses as 1.1: its text is read again as written, as helmfile's Go gets it.
        let doc = release("releases:\n- name: a\n  chart: c\n  version: 1.10\n").unwrap();
        assert_eq!(doc.version.as_deref(), Some("1.10"));
        let doc =
            release("releases:\n- {name: a, chart: c, labels: {v: 12.80, w: 1e3}}\n").unwrap();
        assert_eq!(doc.labels["v"], "12.80");
        assert_eq!(doc.labels["w"], "1e3");
        let err = release("releases:\n- name: a\n  chart: c\n  labels: {a: [1]}\n").unwrap_err();
        assert!(err.contains("expected a string, not a list"), "{err}");
    }
}
