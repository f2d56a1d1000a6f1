//! Loading a chart as Helm's loader does: from a directory (honouring `.helmignore`) or a
//! `.tgz`, sorting its files into Chart.yaml, values, templates, subcharts and `.Files`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::Value as Json;

use super::ignore::Rules;
use crate::yaml::parse::{Node, first_document, from_yaml, to_json};
use gotemplate::template::{ParsedFile, TemplateError};

/// A loaded chart and its subcharts, before values decide which subcharts are enabled.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Chart.yaml as JSON, with string fields as their source text.
    pub metadata: Json,
    /// values.yaml.
    pub values: serde_json::Map<String, Json>,
    /// `templates/...`, parsed; shared, as every render starts from a copy of the chart.
    pub templates: Arc<[Template]>,
    /// Every other file, for `.Files` (including `crds/`).
    pub files: crate::chart::files::FileData,
    pub dependencies: Vec<Chart>,
    pub schema: Option<Json>,
}

impl Chart {
    pub fn name(&self) -> &str {
        self.metadata
            .get("name")
            .and_then(Json::as_str)
            .unwrap_or_default()
    }

    pub fn is_library(&self) -> bool {
        self.metadata.get("type").and_then(Json::as_str) == Some("library")
    }

    /// Chart.yaml's `dependencies` (or requirements.yaml's for apiVersion v1 charts).
    pub fn declared_dependencies(&self) -> Vec<Json> {
        self.metadata
            .get("dependencies")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default()
    }
}

/// One file of `templates/`, parsed when the chart is loaded: once for every release that
/// renders the chart and every name it takes as a subchart.
#[derive(Debug, Clone)]
pub struct Template {
    /// The path in the chart (`templates/...`).
    pub name: String,
    /// The error is the chart's only if the template is rendered (Helm does not parse
    /// disabled subcharts).
    pub parsed: Result<ParsedFile, TemplateError>,
}

/// One file of a chart, by its path relative to the chart root.
struct ChartFile {
    name: String,
    data: Vec<u8>,
}

pub fn load(path: &Path) -> Result<Chart, String> {
    if path.is_dir() {
        return from_files(read_dir(path)?, &path.display().to_string());
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    from_archive(&bytes, &path.display().to_string())
}

fn read_dir(root: &Path) -> Result<Vec<ChartFile>, String> {
    let rules = Rules::for_chart(root)?;
    let mut paths = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let relative = path
                .strip_prefix(root)
                .map_err(|e| e.to_string())?
                .to_string_lossy()
                .replace('\\', "/");
            // Symbolic links are followed, as Helm does; other entries need no stat.
            let is_dir = match entry.file_type() {
                Ok(kind) if !kind.is_symlink() => kind.is_dir(),
                _ => path.is_dir(),
            };
            if rules.ignores(&relative, is_dir) {
                continue;
            }
            if is_dir {
                pending.push(path);
            } else {
                paths.push((relative, path));
            }
        }
    }
    // A big chart (with its subcharts unpacked) is hundreds of files: read in parallel.
    let mut files = paths
        .into_par_iter()
        .map(|(name, path)| {
            let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(ChartFile { name, data })
        })
        .collect::<Result<Vec<ChartFile>, String>>()?;
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// A chart archive: one top directory holding the chart.
fn from_archive(bytes: &[u8], origin: &str) -> Result<Chart, String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut files = Vec::new();
    let entries = archive.entries().map_err(|e| format!("{origin}: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("{origin}: {e}"))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| format!("{origin}: {e}"))?
            .to_string_lossy()
            .replace('\\', "/");
        // Drop the top directory, as Helm does.
        let Some((_, name)) = path.split_once('/') else {
            continue;
        };
        let name = name.to_string();
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| format!("{origin}: {e}"))?;
        files.push(ChartFile { name, data });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    from_files(files, origin)
}

fn from_files(files: Vec<ChartFile>, origin: &str) -> Result<Chart, String> {
    let mut metadata = None;
    let mut values = None;
    let mut requirements = None;
    let mut templates = Vec::new();
    let mut other = BTreeMap::new();
    let mut subcharts: BTreeMap<String, Vec<ChartFile>> = BTreeMap::new();
    let mut schema = None;
    for file in files {
        let text = || crate::text_of(&file.data);
        match file.name.as_str() {
            "Chart.yaml" => metadata = Some(parse_chart_yaml(&text(), origin)?),
            "values.yaml" => values = Some(file.data),
            "values.schema.json" => {
                schema = Some(
                    serde_json::from_slice(&file.data)
                        .map_err(|e| format!("{origin}/values.schema.json: {e}"))?,
                );
            }
            "requirements.yaml" => {
                requirements = Some(
                    from_yaml(&text()).map_err(|e| format!("{origin}/requirements.yaml: {e}"))?,
                )
            }
            "Chart.lock" | "requirements.lock" => {}
            name if name.starts_with("templates/") => templates.push((file.name.clone(), text())),
            name if name.starts_with("charts/") && !name.ends_with(".prov") => {
                let rest = &name["charts/".len()..];
                let (sub, inner) = rest.split_once('/').unwrap_or((rest, ""));
                subcharts
                    .entry(sub.to_string())
                    .or_default()
                    .push(ChartFile {
                        name: inner.to_string(),
                        data: file.data,
                    });
            }
            _ => {
                other.insert(file.name, Arc::new(file.data));
            }
        }
    }
    let mut metadata = metadata.ok_or_else(|| format!("{origin}: Chart.yaml file is missing"))?;
    if let (Some(Json::Object(req)), Json::Object(meta)) = (requirements, &mut metadata)
        && let Some(deps) = req.get("dependencies")
    {
        meta.entry("dependencies").or_insert(deps.clone());
    }
    // values.yaml, the subcharts and the templates are the bulk of a big chart: read at once.
    let (values, (dependencies, templates)) = rayon::join(
        || match values {
            Some(data) => parse_values(&crate::text_of(&data), &format!("{origin}/values.yaml")),
            None => Ok(serde_json::Map::new()),
        },
        || {
            rayon::join(
                || load_subcharts(subcharts, origin),
                || parse_templates(templates),
            )
        },
    );
    Ok(Chart {
        metadata,
        values: values?,
        templates,
        files: Arc::new(other),
        dependencies: dependencies?,
        schema,
    })
}

fn load_subcharts(
    subcharts: BTreeMap<String, Vec<ChartFile>>,
    origin: &str,
) -> Result<Vec<Chart>, String> {
    let loaded = subcharts
        .into_par_iter()
        .map(|(name, files)| {
            let sub_origin = format!("{origin}/charts/{name}");
            if name.ends_with(".tgz") || name.ends_with(".tar.gz") {
                match files.into_iter().find(|f| f.name.is_empty()) {
                    Some(file) => from_archive(&file.data, &sub_origin).map(Some),
                    None => Ok(None),
                }
            } else if files.iter().any(|f| f.name == "Chart.yaml") {
                from_files(files, &sub_origin).map(Some)
            } else {
                Ok(None)
            }
        })
        .collect::<Result<Vec<Option<Chart>>, String>>()?;
    Ok(loaded.into_iter().flatten().collect())
}

fn parse_templates(templates: Vec<(String, String)>) -> Arc<[Template]> {
    let funcs = crate::funcs::helm_funcs();
    templates
        .into_par_iter()
        .map(|(name, src)| {
            let parsed = ParsedFile::parse(&name, &src, &|f| funcs.contains(f));
            Template { name, parsed }
        })
        .collect::<Vec<_>>()
        .into()
}

/// values.yaml as Helm reads it: a map (an empty file is an empty map).
pub fn parse_values(text: &str, origin: &str) -> Result<serde_json::Map<String, Json>, String> {
    match from_yaml(text).map_err(|e| format!("{origin}: {e}"))? {
        Json::Object(map) => Ok(map),
        Json::Null => Ok(serde_json::Map::new()),
        _ => Err(format!("{origin}: values must be a map")),
    }
}

/// Chart.yaml: string fields keep their source text (`version: 1.10` is "1.10", not 1.1).
fn parse_chart_yaml(text: &str, origin: &str) -> Result<Json, String> {
    let node = first_document(text).map_err(|e| format!("{origin}/Chart.yaml: {e}"))?;
    let Some(Node::Map(entries)) = node else {
        return Err(format!("{origin}/Chart.yaml: not a map"));
    };
    let mut map =
        typed_map(&entries, STRING_FIELDS).map_err(|e| format!("{origin}/Chart.yaml: {e}"))?;
    // Helm's loader: charts in the wild omit it, so an empty one means v1.
    if map
        .get("apiVersion")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .is_empty()
    {
        map.insert("apiVersion".into(), Json::String("v1".into()));
    }
    validate_metadata(&map).map_err(|e| format!("{origin}/Chart.yaml: validation: {e}"))?;
    Ok(Json::Object(map))
}

/// A YAML map read into a Go struct: `strings` fields are text; dependencies are structs too.
fn typed_map(
    entries: &[(Node, Node)],
    strings: &[&str],
) -> Result<serde_json::Map<String, Json>, String> {
    let mut map = serde_json::Map::new();
    for (key, value) in entries {
        let Node::Scalar(key) = key else { continue };
        let json = match value {
            Node::Scalar(s) if strings.contains(&key.text.as_str()) => {
                Json::String(string_field(s))
            }
            Node::Seq(items) if key.text == "dependencies" => Json::Array(
                items
                    .iter()
                    .map(|item| match item {
                        Node::Map(fields) => {
                            typed_map(fields, DEPENDENCY_STRING_FIELDS).map(Json::Object)
                        }
                        other => to_json(other),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            other => to_json(other)?,
        };
        map.insert(key.text.clone(), json);
    }
    Ok(map)
}

const DEPENDENCY_STRING_FIELDS: &[&str] = &["name", "version", "repository", "condition", "alias"];

/// A scalar read into a Go string field by sigs.k8s.io/yaml: numbers become text again,
/// floats through 32-bit precision (`appVersion: 1.10` is "1.1").
fn string_field(scalar: &crate::yaml::parse::Scalar) -> String {
    use crate::yaml::parse::{Resolved, resolve};
    match resolve(scalar) {
        Resolved::Int(i) => i.to_string(),
        Resolved::Uint(u) => u.to_string(),
        Resolved::Float(f) => format_float32(f as f32),
        Resolved::Bool(b) => b.to_string(),
        Resolved::Null => String::new(),
        Resolved::Str(s) => s,
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`.
fn format_float32(f: f32) -> String {
    if !f.is_finite() || f == 0.0 {
        return gotemplate::gofmt::format_float(f64::from(f));
    }
    let text = format!("{:e}", f.abs());
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if f < 0.0 { "-" } else { "" };
    let body = if (-4..6).contains(&exp) {
        gotemplate::gofmt::plain_form(&digits, exp)
    } else {
        let mut out = digits[..1].to_string();
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        format!("{out}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    };
    format!("{sign}{body}")
}

const STRING_FIELDS: &[&str] = &[
    "name",
    "version",
    "appVersion",
    "kubeVersion",
    "description",
    "apiVersion",
    "type",
    "icon",
    "home",
    "condition",
    "tags",
];

/// Helm's `Metadata.Validate`: what a chart must declare before anything renders (its
/// `apiVersion` is set by then).
fn validate_metadata(map: &serde_json::Map<String, Json>) -> Result<(), String> {
    let text = |key: &str| map.get(key).and_then(Json::as_str).unwrap_or_default();
    let name = text("name");
    if name.is_empty() {
        return Err("chart.metadata.name is required".into());
    }
    if name.contains('/') {
        return Err(format!("chart.metadata.name {name:?} is invalid"));
    }
    let version = text("version");
    if version.is_empty() {
        return Err("chart.metadata.version is required".into());
    }
    if masterminds_semver::Version::parse(version).is_err() {
        return Err(format!("chart.metadata.version {version:?} is invalid"));
    }
    if !matches!(text("type"), "" | "application" | "library") {
        return Err("chart.metadata.type must be application or library".into());
    }
    let mut seen = std::collections::HashSet::new();
    for dependency in map
        .get("dependencies")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let alias = dependency
            .get("alias")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let name = dependency
            .get("name")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let key = if alias.is_empty() { name } else { alias };
        if !seen.insert(key.to_string()) {
            return Err(format!(
                "more than one dependency with name or alias {key:?}"
            ));
        }
    }
    Ok(())
}
