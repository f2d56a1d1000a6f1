//! What helmfile has chartify and kustomize do to a release's rendered objects, in their
//! order (checked against helmfile 0.166): `forceNamespace` (so patches name the forced
//! namespace, as in helmfile), then `jsonPatches` (RFC 6902, each to every object its target
//! matches), then `strategicMergePatches` (each to the object it names; one that names no
//! namespace, to that object in any), then `transformers`. A patch that matches nothing,
//! or whose operations fail, is an error naming it.

use serde_json::Value;

use crate::config::{JsonPatch, PatchTargetDoc, ReleaseSpec};

use super::manifest::{Manifest, is_cluster_scoped};
use super::strategic_merge;

pub fn apply(release: &ReleaseSpec, manifests: &mut [Manifest]) -> Result<(), String> {
    let namespace = match &release.force_namespace {
        Some(forced) => {
            force_namespace(forced, manifests)?;
            forced
        }
        None => &release.id.namespace,
    };
    json_patches(&release.json_patches, manifests, namespace)?;
    strategic_merge_patches(&release.strategic_merge_patches, manifests, namespace)?;
    super::transformers::apply(&release.transformers, manifests)
}

fn strategic_merge_patches(
    patches: &[Value],
    manifests: &mut [Manifest],
    release_namespace: &str,
) -> Result<(), String> {
    for (index, patch) in patches.iter().enumerate() {
        let text = |pointer: &str| patch.pointer(pointer).and_then(Value::as_str);
        let (Some(api_version), Some(kind), Some(name)) =
            (text("/apiVersion"), text("/kind"), text("/metadata/name"))
        else {
            return Err(format!(
                "strategicMergePatches[{index}]: a patch names its object with apiVersion, kind and metadata.name"
            ));
        };
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let target = PatchTargetDoc {
            group: Some(group.to_string()),
            version: Some(version.to_string()),
            kind: Some(kind.to_string()),
            name: Some(name.to_string()),
            namespace: text("/metadata/namespace").map(str::to_string),
        };
        let built_in = strategic_merge::is_built_in(api_version);
        let mut matched = false;
        for manifest in manifests.iter_mut() {
            if targets(&target, &manifest.object, release_namespace) {
                matched = true;
                let mut object = manifest.whole_object()?;
                strategic_merge::merge(&mut object, patch.clone(), kind, built_in);
                replace_object(manifest, object);
            }
        }
        if !matched {
            return Err(format!(
                "strategicMergePatches[{index}]: no rendered object is {}",
                describe(&target)
            ));
        }
    }
    Ok(())
}

fn json_patches(
    patches: &[JsonPatch],
    manifests: &mut [Manifest],
    release_namespace: &str,
) -> Result<(), String> {
    for (index, patch) in patches.iter().enumerate() {
        let mut matched = false;
        for manifest in manifests.iter_mut() {
            if !targets(&patch.target, &manifest.object, release_namespace) {
                continue;
            }
            matched = true;
            // A document read only as far as its head is read whole before it changes.
            let mut object = manifest.whole_object()?;
            json_patch::patch(&mut object, &patch.patch)
                .map_err(|e| format!("jsonPatches[{index}]: {}: {e}", manifest.source))?;
            replace_object(manifest, object);
        }
        if !matched {
            return Err(format!(
                "jsonPatches[{index}]: no rendered object matches its target {}",
                describe(&patch.target)
            ));
        }
    }
    Ok(())
}

/// Every namespaced object into `namespace`, as kustomize's `namespace:` puts them.
fn force_namespace(namespace: &str, manifests: &mut [Manifest]) -> Result<(), String> {
    for manifest in manifests.iter_mut() {
        let kind = manifest.kind().unwrap_or_default().to_string();
        let api_version = manifest.api_version().unwrap_or_default();
        let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
        if kind.is_empty() || is_cluster_scoped(group, &kind) {
            continue;
        }
        let mut object = manifest.whole_object()?;
        if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.insert("namespace".into(), Value::String(namespace.to_string()));
            replace_object(manifest, object);
        }
    }
    Ok(())
}

/// A manifest's object changed: its text written as helm writes YAML, so that kubectl reads
/// back the same types.
pub(super) fn replace_object(manifest: &mut Manifest, object: Value) {
    manifest.text = helm_engine::json_to_yaml(&object) + "\n";
    manifest.object = object;
}

/// Whether `object` is one `target` names; an object naming no namespace is in
/// `release_namespace`.
pub(super) fn targets(target: &PatchTargetDoc, object: &Value, release_namespace: &str) -> bool {
    let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
    let api_version = text("/apiVersion").unwrap_or_default();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let namespace = text("/metadata/namespace").unwrap_or(release_namespace);
    let wanted = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
    wanted(&target.group, group)
        && wanted(&target.version, version)
        && wanted(&target.kind, text("/kind").unwrap_or_default())
        && wanted(&target.name, text("/metadata/name").unwrap_or_default())
        && wanted(&target.namespace, namespace)
}

fn describe(target: &PatchTargetDoc) -> String {
    let fields = [
        ("group", &target.group),
        ("version", &target.version),
        ("kind", &target.kind),
        ("name", &target.name),
        ("namespace", &target.namespace),
    ];
    let given: Vec<String> = fields
        .iter()
        .filter_map(|(key, value)| value.as_ref().map(|v| format!("{key}={v}")))
        .collect();
    format!("({})", given.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::manifest::{Reading, split};

    fn patch(target: &str, operations: &str) -> JsonPatch {
        JsonPatch {
            target: serde_json::from_str(target).unwrap(),
            patch: serde_json::from_str(operations).unwrap(),
        }
    }

    #[test]
    fn a_patch_changes_the_objects_its_target_matches_text_included() {
        let mut manifests = split(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 1}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n",
            "c/t.yaml",
            Reading::Heads,
        )
        .unwrap();
        let patches = [patch(
            r#"{"group": "apps", "kind": "Deployment", "name": "web"}"#,
            r#"[{"op": "replace", "path": "/spec/replicas", "value": 3}]"#,
        )];
        json_patches(&patches, &mut manifests, "ns").unwrap();
        assert_eq!(manifests[0].object["spec"]["replicas"], 3);
        assert!(
            manifests[0].text.contains("replicas: 3"),
            "{}",
            manifests[0].text
        );
        assert!(manifests[1].object.get("spec").is_none());
        // Text that reads back as the same object, in YAML 1.1 (`yes` would be a boolean).
        let patches = [patch(
            r#"{"kind": "ConfigMap"}"#,
            r#"[{"op": "add", "path": "/data", "value": {"flag": "yes", "mode": "0755"}}]"#,
        )];
        json_patches(&patches, &mut manifests, "ns").unwrap();
        assert_eq!(manifests[1].whole_object().unwrap(), manifests[1].object);
    }

    #[test]
    fn a_patch_that_matches_nothing_or_fails_is_an_error() {
        let mut manifests = split(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
            "c/t.yaml",
            Reading::Whole,
        )
        .unwrap();
        let none = [patch(r#"{"kind": "Secret"}"#, "[]")];
        let err = json_patches(&none, &mut manifests, "ns").unwrap_err();
        assert!(
            err.contains("no rendered object matches its target (kind=Secret)"),
            "{err}"
        );
        let failing = [patch(
            r#"{"kind": "ConfigMap"}"#,
            r#"[{"op": "remove", "path": "/data/x"}]"#,
        )];
        let err = json_patches(&failing, &mut manifests, "ns").unwrap_err();
        assert!(err.starts_with("jsonPatches[0]: c/t.yaml: "), "{err}");
    }
}
