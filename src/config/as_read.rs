//! Each state file as orch read it, for `orch build`: its documents rendered and merged, its
//! releases as templates, inheritance and the release pass left them, and the values it was
//! rendered with, in the shape of helmfile's `build`. Nothing from a secrets file and no
//! repository password is kept.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::error::ConfigError;
use super::schema::{self, HookDoc, ReleaseDoc};
use super::states::{Part, TOP_STATE};
use super::{Environment, FileSettings, source, values, yaml};

/// What a hidden value is shown as.
const HIDDEN: &str = "(hidden)";

pub struct StateAsRead {
    pub path: PathBuf,
    /// Its top-level keys but `releases`, from its bases' documents and its own, later
    /// ones over earlier ones.
    pub doc: Map<String, Value>,
    /// Each release as read, with its index in `Spec::releases`.
    pub releases: Vec<(usize, Value)>,
    /// Its environment's values, those from secrets files hidden.
    pub values: Value,
    /// The position of its last part: helmfile shows a state after its sub-helmfiles.
    last_part: usize,
    /// The texts of its secrets' values: a state file may render one into a field.
    secret_texts: Vec<String>,
}

/// The states of the parts added.
#[derive(Default)]
pub struct StatesAsRead {
    states: Vec<StateAsRead>,
    /// The file index each of `states` is keyed by.
    keys: Vec<usize>,
}

impl StatesAsRead {
    /// Adds `part` to its state's document; `files` are the loader's, `environment` the
    /// part's state's.
    pub fn add_part(
        &mut self,
        part: &Part,
        position: usize,
        files: &[PathBuf],
        environment: &Environment,
    ) -> Result<(), ConfigError> {
        let index = self.state_of(part, files, environment);
        self.states[index].last_part = position;
        let path = &files[part.file];
        let tree = yaml::parse_tree(&part.text, path, part.first_line)?;
        let Ok(Value::Object(mut doc)) = serde_json::to_value(tree) else {
            return Ok(());
        };
        doc.remove("releases");
        if let Some(Value::Array(repositories)) = doc.get_mut("repositories") {
            for repository in repositories {
                if let Some(password) = repository.get_mut("password") {
                    *password = Value::String(HIDDEN.into());
                }
            }
        }
        if let Some(Value::Array(entries)) = doc.get_mut("helmfiles") {
            let dir = path.parent().unwrap_or(Path::new(""));
            *entries = expanded_helmfiles(entries, &part.sub_helmfiles, dir);
        }
        typed_hooks(doc.get_mut("hooks"));
        if let Some(Value::Object(templates)) = doc.get_mut("templates") {
            for template in templates.values_mut() {
                set_values_as_text(template);
                typed_hooks(template.get_mut("hooks"));
                // Read into helmfile's release fields, which are `omitempty`.
                if let Some(fields) = template.as_object_mut() {
                    fields.retain(|_, value| !is_empty(value));
                }
            }
        }
        let mut doc = Value::Object(doc);
        hide_texts(&mut doc, &self.states[index].secret_texts);
        let mut merged = Value::Object(std::mem::take(&mut self.states[index].doc));
        values::merge(&mut merged, doc);
        if let Value::Object(merged) = merged {
            self.states[index].doc = merged;
        }
        Ok(())
    }

    /// Adds a release of `part`'s state: `doc` as the release pass left it, with its
    /// state's `namespace` and `kubeContext` applied, its needs written in full, and the
    /// chart directory it renders, as helmfile shows them.
    pub fn add_release(
        &mut self,
        part: &Part,
        release: usize,
        doc: &ReleaseDoc,
        settings: &FileSettings,
        base_dir: &Path,
    ) {
        let Some(index) = self.keys.iter().position(|&k| k == key_of(part)) else {
            return;
        };
        let Ok(mut shown) = serde_json::to_value(doc) else {
            return;
        };
        let namespace = settings.namespace.as_deref().or(doc.namespace.as_deref());
        // The state's kubeContext over the release's, over helmDefaults'.
        let kube_context = (settings.kube_context.as_ref())
            .or(doc.kube_context.as_ref())
            .or(settings.helm_defaults.kube_context.as_ref());
        if let Some(namespace) = namespace {
            shown["namespace"] = Value::String(namespace.into());
        }
        if let Some(kube_context) = kube_context {
            shown["kubeContext"] = Value::String(kube_context.clone());
        }
        let kube_context = kube_context.map(String::as_str);
        // A release takes its state's (it has no keys of its own for them in orch).
        if !settings.api_versions.is_empty() {
            shown["apiVersions"] = json!(settings.api_versions);
        }
        if let Some(kube_version) = &settings.kube_version {
            shown["kubeVersion"] = Value::String(kube_version.clone());
        }
        if !doc.needs.is_empty() {
            let needs = doc
                .needs
                .iter()
                .map(|need| Value::String(full_need(need, namespace, kube_context)))
                .collect();
            shown["needs"] = Value::Array(needs);
        }
        if let Some(chart_path) = chart_path(doc, base_dir) {
            shown["chartPath"] = Value::String(chart_path);
        }
        hide_texts(&mut shown, &self.states[index].secret_texts);
        self.states[index]
            .releases
            .push((release, in_helmfile_order(shown)));
    }

    /// The states, in the order helmfile visits them: a state after the sub-helmfiles it
    /// names.
    pub fn into_states(mut self) -> Vec<StateAsRead> {
        self.states.sort_by_key(|state| state.last_part);
        for state in &mut self.states {
            let doc = &mut state.doc;
            // helmfile's old `context` is helmDefaults' kubeContext, unless that is set.
            if let Some(context) = doc.get("context").cloned() {
                let defaults = doc.entry("helmDefaults").or_insert_with(|| json!({}));
                if defaults.get("kubeContext").is_none() {
                    defaults["kubeContext"] = context;
                }
            }
            if let Some(defaults) = doc.get_mut("helmDefaults") {
                *defaults = helm_defaults_in_full(defaults);
            }
            // An environment written empty (`default:`) is one with nothing set.
            if let Some(Value::Object(environments)) = doc.get_mut("environments") {
                for environment in environments.values_mut().filter(|e| e.is_null()) {
                    *environment = json!({});
                }
            }
            // helmfile's fields are `omitempty`, but for `templates`.
            doc.retain(|key, value| key == "templates" || !is_empty(value));
            doc.entry("templates").or_insert_with(|| json!({}));
        }
        self.states
    }

    fn state_of(&mut self, part: &Part, files: &[PathBuf], environment: &Environment) -> usize {
        let key = key_of(part);
        if let Some(index) = self.keys.iter().position(|&k| k == key) {
            return index;
        }
        self.keys.push(key);
        self.states.push(StateAsRead {
            path: files[key].clone(),
            doc: Map::new(),
            releases: Vec::new(),
            values: hide(environment.values.clone(), &environment.secret_values),
            last_part: 0,
            secret_texts: leaf_texts(&environment.secret_values),
        });
        self.states.len() - 1
    }
}

/// A `helmfiles` list as helmfile shows it once read: an entry per file its globs matched,
/// each a map with its path relative to `dir`, `selectorsInherited` only when true.
fn expanded_helmfiles(entries: &[Value], files: &[(usize, PathBuf)], dir: &Path) -> Vec<Value> {
    files
        .iter()
        .filter_map(|(entry, file)| {
            let mut shown = match entries.get(*entry)? {
                Value::Object(map) => map.clone(),
                _ => Map::new(),
            };
            let path = file.strip_prefix(dir).unwrap_or(file);
            shown.insert("path".into(), Value::String(path.display().to_string()));
            if shown.get("selectorsInherited") == Some(&Value::Bool(false)) {
                shown.remove("selectorsInherited");
            }
            Some(Value::Object(shown))
        })
        .collect()
}

/// helmfile's order of a release's fields, which `build` shows them in.
const RELEASE_KEY_ORDER: [&str; 48] = [
    "chart",
    "chartPath",
    "version",
    "verify",
    "devel",
    "wait",
    "waitForJobs",
    "timeout",
    "recreatePods",
    "force",
    "installed",
    "atomic",
    "cleanupOnFail",
    "historyMax",
    "condition",
    "createNamespace",
    "disableOpenAPIValidation",
    "disableValidation",
    "disableValidationOnInstall",
    "missingFileHandler",
    "needs",
    "hooks",
    "name",
    "namespace",
    "labels",
    "values",
    "secrets",
    "set",
    "valuesTemplate",
    "setTemplate",
    "apiVersions",
    "kubeVersion",
    "kubeContext",
    "dependencies",
    "jsonPatches",
    "strategicMergePatches",
    "transformers",
    "forceNamespace",
    "skipDeps",
    "postRenderer",
    "postRendererArgs",
    "suppressOutputLineRegex",
    "suppressDiff",
    "reuseValues",
    "cascade",
    "inherit",
    "deleteWait",
    "deleteTimeout",
];

/// `release`'s keys in helmfile's order, any other after them.
fn in_helmfile_order(release: Value) -> Value {
    let Value::Object(mut fields) = release else {
        return release;
    };
    let mut ordered = Map::new();
    for key in RELEASE_KEY_ORDER {
        if let Some(value) = fields.remove(key) {
            ordered.insert(key.into(), value);
        }
    }
    ordered.append(&mut fields);
    Value::Object(ordered)
}

/// What Go's `omitempty` leaves out.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Hooks as helmfile reads them: with an empty name, and `showlogs` false, when not given.
fn typed_hooks(hooks: Option<&mut Value>) {
    let Some(Value::Array(hooks)) = hooks else {
        return;
    };
    for hook in hooks {
        if let Ok(typed) = serde_json::from_value::<HookDoc>(hook.clone()) {
            *hook = serde_json::to_value(typed).unwrap_or_default();
        }
    }
}

/// A release template's `set` values as text, as helmfile reads a template into a release.
fn set_values_as_text(template: &mut Value) {
    for key in ["set", "setTemplate"] {
        let Some(Value::Array(entries)) = template.get_mut(key) else {
            continue;
        };
        for entry in entries {
            if entry.get("value").is_some_and(Value::is_null) {
                entry.as_object_mut().map(|e| e.remove("value"));
            } else if let Some(value) = entry.get_mut("value") {
                *value = schema::as_text(value);
            }
            if let Some(Value::Array(values)) = entry.get_mut("values") {
                values.iter_mut().for_each(|v| *v = schema::as_text(v));
            }
        }
    }
}

/// helmfile's helmDefaults flags and durations that have no `omitempty`: shown as false
/// and 0 when not set.
const HELM_DEFAULTS_FLAGS: [&str; 11] = [
    "verify",
    "enableDNS",
    "devel",
    "wait",
    "waitForJobs",
    "recreatePods",
    "force",
    "atomic",
    "skipDeps",
    "reuseValues",
    "deleteWait",
];
const HELM_DEFAULTS_DURATIONS: [&str; 2] = ["timeout", "deleteTimeout"];

/// `helmDefaults` as helmfile shows them: every field without `omitempty` there, and none
/// of those with it that are empty.
fn helm_defaults_in_full(written: &Value) -> Value {
    let mut shown = written.as_object().cloned().unwrap_or_default();
    shown.retain(|key, value| {
        let flag_with_omitempty =
            ["cleanupOnFail", "insecureSkipTLSVerify"].contains(&key.as_str());
        let zero_flag = flag_with_omitempty && value == &Value::Bool(false);
        !is_empty(value) && !zero_flag
    });
    for key in HELM_DEFAULTS_FLAGS {
        shown.entry(key).or_insert(Value::Bool(false));
    }
    for key in HELM_DEFAULTS_DURATIONS {
        shown.entry(key).or_insert(Value::from(0));
    }
    Value::Object(shown)
}

/// The directory helmfile renders a plain local chart from, when it is not the chart as
/// written (`./charts/web` is `charts/web`). A chart helmfile would first turn into a new
/// one (for `dependencies`, patches, transformers, or a directory without a Chart.yaml)
/// gets none: helmfile shows a temporary directory there.
fn chart_path(doc: &ReleaseDoc, base_dir: &Path) -> Option<String> {
    let dir = super::local_chart_dir(&doc.chart, base_dir)?;
    let changed = !doc.dependencies.is_empty()
        || !doc.json_patches.is_empty()
        || !doc.strategic_merge_patches.is_empty()
        || !doc.transformers.is_empty()
        || doc.force_namespace.is_some()
        || !dir.join("Chart.yaml").is_file();
    let cleaned = source::join(Path::new(""), &doc.chart)
        .display()
        .to_string();
    (!changed && cleaned != doc.chart).then_some(cleaned)
}

/// Each releases file given is a state of its own here, as helmfile builds each file of a
/// `helmfile.d`; a sub-helmfile (with its bases) is one.
fn key_of(part: &Part) -> usize {
    if part.state == TOP_STATE {
        part.top
    } else {
        part.state
    }
}

/// A need as `[kubecontext/]namespace/name`, filled in from the release's own, as helmfile
/// writes them once it has read a release.
fn full_need(need: &str, namespace: Option<&str>, kube_context: Option<&str>) -> String {
    let mut components: Vec<&str> = need.split('/').collect();
    let name = components.pop().unwrap_or_default();
    let namespace = components.pop().or(namespace).unwrap_or_default();
    let kube_context = if components.is_empty() {
        kube_context.unwrap_or_default().to_string()
    } else {
        components.join("/")
    };
    // `context//name` and `namespace/name` stay apart, as in helmfile.
    match (kube_context.is_empty(), namespace.is_empty()) {
        (true, true) => name.to_string(),
        (true, false) => format!("{namespace}/{name}"),
        (false, _) => format!("{kube_context}/{namespace}/{name}"),
    }
}

/// `values` with every value `secrets` has at the same place hidden.
fn hide(values: Value, secrets: &Value) -> Value {
    match (values, secrets) {
        (Value::Object(mut values), Value::Object(secrets)) => {
            for (key, secret) in secrets {
                if let Some(value) = values.get_mut(key) {
                    *value = hide(value.take(), secret);
                }
            }
            Value::Object(values)
        }
        _ => Value::String(HIDDEN.into()),
    }
}

/// Every string and number of `secrets`, as text.
fn leaf_texts(secrets: &Value) -> Vec<String> {
    match secrets {
        Value::Object(map) => map.values().flat_map(leaf_texts).collect(),
        Value::Array(items) => items.iter().flat_map(leaf_texts).collect(),
        Value::String(text) if !text.is_empty() => vec![text.clone()],
        Value::Number(number) => vec![number.to_string()],
        _ => Vec::new(),
    }
}

/// Every string of `value` that holds one of `texts` hidden.
fn hide_texts(value: &mut Value, texts: &[String]) {
    match value {
        Value::Object(map) => map.values_mut().for_each(|v| hide_texts(v, texts)),
        Value::Array(items) => items.iter_mut().for_each(|v| hide_texts(v, texts)),
        Value::String(text) if texts.iter().any(|secret| text.contains(secret.as_str())) => {
            *text = HIDDEN.into();
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_are_written_in_full_as_helmfile_shows_them() {
        assert_eq!(full_need("db", Some("data"), None), "data/db");
        assert_eq!(full_need("other/db", Some("data"), None), "other/db");
        assert_eq!(full_need("db", None, None), "db");
        assert_eq!(full_need("db", Some("data"), Some("prod")), "prod/data/db");
        assert_eq!(full_need("db", None, Some("prod")), "prod//db");
        assert_eq!(full_need("eu/west/ns/db", None, None), "eu/west/ns/db");
    }

    #[test]
    fn values_from_secrets_files_are_hidden_at_any_depth() {
        let values = json!({"db": {"user": "app", "password": "s3cret"}, "token": "t", "n": 1});
        let secrets = json!({"db": {"password": "s3cret"}, "token": "t"});
        assert_eq!(
            hide(values, &secrets),
            json!({"db": {"user": "app", "password": HIDDEN}, "token": HIDDEN, "n": 1})
        );
        // A secret's text rendered into a field is hidden there too.
        let mut fields = json!({"values": [{"token": "t-s3cret-x"}], "name": "app"});
        hide_texts(&mut fields, &leaf_texts(&json!({"a": {"b": "s3cret"}})));
        assert_eq!(
            fields,
            json!({"values": [{"token": HIDDEN}], "name": "app"})
        );
        // A secret map where a plain value was merged over it hides the whole value.
        assert_eq!(
            hide(json!({"db": "plain"}), &json!({"db": {"password": "x"}})),
            json!({"db": HIDDEN})
        );
    }
}
