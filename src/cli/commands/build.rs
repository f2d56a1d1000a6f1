use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::{Map, Value};

use crate::cli::GlobalArgs;
use crate::cli::session::Session;
use crate::config::{HookEvent, ReleaseSpec};

/// helmfile's order of a state's top-level keys, which `build` prints them in.
const KEY_ORDER: [&str; 17] = [
    "values",
    "environments",
    "helmDefaults",
    "helmfiles",
    "context",
    "kubeContext",
    "namespace",
    "repositories",
    "commonLabels",
    "releases",
    "apiVersions",
    "kubeVersion",
    "hooks",
    "templates",
    "missingFileHandler",
    "missingFileHandlerConfig",
    "lockFilePath",
];

/// Prints each state file as read, in the shape of `helmfile build`: the selected releases
/// after templates, inheritance and the release pass, and the values the file was rendered
/// with. Values from secrets files and repository passwords are hidden.
pub fn run(global: &GlobalArgs) -> Result<ExitCode> {
    let session = Session::load_keeping_states(global, true)?;
    // helmfile's build prepares the charts: it runs the prepare hooks, and the states' own
    // cleanup ones, not the releases'.
    session.run_hooks(global, HookEvent::Prepare)?;
    let selected = !global.selectors.is_empty();
    let mut out = String::new();
    for state in &session.spec.states_as_read {
        let mut doc = state.doc.clone();
        let releases: Vec<Value> = state
            .releases
            .iter()
            .filter(|(index, _)| session.plan.selected[*index])
            .map(|(index, shown)| shown_release(&session.spec.releases[*index], shown, selected))
            .collect::<Result<_>>()?;
        if !releases.is_empty() {
            doc.insert("releases".into(), Value::Array(releases));
        }

        let mut shown = Map::new();
        // helmfile's `filepath` is the file's name in its directory, the Source its path.
        let name = state.path.file_name().unwrap_or(state.path.as_os_str());
        let name = name.to_string_lossy().into_owned();
        shown.insert("filepath".into(), Value::String(name));
        let helm = global.helm_binary().display().to_string();
        shown.insert("helmBinary".into(), Value::String(helm));
        let kustomize = global.kustomize_binary.display().to_string();
        shown.insert("kustomizeBinary".into(), Value::String(kustomize));
        for key in KEY_ORDER {
            if let Some(value) = doc.remove(key) {
                shown.insert(key.into(), value);
            }
        }
        shown.append(&mut doc);
        shown.insert("renderedvalues".into(), state.values.clone());

        let source = std::path::absolute(&state.path).unwrap_or_else(|_| state.path.clone());
        out.push_str(&format!("---\n#  Source: {}\n\n", source.display()));
        // go-yaml's quoting: a YAML 1.1 reader takes `"yes"` for a string too.
        out.push_str(&helm_engine::json_to_yaml_in_order(&Value::Object(shown)));
        out.push('\n');
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    session.run_hooks_of(global, HookEvent::Cleanup, &[])?;
    Ok(ExitCode::SUCCESS)
}

/// A release as read, with what selecting, the lock file and preparing the charts made
/// of it in helmfile.
fn shown_release(release: &ReleaseSpec, as_read: &Value, selected: bool) -> Result<Value> {
    let mut shown = as_read.clone();
    let Some(fields) = shown.as_object_mut() else {
        return Ok(shown);
    };
    let labels = crate::plan::labels_as_listed(release, selected);
    if labels.is_empty() {
        fields.remove("labels");
    } else {
        fields.insert("labels".into(), serde_json::to_value(labels)?);
    }
    // helmfile reads its lock file's versions into the releases.
    if let Some(locked) = &release.locked_version {
        fields.insert("version".into(), Value::String(locked.clone()));
    }
    // helmfile prepares the charts of the releases it would install only.
    if !release.desired() {
        fields.remove("chartPath");
    }
    Ok(shown)
}
