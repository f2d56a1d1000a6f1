//! The data a template runs with: Helm's top-level map of `.Values`, `.Chart`, `.Release`,
//! `.Capabilities`, `.Files` and `.Template`, built per rendering thread from shared inputs.

use std::any::Any;
use std::collections::BTreeMap;
use std::rc::Rc;

use gotemplate::funcs::Param;
use gotemplate::object::{Field, GoObject, Method, Object, Struct};
use gotemplate::value::Value;
use serde_json::Value as Json;

use crate::chart::files::{FileData, Files};

/// The release being rendered, as `.Release` shows it.
#[derive(Debug, Clone)]
pub struct ReleaseInfo {
    pub name: String,
    pub namespace: String,
    pub revision: i64,
    pub is_upgrade: bool,
}

/// The Kubernetes version Helm 3.15 assumes when none is given.
pub const DEFAULT_KUBE_VERSION: &str = "v1.30.0";

/// What `.Capabilities` reports: Helm's defaults, the release's or the cluster's version,
/// and Helm's built-in API versions plus any extra ones.
#[derive(Debug, Clone)]
pub struct CapabilitiesInfo {
    pub kube_version: String,
    pub major: String,
    pub minor: String,
    pub api_versions: Vec<String>,
}

impl CapabilitiesInfo {
    /// `kube_version` as Helm's `--kube-version` takes it (`1.27` becomes `v1.27.0`).
    pub fn new(kube_version: Option<&str>, extra_api_versions: &[String]) -> Result<Self, String> {
        let mut api_versions: Vec<String> =
            DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect();
        api_versions.extend(extra_api_versions.iter().cloned());
        Self::of_cluster(kube_version.unwrap_or(DEFAULT_KUBE_VERSION), api_versions)
    }

    /// A cluster's own view, as `helm upgrade` sees it: its version and exactly the API
    /// versions its discovery serves (Helm's built-in list does not apply).
    pub fn of_cluster(text: &str, api_versions: Vec<String>) -> Result<Self, String> {
        let version = masterminds_semver::Version::parse(text.trim_start_matches('v'))
            .map_err(|_| format!("invalid kube version {text:?}"))?;
        let canonical = format!("v{version}");
        let mut parts = canonical.trim_start_matches('v').split(['.', '-', '+']);
        let major = parts.next().unwrap_or("0").to_string();
        let minor = parts.next().unwrap_or("0").to_string();
        Ok(CapabilitiesInfo {
            kube_version: canonical,
            major,
            minor,
            api_versions,
        })
    }

    fn to_value(&self) -> Value {
        let kube = Struct {
            type_name: "chartutil.KubeVersion",
            fields: vec![
                Field::new("Version", "Version", Value::str(self.kube_version.as_str())),
                Field::new("Major", "Major", Value::str(self.major.as_str())),
                Field::new("Minor", "Minor", Value::str(self.minor.as_str())),
                Field {
                    name: "GitVersion",
                    json: None,
                    omit_empty: false,
                    value: Value::str(self.kube_version.as_str()),
                },
            ],
            stringer: Some(self.kube_version.clone()),
        };
        let helm = Struct {
            type_name: "version.BuildInfo",
            fields: vec![
                Field::new("Version", "version", Value::str(HELM_VERSION)),
                Field::new("GitCommit", "git_commit", Value::str(HELM_COMMIT)).omit_empty(),
                Field::new("GitTreeState", "git_tree_state", Value::str("clean")).omit_empty(),
                Field::new("GoVersion", "go_version", Value::str("go1.22.5")).omit_empty(),
            ],
            stringer: None,
        };
        let caps = Struct {
            type_name: "*chartutil.Capabilities",
            fields: vec![
                Field::new("KubeVersion", "KubeVersion", object(Object::Struct(kube))),
                Field::new(
                    "APIVersions",
                    "APIVersions",
                    object(Object::Embedded(Box::new(VersionSet(
                        self.api_versions.clone(),
                    )))),
                ),
                Field::new("HelmVersion", "HelmVersion", object(Object::Struct(helm))),
            ],
            stringer: None,
        };
        object(Object::Struct(caps))
    }
}

/// The Helm release whose template behaviour this renderer reproduces.
const HELM_VERSION: &str = "v3.15.3";
const HELM_COMMIT: &str = "3bb50bbbdd9c946ba9989fbe4fb4104766302a64";

/// `.Capabilities.APIVersions`: Helm's `chartutil.VersionSet`, a slice of strings with a
/// `Has` method.
#[derive(Debug)]
struct VersionSet(Vec<String>);

impl GoObject for VersionSet {
    fn type_name(&self) -> String {
        "chartutil.VersionSet".into()
    }

    fn kind_name(&self) -> &'static str {
        "slice"
    }

    fn truthy(&self) -> bool {
        !self.0.is_empty()
    }

    fn method(&self, name: &str) -> Option<Method> {
        (name == "Has").then_some(Method {
            params: &[Param::Str],
            call: |object, args| {
                let Some(VersionSet(versions)) = object.embedded() else {
                    unreachable!("Has is only looked up on a VersionSet")
                };
                let wanted = args[0].as_str().unwrap_or_default();
                Ok(Value::Bool(versions.iter().any(|v| v == wanted)))
            },
        })
    }

    fn list_items(&self) -> Option<Vec<Value>> {
        Some(self.0.iter().map(|v| Value::str(v.as_str())).collect())
    }

    fn go_string(&self) -> String {
        format!("[{}]", self.0.join(" "))
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!(self.0)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn object(o: Object) -> Value {
    Value::Object(Rc::new(o))
}

/// `chartutil.DefaultVersionSet` of Helm 3.15.
const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "autoscaling/v2beta1",
    "autoscaling/v2beta2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1alpha1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1alpha2",
    "scheduling.k8s.io/v1alpha1",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1alpha1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// One chart of the tree, with what its templates need.
pub struct ChartScope {
    /// `parent/charts/sub`: the prefix of its templates' names.
    pub full_path: String,
    pub metadata: Json,
    pub files: FileData,
    /// Subchart names from the root to this chart, to find its `.Values` section.
    pub values_path: Vec<String>,
}

/// One thread's template data: a `$` map per chart, sharing one values tree, as Helm's
/// maps are shared between the templates of a render.
pub struct Contexts {
    dots: Vec<Value>,
}

impl Contexts {
    pub fn new(
        scopes: &[ChartScope],
        values: &Json,
        release: &ReleaseInfo,
        capabilities: &CapabilitiesInfo,
    ) -> Contexts {
        let top = Value::from_json(values);
        let release = release_value(release);
        let capabilities = capabilities.to_value();
        let dots: Vec<Value> = scopes
            .iter()
            .map(|scope| {
                let mut dot = BTreeMap::new();
                dot.insert(
                    "Values".to_string(),
                    scoped_values(&top, &scope.values_path),
                );
                dot.insert(
                    "Chart".to_string(),
                    chart_value(&scope.metadata, scope.values_path.is_empty()),
                );
                dot.insert("Files".to_string(), Files::value(scope.files.clone()));
                dot.insert("Release".to_string(), release.clone());
                dot.insert("Capabilities".to_string(), capabilities.clone());
                Value::map(dot)
            })
            .collect();
        link_subcharts(scopes, &dots);
        Contexts { dots }
    }

    /// The chart's `$`, with `.Template` set for the file about to run.
    pub fn dot_for(&self, scope: usize, template_name: &str, base_path: &str) -> Value {
        let dot = self.dots[scope].clone();
        if let Value::Map(map) = &dot {
            let mut template = BTreeMap::new();
            template.insert("Name".to_string(), Value::str(template_name));
            template.insert("BasePath".to_string(), Value::str(base_path));
            map.borrow_mut()
                .insert("Template".to_string(), Value::map(template));
        }
        dot
    }
}

/// `.Subcharts`: each chart's direct subcharts by name, as their own `$` maps.
fn link_subcharts(scopes: &[ChartScope], dots: &[Value]) {
    for (i, scope) in scopes.iter().enumerate() {
        let children: BTreeMap<String, Value> = scopes
            .iter()
            .zip(dots)
            .filter(|(child, _)| {
                child.values_path.len() == scope.values_path.len() + 1
                    && child.values_path.starts_with(&scope.values_path)
            })
            .map(|(child, dot)| {
                (
                    child.values_path.last().cloned().unwrap_or_default(),
                    dot.clone(),
                )
            })
            .collect();
        if let Value::Map(map) = &dots[i] {
            map.borrow_mut()
                .insert("Subcharts".to_string(), Value::map(children));
        }
    }
}

/// A subchart's `.Values`: its section of the parent's, or a fresh empty map.
fn scoped_values(top: &Value, path: &[String]) -> Value {
    let mut current = top.clone();
    for name in path {
        let next = match &current {
            Value::Map(map) => map.borrow().get(name).cloned(),
            _ => None,
        };
        current = match next {
            Some(v @ Value::Map(_)) => v,
            _ => return Value::empty_map(),
        };
    }
    current
}

fn release_value(release: &ReleaseInfo) -> Value {
    let mut map = BTreeMap::new();
    map.insert("Name".to_string(), Value::str(release.name.as_str()));
    map.insert(
        "Namespace".to_string(),
        Value::str(release.namespace.as_str()),
    );
    map.insert("IsInstall".to_string(), Value::Bool(!release.is_upgrade));
    map.insert("IsUpgrade".to_string(), Value::Bool(release.is_upgrade));
    map.insert("Revision".to_string(), Value::Int(release.revision));
    map.insert("Service".to_string(), Value::str("Helm"));
    Value::map(map)
}

/// `.Chart`: Chart.yaml's fields under their Go names.
fn chart_value(metadata: &Json, is_root: bool) -> Value {
    let get = |key: &str| metadata.get(key).map_or(Value::Nil, Value::from_json);
    let text = |key: &str| Value::str(metadata.get(key).and_then(Json::as_str).unwrap_or_default());
    let list = |key: &str| match get(key) {
        Value::Nil => Value::list(Vec::new()),
        other => other,
    };
    let fields = vec![
        Field::new("Name", "name", text("name")),
        Field::new("Home", "home", text("home")).omit_empty(),
        Field::new("Sources", "sources", list("sources")).omit_empty(),
        Field::new("Version", "version", text("version")),
        Field::new("Description", "description", text("description")).omit_empty(),
        Field::new("Keywords", "keywords", list("keywords")).omit_empty(),
        Field::new(
            "Maintainers",
            "maintainers",
            structs(metadata, "maintainers", MAINTAINER),
        )
        .omit_empty(),
        Field::new("Icon", "icon", text("icon")).omit_empty(),
        Field::new("APIVersion", "apiVersion", text("apiVersion")),
        Field::new("Condition", "condition", text("condition")).omit_empty(),
        Field::new("Tags", "tags", text("tags")).omit_empty(),
        Field::new("AppVersion", "appVersion", text("appVersion")).omit_empty(),
        Field::new(
            "Deprecated",
            "deprecated",
            Value::Bool(
                metadata
                    .get("deprecated")
                    .and_then(Json::as_bool)
                    .unwrap_or(false),
            ),
        )
        .omit_empty(),
        Field::new(
            "Annotations",
            "annotations",
            match get("annotations") {
                Value::Nil => Value::empty_map(),
                other => other,
            },
        )
        .omit_empty(),
        Field::new("KubeVersion", "kubeVersion", text("kubeVersion")).omit_empty(),
        Field::new(
            "Dependencies",
            "dependencies",
            structs(metadata, "dependencies", DEPENDENCY),
        )
        .omit_empty(),
        Field::new("Type", "type", text("type")).omit_empty(),
        Field::new("IsRoot", "IsRoot", Value::Bool(is_root)),
    ];
    object(Object::Struct(Struct {
        type_name: "chart.Metadata",
        fields,
        stringer: None,
    }))
}

/// Go field name, JSON key, and whether `encoding/json` omits it when empty.
type FieldSpec = (&'static str, &'static str, bool);

const MAINTAINER: (&str, &[FieldSpec]) = (
    "*chart.Maintainer",
    &[
        ("Name", "name", true),
        ("Email", "email", true),
        ("URL", "url", true),
    ],
);

const DEPENDENCY: (&str, &[FieldSpec]) = (
    "*chart.Dependency",
    &[
        ("Name", "name", false),
        ("Version", "version", true),
        ("Repository", "repository", false),
        ("Condition", "condition", true),
        ("Tags", "tags", true),
        ("Enabled", "enabled", true),
        ("ImportValues", "import-values", true),
        ("Alias", "alias", true),
    ],
);

/// A list of Chart.yaml entries as Go structs, so `.Name` finds `name`.
fn structs(metadata: &Json, key: &str, (type_name, specs): (&'static str, &[FieldSpec])) -> Value {
    let items = metadata
        .get(key)
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    let objects = items
        .iter()
        .map(|item| {
            let fields = specs
                .iter()
                .map(|&(go, json, omit)| {
                    let value = match item.get(json) {
                        Some(v) => Value::from_json(v),
                        None if go == "Enabled" => Value::Bool(true),
                        None if go == "Tags" || go == "ImportValues" => Value::list(Vec::new()),
                        None => Value::str(""),
                    };
                    let field = Field::new(go, json, value);
                    if omit { field.omit_empty() } else { field }
                })
                .collect();
            object(Object::Struct(Struct {
                type_name,
                fields,
                stringer: None,
            }))
        })
        .collect();
    Value::list(objects)
}
