//! From rendered templates to `helm template`'s output: CRDs first, then the documents of
//! every template sorted by kind (Helm's install order), then hooks; NOTES.txt dropped.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value as Json;

use crate::NativeError;
use crate::chart::load::Chart;
use crate::kind_order::cmp_install;

struct Document {
    source: String,
    text: String,
    kind: String,
    is_hook: bool,
}

/// The stream `helm template --include-crds` prints for these rendered templates.
pub fn stream(chart: &Chart, rendered: Vec<(String, String)>) -> Result<String, NativeError> {
    let mut out = String::new();
    for (source, text) in crds(chart, chart.name()) {
        out.push_str(&format!("---\n# Source: {source}\n{text}\n"));
    }
    let mut rendered = rendered;
    rendered.sort_by(|a, b| a.0.cmp(&b.0));
    let mut documents = Vec::new();
    for (source, text) in rendered {
        if source.ends_with("NOTES.txt") {
            continue;
        }
        let base = source.rsplit('/').next().unwrap_or_default();
        if base.starts_with('_') || text.trim().is_empty() {
            continue;
        }
        for doc in split_manifests(&text) {
            documents.push(head(&source, doc)?);
        }
    }
    let (mut hooks, mut generic): (Vec<Document>, Vec<Document>) =
        documents.into_iter().partition(|d| d.is_hook);
    generic.sort_by(|a, b| cmp_install(&a.kind, &b.kind));
    hooks.sort_by(|a, b| cmp_install(&a.kind, &b.kind));
    for doc in generic.iter().chain(hooks.iter()) {
        out.push_str(&format!("---\n# Source: {}\n{}\n", doc.source, doc.text));
    }
    Ok(out)
}

/// Helm's `SplitManifests`: documents separated by `---` lines, each trimmed, empty ones
/// dropped.
fn split_manifests(text: &str) -> Vec<String> {
    static SEPARATOR: OnceLock<Regex> = OnceLock::new();
    let separator =
        SEPARATOR.get_or_init(|| Regex::new(r"(?:^|\s*\n)---\s*").expect("valid regex"));
    separator
        .split(text.trim())
        .filter(|d| !d.is_empty())
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
        .collect()
}

/// The kind and hook annotation, read the way Helm reads a document's head.
fn head(source: &str, text: String) -> Result<Document, NativeError> {
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
    Ok(Document {
        source: source.to_string(),
        text,
        kind,
        is_hook,
    })
}

/// `crds/` files of the chart and its enabled subcharts, unrendered.
fn crds(chart: &Chart, full_path: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = chart
        .files
        .iter()
        .filter(|(name, _)| {
            name.starts_with("crds/")
                && [".yaml", ".yml", ".json"].iter().any(|e| name.ends_with(e))
        })
        .map(|(name, data)| {
            (
                format!("{full_path}/{name}"),
                String::from_utf8_lossy(data).into_owned(),
            )
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
            vec!["a: 1", "b: 2"]
        );
        assert_eq!(split_manifests("---\na: 1"), vec!["a: 1"]);
    }
}
