//! A release's `jsonPatches` (RFC 6902), applied to its rendered objects as helmfile has
//! kustomize apply them: each patch to every object its target matches, in order. A patch
//! that matches nothing, or whose operations fail, is an error naming it.

use serde_json::Value;

use crate::config::{JsonPatch, PatchTargetDoc};

use super::manifest::Manifest;

pub fn apply(
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
            // Written as helm writes YAML, so that kubectl reads back the same types.
            manifest.text = helm_engine::json_to_yaml(&object) + "\n";
            manifest.object = object;
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

fn targets(target: &PatchTargetDoc, object: &Value, release_namespace: &str) -> bool {
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
        apply(&patches, &mut manifests, "ns").unwrap();
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
        apply(&patches, &mut manifests, "ns").unwrap();
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
        let err = apply(&none, &mut manifests, "ns").unwrap_err();
        assert!(
            err.contains("no rendered object matches its target (kind=Secret)"),
            "{err}"
        );
        let failing = [patch(
            r#"{"kind": "ConfigMap"}"#,
            r#"[{"op": "remove", "path": "/data/x"}]"#,
        )];
        let err = apply(&failing, &mut manifests, "ns").unwrap_err();
        assert!(err.starts_with("jsonPatches[0]: c/t.yaml: "), "{err}");
    }
}
