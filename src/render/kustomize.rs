//! Kustomize releases: a chart directory with a kustomization file is built with
//! `kubectl kustomize` (or a standalone `kustomize build`), then diffed, synced, pruned and
//! recorded like any release. Values do not apply: Kustomize has none.

use std::path::Path;
use std::process::Command;

/// The file names Kustomize recognizes a kustomization by.
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

pub fn is_kustomization(dir: &Path) -> bool {
    KUSTOMIZATION_FILES
        .iter()
        .any(|name| dir.join(name).is_file())
}

/// The built manifests as one YAML stream, or the tool's error.
pub fn build(binary: &Path, dir: &Path) -> Result<String, String> {
    let standalone = binary.file_name().is_some_and(|name| name == "kustomize");
    let mut command = Command::new(binary);
    command
        .arg(if standalone { "build" } else { "kustomize" })
        .arg(dir);
    let output = command.output().map_err(|err| {
        format!(
            "cannot run {} ({err}); install kubectl or point --kustomize-binary at kubectl or kustomize",
            binary.display()
        )
    })?;
    if output.status.success() {
        String::from_utf8(output.stdout)
            .map_err(|_| "kustomize printed output that is not UTF-8".to_string())
    } else {
        Err(String::from_utf8_lossy(&output.stderr)
            .trim()
            .trim_start_matches("Error: ")
            .to_string())
    }
}
