//! Which subcharts a release gets (`condition`, `tags`, aliases) and what they export to
//! their parent (`import-values`), as Helm's pkg/chartutil/dependencies.go decides.

use serde_json::{Map, Value as Json};

use super::load::Chart;
use super::values::{coalesce_values, merge_tables, merge_values, path_to_map, path_value, table};
use masterminds_semver::satisfies;

/// Drops disabled subcharts and renames aliased ones, recursively (`processDependencyEnabled`).
pub fn process_enabled(
    chart: &mut Chart,
    values: &Map<String, Json>,
    path: &str,
) -> Result<(), String> {
    let mut requirements = chart.declared_dependencies();
    if requirements.is_empty() {
        return Ok(());
    }
    let field = |r: &Json, k: &str| {
        r.get(k)
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let compatible = |r: &Json, c: &Chart| {
        let version = c
            .metadata
            .get("version")
            .and_then(Json::as_str)
            .unwrap_or_default();
        satisfies(&field(r, "version"), version)
    };
    let mut kept: Vec<Chart> = chart
        .dependencies
        .iter()
        .filter(|c| {
            !requirements
                .iter()
                .any(|r| field(r, "name") == c.name() && compatible(r, c))
        })
        .cloned()
        .collect();
    for requirement in &mut requirements {
        let name = field(requirement, "name");
        let alias = field(requirement, "alias");
        let found = chart
            .dependencies
            .iter()
            .find(|c| c.name() == name && compatible(requirement, c));
        if let Some(found) = found {
            let mut copy = found.clone();
            if !alias.is_empty() {
                copy.metadata["name"] = Json::String(alias.clone());
            }
            kept.push(copy);
        }
        if !alias.is_empty() {
            requirement["name"] = Json::String(alias);
        }
    }
    chart.dependencies = kept;
    let coalesced = coalesce_values(chart, values)?;
    let disabled: Vec<String> = requirements
        .iter()
        .filter(|r| !is_enabled(r, &coalesced, path))
        .map(|r| field(r, "name"))
        .collect();
    chart
        .dependencies
        .retain(|c| !disabled.iter().any(|d| d == c.name()));
    requirements.retain(|r| !disabled.contains(&field(r, "name")));
    chart.metadata["dependencies"] = Json::Array(requirements);
    for sub in &mut chart.dependencies {
        let sub_path = format!("{path}{}.", sub.name());
        process_enabled(sub, &coalesced, &sub_path)?;
    }
    Ok(())
}

/// Tags first (any true tag enables, only false tags disable), then the first condition
/// path that holds a boolean.
fn is_enabled(requirement: &Json, values: &Map<String, Json>, path: &str) -> bool {
    let mut enabled = true;
    if let (Some(tags), Some(Json::Array(wanted))) =
        (table(values, "tags"), requirement.get("tags"))
    {
        let states: Vec<bool> = wanted
            .iter()
            .filter_map(Json::as_str)
            .filter_map(|t| tags.get(t).and_then(Json::as_bool))
            .collect();
        let has_true = states.contains(&true);
        let has_false = states.contains(&false);
        enabled = has_true || !has_false;
    }
    let condition = requirement
        .get("condition")
        .and_then(Json::as_str)
        .unwrap_or_default();
    for condition in condition.trim().split(',').filter(|c| !c.is_empty()) {
        if let Some(value) = path_value(values, &format!("{path}{condition}")) {
            if let Some(b) = value.as_bool() {
                enabled = b;
                break;
            }
            tracing::warn!("condition path '{condition}' returned non-bool value");
        }
    }
    enabled
}

/// `import-values`, children first: each parent's defaults gain what its subcharts export,
/// below the parent's own values.
pub fn process_imports(chart: &mut Chart) -> Result<(), String> {
    for sub in &mut chart.dependencies {
        process_imports(sub)?;
    }
    let requirements = chart.declared_dependencies();
    if requirements.is_empty() {
        return Ok(());
    }
    let merged = merge_values(chart)?;
    let mut imported = Map::new();
    for requirement in &requirements {
        let name = requirement
            .get("name")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let Some(Json::Array(imports)) = requirement.get("import-values") else {
            continue;
        };
        for import in imports {
            let (child, parent) = match import {
                Json::String(key) => (format!("exports.{key}"), String::new()),
                Json::Object(pair) => (
                    pair.get("child")
                        .and_then(Json::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    pair.get("parent")
                        .and_then(Json::as_str)
                        .unwrap_or_default()
                        .to_string(),
                ),
                _ => continue,
            };
            let Some(exported) = table(&merged, &format!("{name}.{child}")) else {
                tracing::warn!("import-values: chart {name} has no table {child}");
                continue;
            };
            merge_tables(&mut imported, &path_to_map(&parent, exported.clone()));
        }
    }
    let mut values = merged;
    merge_tables(&mut values, &imported);
    chart.values = values;
    Ok(())
}
