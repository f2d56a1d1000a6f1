//! Chart dependencies, built as `helm dependency build` would: each dependency in Chart.yaml
//! (requirements.yaml for apiVersion v1) that `charts/` does not hold is taken from its
//! `repository:` (`file://` path, repository URL, `@name` / `alias:name`, `oci://`), at the
//! version Chart.lock pins or else the highest one its constraint allows. The chart is
//! copied with them into the run's work directory; the user's chart is never written to.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::ChartDependency;

use super::reference::{self, ChartRef, Source};
use super::{FetchError, Fetcher};

/// `chart_dir`, or a copy of it in `workdir` completed with its missing dependencies.
pub fn with_dependencies(
    fetcher: &Fetcher<'_>,
    chart_dir: &Path,
    workdir: &Path,
) -> Result<PathBuf, FetchError> {
    let Some(declared) = declared(chart_dir) else {
        return Ok(chart_dir.to_path_buf());
    };
    let present = present_subcharts(&chart_dir.join("charts"));
    let missing: Vec<&Value> = declared
        .iter()
        .filter(|d| !present.contains(field(d, "name")))
        .collect();
    if missing.is_empty() {
        return Ok(chart_dir.to_path_buf());
    }
    let locked = locked_versions(chart_dir);
    let chart_name = chart_dir
        .file_name()
        .map_or_else(|| "chart".into(), |n| n.to_string_lossy().into_owned());
    let target = workdir.join(chart_name);
    copy_dir(chart_dir, &target).map_err(|message| FetchError::Cache { message })?;
    let mut copied = BTreeSet::new();
    for dependency in missing {
        let name = field(dependency, "name");
        if !copied.insert(name) {
            continue;
        }
        let dir = dependency_dir(fetcher, chart_dir, dependency, locked.get(name))?;
        copy_dir(&dir, &target.join("charts").join(name))
            .map_err(|message| FetchError::Cache { message })?;
    }
    Ok(target)
}

/// `chart_dir` copied into `workdir` with a release's added `dependencies`, as helmfile
/// (chartify) adds them: each chart fetched into `charts/` and declared in Chart.yaml (a v1
/// chart's requirements.yaml) under its alias, so that values and conditions address it
/// as any dependency.
pub fn with_added(
    fetcher: &Fetcher<'_>,
    chart_dir: &Path,
    added: &[ChartDependency],
    base_dir: &Path,
    workdir: &Path,
) -> Result<PathBuf, FetchError> {
    let cache = |message: String| FetchError::Cache { message };
    // Not where `with_dependencies` puts its copy, which may follow.
    let name = chart_dir.file_name().unwrap_or_default();
    let target = workdir.join("with-dependencies").join(name);
    copy_dir(chart_dir, &target).map_err(cache)?;
    let mut declared = Vec::new();
    for dependency in added {
        let chart = ChartRef::of_chart(&dependency.chart, base_dir, fetcher.repositories)?;
        let fetched = fetcher.fetch(chart, dependency.version.as_deref())?;
        let chart_yaml = fetched.dir.join("Chart.yaml");
        let meta: Value = std::fs::read_to_string(&chart_yaml)
            .ok()
            .and_then(|text| serde_yaml_ng::from_str(&text).ok())
            .ok_or_else(|| FetchError::Reference {
                message: format!(
                    "dependency {}: no readable {}",
                    dependency.chart,
                    chart_yaml.display()
                ),
            })?;
        let name = field(&meta, "name").to_string();
        let dir_name = dependency.alias.as_deref().unwrap_or(&name);
        copy_dir(&fetched.dir, &target.join("charts").join(dir_name)).map_err(cache)?;
        let mut entry = serde_json::json!({"name": name, "version": field(&meta, "version")});
        if let Some(alias) = &dependency.alias {
            entry["alias"] = Value::String(alias.clone());
        }
        declared.push(entry);
    }
    let v1 = std::fs::read_to_string(target.join("Chart.yaml"))
        .ok()
        .and_then(|text| serde_yaml_ng::from_str::<Value>(&text).ok())
        .is_some_and(|chart| field(&chart, "apiVersion") != "v2");
    let file = target.join(if v1 {
        "requirements.yaml"
    } else {
        "Chart.yaml"
    });
    let mut doc: Value = std::fs::read_to_string(&file)
        .ok()
        .and_then(|text| serde_yaml_ng::from_str(&text).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| serde_json::json!({}));
    match doc.get_mut("dependencies") {
        Some(Value::Array(list)) => list.extend(declared),
        _ => doc["dependencies"] = Value::Array(declared),
    }
    let text = serde_yaml_ng::to_string(&doc).map_err(|e| cache(e.to_string()))?;
    std::fs::write(&file, text)
        .map_err(|e| cache(format!("cannot write {}: {e}", file.display())))?;
    Ok(target)
}

/// Where one dependency's chart is, fetching it if it comes from a repository.
fn dependency_dir(
    fetcher: &Fetcher<'_>,
    chart_dir: &Path,
    dependency: &Value,
    locked: Option<&String>,
) -> Result<PathBuf, FetchError> {
    let name = field(dependency, "name");
    let repository = field(dependency, "repository");
    let fail = |message: String| FetchError::Reference {
        message: format!(
            "{}: dependency `{name}`: {message}",
            chart_dir.join("Chart.yaml").display()
        ),
    };
    if let Some(path) = repository.strip_prefix("file://") {
        let dir = chart_dir.join(path);
        if !dir.join("Chart.yaml").is_file() {
            return Err(fail(format!("{} is not a chart directory", dir.display())));
        }
        return Ok(dir);
    }
    if repository.is_empty() {
        return Err(fail(
            "it names no repository, and charts/ does not hold it".into(),
        ));
    }
    let chart = if let Some(rest) = repository.strip_prefix("oci://") {
        reference::oci(
            &format!("{}/{name}", rest.trim_end_matches('/')),
            fetcher.repositories,
        )?
    } else if let Some(alias) = repository
        .strip_prefix('@')
        .or_else(|| repository.strip_prefix("alias:"))
    {
        let Some(declared) = fetcher.repositories.iter().find(|r| r.name == alias) else {
            return Err(fail(format!(
                "repository `{alias}` is not in the releases files' `repositories:`"
            )));
        };
        ChartRef::in_repository(declared, name, fetcher.repositories)?
    } else if repository.starts_with("http://") || repository.starts_with("https://") {
        let trimmed = repository.trim_end_matches('/');
        ChartRef::Indexed {
            repository: Source {
                url: repository,
                repository: fetcher
                    .repositories
                    .iter()
                    .find(|r| r.url.trim_end_matches('/') == trimmed),
            },
            name: name.to_string(),
        }
    } else {
        return Err(fail(format!("cannot fetch from repository `{repository}`")));
    };
    let constraint = locked
        .map(String::as_str)
        .or(dependency.get("version").and_then(Value::as_str));
    Ok(fetcher.fetch(chart, constraint)?.dir)
}

/// The dependencies Chart.yaml (or a v1 chart's requirements.yaml) declares; `None` when
/// there are none or the file does not parse (rendering then reports it, with its line).
fn declared(chart_dir: &Path) -> Option<Vec<Value>> {
    let read = |file: &str| -> Option<Value> {
        let text = std::fs::read_to_string(chart_dir.join(file)).ok()?;
        serde_yaml_ng::from_str(&text).ok()
    };
    let chart = read("Chart.yaml")?;
    let list = match chart.get("dependencies") {
        Some(Value::Array(list)) => list.clone(),
        _ => match read("requirements.yaml")?.get("dependencies") {
            Some(Value::Array(list)) => list.clone(),
            _ => return None,
        },
    };
    (!list.is_empty()).then_some(list)
}

/// Chart.lock's (or requirements.lock's) pinned versions by dependency name.
fn locked_versions(chart_dir: &Path) -> BTreeMap<String, String> {
    ["Chart.lock", "requirements.lock"]
        .iter()
        .find_map(|file| {
            let text = std::fs::read_to_string(chart_dir.join(file)).ok()?;
            let lock: Value = serde_yaml_ng::from_str(&text).ok()?;
            let list = lock.get("dependencies")?.as_array()?.clone();
            Some(
                list.iter()
                    .filter_map(|d| {
                        Some((
                            d.get("name")?.as_str()?.to_string(),
                            d.get("version")?.as_str()?.to_string(),
                        ))
                    })
                    .collect(),
            )
        })
        .unwrap_or_default()
}

/// The names of the charts in a `charts/` directory, unpacked or as archives.
fn present_subcharts(charts: &Path) -> BTreeSet<String> {
    let Ok(entries) = std::fs::read_dir(charts) else {
        return BTreeSet::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let path = entry.path();
            let text = if path.is_dir() {
                std::fs::read_to_string(path.join("Chart.yaml")).ok()?
            } else if path.extension().is_some_and(|e| e == "tgz") {
                archived_chart_yaml(&path)?
            } else {
                return None;
            };
            let chart: Value = serde_yaml_ng::from_str(&text).ok()?;
            Some(chart.get("name")?.as_str()?.to_string())
        })
        .collect()
}

fn archived_chart_yaml(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in archive.entries().ok()? {
        let mut entry = entry.ok()?;
        let entry_path = entry.path().ok()?.into_owned();
        let mut components = entry_path.components();
        components.next();
        if components.as_path() == Path::new("Chart.yaml") {
            let mut text = String::new();
            entry.read_to_string(&mut text).ok()?;
            return Some(text);
        }
    }
    None
}

fn field<'v>(value: &'v Value, key: &str) -> &'v str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

pub fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    let fail = |path: &Path, e: std::io::Error| format!("cannot copy {}: {e}", path.display());
    std::fs::create_dir_all(to).map_err(|e| fail(to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| fail(from, e))? {
        let entry = entry.map_err(|e| fail(from, e))?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &dest)?;
        } else {
            std::fs::copy(&path, &dest).map_err(|e| fail(&path, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_declared_and_locked_dependencies() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Chart.yaml"),
            "apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n- name: shared\n  version: 0.1.0\n  repository: file://../shared\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("Chart.lock"),
            "dependencies:\n- name: shared\n  version: 0.1.0\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("charts/x")).unwrap();
        std::fs::write(dir.path().join("charts/x/Chart.yaml"), "name: other\n").unwrap();
        let declared = declared(dir.path()).unwrap();
        assert_eq!(field(&declared[0], "name"), "shared");
        assert_eq!(locked_versions(dir.path())["shared"], "0.1.0");
        assert_eq!(
            present_subcharts(&dir.path().join("charts")),
            BTreeSet::from(["other".to_string()])
        );
    }
}
