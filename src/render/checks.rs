//! Checks on rendered releases that hold for any cluster: every object is identifiable, and
//! no two releases claim the same object.

use std::collections::HashMap;

use crate::config::Spec;

use super::{ObjectKey, RenderedRelease};

/// Every problem found, one line each, naming the release and the template.
pub fn problems(spec: &Spec, rendered: &[RenderedRelease]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut owners: HashMap<ObjectKey, (usize, &str)> = HashMap::new();
    for release in rendered {
        let spec_release = &spec.releases[release.index];
        let id = &spec_release.id;
        for manifest in &release.manifests {
            let missing: Vec<&str> = [
                ("apiVersion", manifest.api_version().is_none()),
                ("kind", manifest.kind().is_none()),
                ("metadata.name", manifest.name().is_none()),
            ]
            .into_iter()
            .filter_map(|(field, absent)| absent.then_some(field))
            .collect();
            if !missing.is_empty() {
                problems.push(format!(
                    "release {id}: {}: missing {}",
                    manifest.source,
                    missing.join(", ")
                ));
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
                    "release {id}: {}: {key} is also rendered by release {other_id} ({source})",
                    manifest.source
                ));
            }
        }
    }
    problems
}
