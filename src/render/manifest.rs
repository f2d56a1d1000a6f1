//! Rendered manifests: YAML documents with the template they came from, parsed once, as
//! kubectl and helm read them (YAML 1.1: `defaultMode: 0755` is 493), whichever renderer
//! made them; whole for a cluster, or only as far as what identifies each object.

use std::fmt;

use rayon::prelude::*;
use serde_json::Value;

/// One rendered object.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The template it came from, as Helm's `# Source:` comment names it.
    pub source: String,
    /// The document's text, without the `---` line and the `# Source:` comment.
    pub text: String,
    /// The object; when read for [`Reading::Heads`], perhaps only its top-level fields up
    /// to `apiVersion`, `kind` and `metadata`.
    pub object: Value,
}

/// How much of each rendered document is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// All of it: what goes to a cluster.
    Whole,
    /// What identifies the object, where the renderer has not read more: enough to print,
    /// list and check manifests, without reading megabytes of CRD schemas.
    Heads,
}

/// Group, kind, namespace and name: what makes two objects the same object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        };
        match &self.namespace {
            Some(namespace) => write!(f, "{kind} {namespace}/{}", self.name),
            None => write!(f, "{kind} {}", self.name),
        }
    }
}

impl Manifest {
    /// The object read whole from its text, whatever [`Reading`] read it first.
    pub fn whole_object(&self) -> Result<Value, String> {
        helm_engine::yaml_to_json(&self.text).map_err(|e| format!("{}: {e}", self.source))
    }

    pub fn api_version(&self) -> Option<&str> {
        self.object.get("apiVersion")?.as_str()
    }

    pub fn kind(&self) -> Option<&str> {
        self.object.get("kind")?.as_str()
    }

    pub fn name(&self) -> Option<&str> {
        self.object.get("metadata")?.get("name")?.as_str()
    }

    /// Helm hook annotation (`helm.sh/hook`), if the object is a hook.
    pub fn hook(&self) -> Option<&str> {
        self.object
            .get("metadata")?
            .get("annotations")?
            .get("helm.sh/hook")?
            .as_str()
    }

    /// The object's identity, with the release namespace for namespaced objects that name
    /// none. `None` when the object lacks a kind or name.
    pub fn key(&self, release_namespace: &str) -> Option<ObjectKey> {
        let kind = self.kind()?.to_string();
        let group = self
            .api_version()?
            .rsplit_once('/')
            .map_or("", |(group, _)| group)
            .to_string();
        let namespace = if is_cluster_scoped(&group, &kind) {
            None
        } else {
            let explicit = self
                .object
                .get("metadata")
                .and_then(|m| m.get("namespace"))
                .and_then(Value::as_str);
            Some(explicit.unwrap_or(release_namespace).to_string())
        };
        Some(ObjectKey {
            group,
            kind,
            namespace,
            name: self.name()?.to_string(),
        })
    }
}

/// Built-in kinds that are not namespaced. Offline there is no discovery to ask; the
/// cluster stage asks the API server instead.
pub(super) fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("", "Namespace" | "Node" | "PersistentVolume")
            | (
                "rbac.authorization.k8s.io",
                "ClusterRole" | "ClusterRoleBinding"
            )
            | ("apiextensions.k8s.io", "CustomResourceDefinition")
            | (
                "storage.k8s.io",
                "StorageClass" | "CSIDriver" | "VolumeAttachment"
            )
            | ("scheduling.k8s.io", "PriorityClass")
            | ("networking.k8s.io", "IngressClass")
            | ("policy", "PodSecurityPolicy")
            | ("node.k8s.io", "RuntimeClass")
            | (
                "admissionregistration.k8s.io",
                "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration"
            )
            | ("apiregistration.k8s.io", "APIService")
    )
}

/// The objects of a manifest stored in a release record. Records orch or Helm wrote parse;
/// anything else is taken as holding no objects rather than blocking a sync.
pub fn parse_stored(text: &str) -> Vec<Manifest> {
    split(text, "", Reading::Whole).unwrap_or_default()
}

/// The manifests of a native render: a template's documents as the engine read them, and
/// each `crds/` file's documents, named after the file.
pub fn from_documents(
    documents: Vec<helm_engine::Document>,
    reading: Reading,
) -> Result<Vec<Manifest>, String> {
    let per_document: Vec<Result<Vec<Manifest>, String>> = documents
        .into_par_iter()
        .map(|document| match document.object {
            Some(Value::Null) => Ok(Vec::new()),
            Some(object) => Ok(vec![Manifest {
                source: document.source,
                text: document.text,
                object,
            }]),
            None => split(&document.text, &document.source, reading),
        })
        .collect();
    let mut manifests = Vec::new();
    for result in per_document {
        manifests.extend(result?);
    }
    Ok(manifests)
}

/// Splits a multi-document manifest stream (as `helm template` prints it) into manifests.
/// Documents without content are dropped; `default_source` names documents that carry no
/// `# Source:` comment.
pub fn split(
    stream: &str,
    default_source: &str,
    reading: Reading,
) -> Result<Vec<Manifest>, String> {
    let mut manifests = Vec::new();
    // The documents, borrowed from the stream; then each one's own `# Source:` and text.
    let mut documents: Vec<&str> = Vec::new();
    let mut start = 0;
    // Only where `---` occurs can a separator line be: a fast search, not a walk over
    // every line of megabytes of CRDs.
    for at in memchr::memmem::find_iter(stream.as_bytes(), "---") {
        let at_line_start = at == 0 || stream.as_bytes()[at - 1] == b'\n';
        if !at_line_start || at < start {
            continue;
        }
        let line_end = stream[at..].find('\n').map_or(stream.len(), |i| at + i + 1);
        if stream[at..line_end].trim_end() == "---" {
            documents.push(&stream[start..at]);
            start = line_end;
        }
    }
    documents.push(&stream[start..]);
    let documents: Vec<(Option<&str>, &str)> = documents
        .into_iter()
        .map(|document| match document.strip_prefix("# Source: ") {
            Some(rest) => {
                let (source, text) = rest.split_once('\n').unwrap_or((rest, ""));
                (Some(source.trim()), text)
            }
            None => (None, document),
        })
        .collect();
    // Parsed in parallel, as a big chart's CRDs are megabytes of YAML.
    let parsed: Vec<Result<Value, String>> = documents
        .par_iter()
        .map(|(_, text)| match reading {
            Reading::Whole => helm_engine::yaml_to_json(text),
            Reading::Heads => helm_engine::yaml_head_to_json(text),
        })
        .collect();
    // A document that holds no object passes its `# Source:` on to the next one, if that
    // names none: helm prints a CRD file that starts with a comment and `---` under one
    // header.
    let mut pending_source: Option<String> = None;
    for ((own_source, text), object) in documents.into_iter().zip(parsed) {
        let inherited = pending_source.take();
        let source = own_source
            .map(str::to_string)
            .or(inherited)
            .unwrap_or_else(|| default_source.to_string());
        let object = object.map_err(|err| format!("{source}: {err}"))?;
        if object.is_null() {
            pending_source = Some(source);
            continue;
        }
        if !object.is_object() {
            return Err(format!(
                "{source}: a manifest must be a map, not `{}`",
                text.trim()
            ));
        }
        manifests.push(Manifest {
            source,
            text: text.to_string(),
            object,
        });
    }
    Ok(manifests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_helm_output_and_keeps_sources() {
        let stream = "---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# Source: c/templates/empty.yaml\n# nothing here\n---\n# Source: c/templates/b.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n  namespace: other\n";
        let manifests = split(stream, "x", Reading::Whole).unwrap();
        assert_eq!(manifests.len(), 2);
        assert_eq!(manifests[0].source, "c/templates/a.yaml");
        assert_eq!(
            manifests[0].text,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
        );
        assert_eq!(
            manifests[0].key("ns").unwrap().to_string(),
            "ConfigMap ns/a"
        );
        assert_eq!(
            manifests[1].key("ns").unwrap().to_string(),
            "Deployment.apps other/b"
        );
    }

    #[test]
    fn a_crd_file_that_starts_with_a_comment_and_a_separator_keeps_its_source() {
        let stream = "---\n# Source: c/crds/a.yaml\n# from upstream\n---\n# the CRD\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a}\n---\nkind: ConfigMap\nmetadata: {name: b}\n";
        let manifests = split(stream, "c", Reading::Whole).unwrap();
        assert_eq!(manifests[0].source, "c/crds/a.yaml");
        assert_eq!(manifests[1].source, "c", "only the next document");
    }

    #[test]
    fn a_native_render_keeps_read_objects_and_names_a_crd_files_documents_after_it() {
        let documents = vec![
            helm_engine::Document {
                source: "c/crds/two.yaml".into(),
                text: "# upstream\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a}\nspec: [unread\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: b}\n\n".into(),
                object: None,
            },
            helm_engine::Document {
                source: "c/templates/cm.yaml".into(),
                text: "kind: ConfigMap\n".into(),
                object: Some(serde_json::json!({"kind": "ConfigMap", "read": "by the engine"})),
            },
        ];
        let manifests = from_documents(documents.clone(), Reading::Heads).unwrap();
        let sources: Vec<&str> = manifests.iter().map(|m| m.source.as_str()).collect();
        assert_eq!(
            sources,
            ["c/crds/two.yaml", "c/crds/two.yaml", "c/templates/cm.yaml"]
        );
        assert_eq!(manifests[1].name(), Some("b"));
        assert!(
            manifests[1].text.ends_with("{name: b}\n\n"),
            "{:?}",
            manifests[1].text
        );
        assert_eq!(manifests[2].text, "kind: ConfigMap\n");
        assert_eq!(manifests[2].object["read"], "by the engine");
        // Read whole, the CRD that is not YAML past its head is an error naming its file.
        let err = from_documents(documents, Reading::Whole).unwrap_err();
        assert!(err.starts_with("c/crds/two.yaml: "), "{err}");
    }

    #[test]
    fn only_a_line_of_three_dashes_separates_documents() {
        let stream = "kind: A\nnote: |\n  ----\n  ---\nx: a---\n---  \r\nkind: B\n---";
        let manifests = split(stream, "f.yaml", Reading::Whole).unwrap();
        assert_eq!(manifests.len(), 2);
        assert_eq!(manifests[0].object["note"], "----\n---\n");
        assert_eq!(manifests[1].text, "kind: B\n");
    }

    #[test]
    fn cluster_scoped_kinds_have_no_namespace() {
        let m = &split(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n",
            "f.yaml",
            Reading::Whole,
        )
        .unwrap()[0];
        assert_eq!(m.key("ns").unwrap().namespace, None);
        assert_eq!(m.source, "f.yaml");
    }

    #[test]
    fn scalars_read_as_kubectl_reads_them() {
        let text = "kind: ConfigMap\nmode: 0755\nhex: 0x1F\nflag: yes\noff: off\nquoted: \"0755\"\nversion: 1.20\nname: 010x\n";
        let object = &split(text, "f.yaml", Reading::Whole).unwrap()[0].object;
        // A key is resolved too: `off:` is the key "false", as kubectl reads it.
        assert_eq!(
            object,
            &serde_json::json!({
                "kind": "ConfigMap", "mode": 493, "hex": 31, "flag": true, "false": false,
                "quoted": "0755", "version": 1.2, "name": "010x"
            })
        );
    }

    #[test]
    fn a_broken_document_names_its_source() {
        let err = split("# Source: c/t.yaml\nkind: [\n", "x", Reading::Whole).unwrap_err();
        assert!(err.starts_with("c/t.yaml: "), "{err}");
        let err = split("- a\n- b\n", "d/list.yaml", Reading::Whole).unwrap_err();
        assert!(err.contains("must be a map"), "{err}");
    }
}
