//! Rendered manifests as `helm template` prints them, or as files in a directory.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::Spec;
use crate::render::RenderedRelease;

/// Writes all releases' manifests as one YAML stream, each document under a `# Source:`
/// comment.
pub fn write_stream(out: &mut impl Write, rendered: &[RenderedRelease]) -> std::io::Result<()> {
    for release in rendered {
        for manifest in &release.manifests {
            write!(out, "---\n# Source: {}\n{}", manifest.source, manifest.text)?;
            if !manifest.text.ends_with('\n') {
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(())
}

/// Writes each release's manifests to `dir/<namespace>/<release>/<source>`; returns the files.
pub fn write_dir(
    dir: &Path,
    spec: &Spec,
    rendered: &[RenderedRelease],
) -> std::io::Result<Vec<PathBuf>> {
    let mut files: BTreeMap<PathBuf, String> = BTreeMap::new();
    for release in rendered {
        let id = &spec.releases[release.index].id;
        for manifest in &release.manifests {
            let path = dir
                .join(&id.namespace)
                .join(&id.name)
                .join(&manifest.source);
            let text = files.entry(path).or_default();
            let _ = write!(text, "---\n{}", manifest.text);
        }
    }
    for (path, text) in &files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
    }
    Ok(files.into_keys().collect())
}
