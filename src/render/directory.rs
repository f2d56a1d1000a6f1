//! Releases whose chart is a directory of plain manifests: `*.yaml` as they are, `*.yaml.j2`
//! rendered with minijinja and the release's merged values.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::{self, ReleaseSpec, Spec};

use super::manifest::{self, Manifest, Reading};

pub fn render(
    spec: &Spec,
    release: &ReleaseSpec,
    dir: &Path,
    values: &Value,
    reading: Reading,
) -> Result<Vec<Manifest>, String> {
    let chart_name = dir
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut manifests = Vec::new();
    for path in manifest_files(dir)? {
        let text = config::read_text(&path).map_err(|err| err.to_string())?;
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        let is_template = path.extension().is_some_and(|e| e == "j2");
        let text = if is_template {
            spec.render_manifest_template(&path, &text, release, values)
                .map_err(|err| err.to_string())?
        } else {
            text
        };
        let source = format!(
            "{chart_name}/{}",
            relative.to_string_lossy().trim_end_matches(".j2")
        );
        manifests.extend(manifest::split(&text, &source, reading)?);
    }
    Ok(manifests)
}

/// The directory's manifest files, recursively, in lexical order.
fn manifest_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries =
            std::fs::read_dir(&current).map_err(|err| format!("{}: {err}", current.display()))?;
        for entry in entries {
            let path = entry
                .map_err(|err| format!("{}: {err}", current.display()))?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if is_manifest(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn is_manifest(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let name = name.strip_suffix(".j2").unwrap_or(name);
    name.ends_with(".yaml") || name.ends_with(".yml")
}
