//! helmfile's lock file (what `helmfile deps` writes): the versions a state's repository
//! charts are pinned to. When it exists, a release whose chart is `repo/name` of a declared
//! repository takes the first locked version of `name` that its own `version` constraint
//! allows, as helmfile 0.166 does; none is an error.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{ConfigError, Location};
use super::{source, yaml};

/// The pinned versions of one lock file.
pub struct LockedVersions {
    file: PathBuf,
    charts: Vec<LockedChart>,
}

#[derive(Default, Deserialize)]
struct LockDoc {
    #[serde(default)]
    dependencies: Vec<LockedChart>,
    // Written by helmfile, read by nobody.
    #[serde(default, rename = "version")]
    _version: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "digest")]
    _digest: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "generated")]
    _generated: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LockedChart {
    name: String,
    #[serde(default, rename = "repository")]
    _repository: Option<String>,
    version: String,
}

/// The lock file of the state file `state_file`: `lock_file_path` (relative to its
/// directory), else `<name>.lock` beside it (`helmfile.lock` for `helmfile.yaml` and
/// `helmfile.yaml.gotmpl`). `None` when there is none.
pub fn read(
    state_file: &Path,
    lock_file_path: Option<&str>,
) -> Result<Option<LockedVersions>, ConfigError> {
    let dir = state_file.parent().unwrap_or(Path::new(""));
    let file = match lock_file_path {
        Some(path) => source::join(dir, path),
        None => {
            let name = state_file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let stem = name.strip_suffix(".gotmpl").unwrap_or(&name);
            let stem = stem
                .strip_suffix(".yaml")
                .or_else(|| stem.strip_suffix(".yml"))
                .unwrap_or(stem);
            dir.join(format!("{stem}.lock"))
        }
    };
    if !file.is_file() {
        return Ok(None);
    }
    let text = source::read_text(&file)?;
    let doc: LockDoc = yaml::parse_document(&text, &file, 1)?;
    Ok(Some(LockedVersions {
        file,
        charts: doc.dependencies,
    }))
}

impl LockedVersions {
    /// The locked version of chart `name` that `constraint` (any, when none) allows.
    pub fn version(
        &self,
        name: &str,
        constraint: Option<&str>,
        at: &Location,
    ) -> Result<String, ConfigError> {
        let constraint = constraint.unwrap_or("*");
        let parsed = masterminds_semver::Constraints::parse(constraint).map_err(|e| {
            ConfigError::Invalid {
                at: at.clone(),
                message: format!("version `{constraint}`: {e}"),
            }
        })?;
        self.charts
            .iter()
            .filter(|chart| chart.name == name)
            .find(|chart| {
                masterminds_semver::Version::parse(&chart.version).is_ok_and(|v| parsed.check(&v))
            })
            .map(|chart| chart.version.clone())
            .ok_or_else(|| ConfigError::Invalid {
                at: at.clone(),
                message: format!(
                    "{} locks no version of chart `{name}` that `{constraint}` allows (`helmfile deps` writes the lock file)",
                    self.file.display()
                ),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_takes_the_locked_version_its_constraint_allows() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("helmfile.yaml.gotmpl");
        assert!(read(&state, None).unwrap().is_none());
        std::fs::write(
            dir.path().join("helmfile.lock"),
            "version: v0.166.0\ndependencies:\n- name: raw\n  repository: http://x/\n  version: 0.0.1\n\
             - name: raw\n  repository: http://y/\n  version: 1.2.0\ndigest: sha256:0\ngenerated: \"2024\"\n",
        )
        .unwrap();
        let lock = read(&state, None).unwrap().unwrap();
        let at = Location::new(&state, 1, 0);
        assert_eq!(lock.version("raw", None, &at).unwrap(), "0.0.1");
        assert_eq!(lock.version("raw", Some("^1"), &at).unwrap(), "1.2.0");
        let err = lock
            .version("raw", Some(">2"), &at)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("locks no version of chart `raw` that `>2` allows"),
            "{err}"
        );
        std::fs::write(dir.path().join("pins"), "dependencies: []\n").unwrap();
        let lock = read(&state, Some("pins")).unwrap().unwrap();
        assert!(lock.version("raw", None, &at).is_err());
    }
}
