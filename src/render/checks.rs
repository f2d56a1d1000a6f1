//! Checks on rendered releases that hold for any cluster: every object is identifiable, and
//! no two releases claim the same object.

use std::collections::HashMap;

use serde_json::Value;

use crate::config::Spec;

use super::{ObjectKey, RenderedRelease};

/// What the rendered documents must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Documents {
    /// Kubernetes objects, each identifiable: what goes to a cluster.
    Objects,
    /// Any YAML, as `helm template` prints it: a chart may render files that are not
    /// objects (helmfile's own tests render such).
    AnyYaml,
}

/// Every problem found, one line each, naming where the release is defined, the release and
/// the template.
pub fn problems(spec: &Spec, rendered: &[RenderedRelease], documents: Documents) -> Vec<String> {
    let mut problems = Vec::new();
    let mut owners: HashMap<ObjectKey, (usize, &str)> = HashMap::new();
    for release in rendered {
        let spec_release = &spec.releases[release.index];
        let id = &spec_release.id;
        let at = &spec_release.defined_at;
        for manifest in &release.manifests {
            let object = &manifest.object;
            let unusable: Vec<String> = [
                ("apiVersion", object.get("apiVersion")),
                ("kind", object.get("kind")),
                (
                    "metadata.name",
                    object.get("metadata").and_then(|m| m.get("name")),
                ),
            ]
            .into_iter()
            .filter_map(|(field, value)| match value {
                Some(Value::String(text)) if !text.is_empty() => None,
                None | Some(Value::Null) => Some(format!("missing {field}")),
                Some(_) => Some(format!("{field} is not a non-empty string")),
            })
            .collect();
            if !unusable.is_empty() {
                let problem = format!(
                    "{at}: release {id}: {}: {}",
                    manifest.source,
                    unusable.join(", ")
                );
                match documents {
                    Documents::Objects => problems.push(problem),
                    Documents::AnyYaml => {
                        tracing::warn!("{problem}: not an object any cluster can take")
                    }
                }
                continue;
            }
            let Some(key) = manifest.key(&id.namespace) else {
                continue;
            };
            // Hooks are recreated on every run; only regular objects are owned.
            if manifest.hook().is_some() {
                continue;
            }
            if let Some((other, source)) =
                owners.insert(key.clone(), (release.index, &manifest.source))
            {
                let other_id = &spec.releases[other].id;
                problems.push(format!(
                    "{at}: release {id}: {}: {key} is also rendered by release {other_id} ({source})",
                    manifest.source
                ));
            }
        }
    }
    problems
}
