//! From rendered templates to `helm template`'s documents: CRDs first, then the documents
//! of every template sorted by kind (Helm's install order), then hooks; NOTES.txt dropped.

use std::sync::OnceLock;

use rayon::prelude::*;
use regex::Regex;
use serde_json::Value as Json;

use crate::NativeError;
use crate::chart::load::Chart;
use crate::kind_order::cmp_install;

/// One document of a render, in the order `helm template --include-crds` prints them.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The file it came from, as Helm's `# Source:` comment names it.
    pub source: String,
    /// What Helm prints after the `# Source:` line, ending in a line break: a template's
    /// document, trimmed; or a whole `crds/` file, which may hold several documents.
    pub text: String,
    /// The template's document as Kubernetes reads that text; `None` for a `crds/` file,
    /// which Helm passes on unparsed.
    pub object: Option<Json>,
}

/// `helm template --include-crds`'s output for these documents.
pub fn to_stream(documents: &[Document]) -> String {
    let mut out = String::with_capacity(documents.iter().map(|d| d.text.len() + 64).sum());
    for doc in documents {
        out.push_str("---\n# Source: ");
        out.push_str(&doc.source);
        out.push('\n');
        out.push_str(&doc.text);
    }
    out
}

/// The documents `helm template --include-crds` prints for these rendered templates: CRDs,
/// then the other documents sorted by kind, then hooks.
pub fn documents(
    chart: &Chart,
    rendered: Vec<(String, String)>,
) -> Result<Vec<Document>, NativeError> {
    let mut rendered = rendered;
    rendered.sort_by(|a, b| a.0.cmp(&b.0));
    rendered.retain(|(source, text)| {
        let base = source.rsplit('/').next().unwrap_or_default();
        !source.ends_with("NOTES.txt") && !base.starts_with('_') && !text.trim().is_empty()
    });
    // A big chart's CRDs are megabytes to copy and its templates render megabytes of YAML
    // to parse: both at once, and the templates in parallel.
    let (mut out, parsed): (Vec<Document>, Vec<Result<Parsed, NativeError>>) = rayon::join(
        || crds(chart, chart.name()),
        || {
            rendered
                .into_par_iter()
                .flat_map_iter(|(source, text)| {
                    split_manifests(&text)
                        .into_iter()
                        .map(move |doc| (source.clone(), doc))
                })
                .map(|(source, text)| head(source, text))
                .collect()
        },
    );
    let mut documents = Vec::with_capacity(parsed.len());
    for doc in parsed {
        documents.push(doc?);
    }
    let (mut hooks, mut generic): (Vec<Parsed>, Vec<Parsed>) =
        documents.into_iter().partition(|d| d.is_hook);
    generic.sort_by(|a, b| cmp_install(&a.kind, &b.kind));
    hooks.sort_by(|a, b| cmp_install(&a.kind, &b.kind));
    out.extend(generic.into_iter().chain(hooks).map(|d| d.document));
    Ok(out)
}

/// A template's document with what Helm sorts it by.
struct Parsed {
    document: Document,
    kind: String,
    is_hook: bool,
}

/// Helm's `SplitManifests`: documents separated by `---` lines, each trimmed, empty ones
/// dropped; each is returned as printed, with a line break.
fn split_manifests(text: &str) -> Vec<String> {
    static SEPARATOR: OnceLock<Regex> = OnceLock::new();
    let separator =
        SEPARATOR.get_or_init(|| Regex::new(r"(?:^|\s*\n)---\s*").expect("valid regex"));
    separator
        .split(text.trim())
        .filter(|d| !d.is_empty())
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let mut text = String::with_capacity(d.len() + 1);
            text.push_str(d);
            text.push('\n');
            text
        })
        .collect()
}

/// A document read the way Helm reads it for sorting, into its kind and hook annotation.
fn head(source: String, text: String) -> Result<Parsed, NativeError> {
    // go-yaml's dialect, through the reader every other YAML of the chart goes through.
    let json: Json = crate::yaml::parse::from_yaml(&text).map_err(|e| {
        // As helm's --debug does, show the text that does not parse (with -vv).
        tracing::debug!("{source} renders invalid YAML:\n{text}");
        NativeError::Template(format!("YAML parse error on {source}: {e}"))
    })?;
    // Helm decodes a document into a struct: a list or a scalar cannot be one.
    let json_type = match &json {
        Json::Array(_) => Some("array"),
        Json::String(_) => Some("string"),
        Json::Number(_) => Some("number"),
        Json::Bool(_) => Some("bool"),
        Json::Null | Json::Object(_) => None,
    };
    if let Some(json_type) = json_type {
        return Err(NativeError::Template(format!(
            "YAML parse error on {source}: error unmarshaling JSON: json: cannot unmarshal {json_type} into Go value of type releaseutil.SimpleHead"
        )));
    }
    let kind = json
        .get("kind")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let is_hook = json
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get("helm.sh/hook"))
        .is_some();
    Ok(Parsed {
        document: Document {
            source,
            text,
            object: Some(json),
        },
        kind,
        is_hook,
    })
}

/// `crds/` files of the chart and its enabled subcharts, unrendered, as printed (a line
/// break added).
fn crds(chart: &Chart, full_path: &str) -> Vec<Document> {
    let mut out: Vec<Document> = chart
        .files
        .iter()
        .filter(|(name, _)| {
            name.starts_with("crds/")
                && [".yaml", ".yml", ".json"].iter().any(|e| name.ends_with(e))
        })
        .map(|(name, data)| {
            // Megabytes of CRDs: the line break is room reserved, not a second copy, and
            // valid text takes the fast validation, not the replacing scan.
            let mut text = String::with_capacity(data.len() + 1);
            match std::str::from_utf8(data) {
                Ok(valid) => text.push_str(valid),
                Err(_) => text.push_str(&String::from_utf8_lossy(data)),
            }
            text.push('\n');
            Document {
                source: format!("{full_path}/{name}"),
                text,
                object: None,
            }
        })
        .collect();
    for sub in &chart.dependencies {
        out.extend(crds(sub, &format!("{full_path}/charts/{}", sub.name())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split_manifests;

    #[test]
    fn splits_like_helm() {
        assert_eq!(
            split_manifests("a: 1\n---\nb: 2\n---\n\n"),
            vec!["a: 1\n", "b: 2\n"]
        );
        assert_eq!(split_manifests("---\na: 1"), vec!["a: 1\n"]);
    }
}
