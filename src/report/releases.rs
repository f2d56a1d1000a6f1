//! `orch list`: the releases and what the files say of them.

use serde::Serialize;

use crate::config::ReleaseSpec;

#[derive(Serialize)]
struct ReleaseRow<'a> {
    name: &'a str,
    namespace: &'a str,
    chart: &'a str,
    version: &'a str,
    labels: &'a std::collections::BTreeMap<String, String>,
    needs: &'a [String],
    installed: bool,
    enabled: bool,
}

pub fn json(releases: &[&ReleaseSpec]) -> String {
    let rows: Vec<ReleaseRow<'_>> = releases
        .iter()
        .map(|r| ReleaseRow {
            name: &r.id.name,
            namespace: &r.id.namespace,
            chart: &r.chart,
            version: r.version.as_deref().unwrap_or(""),
            labels: &r.labels,
            needs: &r.needs,
            installed: r.installed,
            enabled: r.enabled,
        })
        .collect();
    serde_json::to_string_pretty(&rows).expect("plain data serializes") + "\n"
}

pub fn table(releases: &[&ReleaseSpec]) -> String {
    let rows: Vec<Vec<String>> = releases
        .iter()
        .map(|r| {
            vec![
                r.id.name.clone(),
                r.id.namespace.clone(),
                r.enabled.to_string(),
                r.installed.to_string(),
                r.labels
                    .iter()
                    .map(|(k, v)| format!("{k}:{v}"))
                    .collect::<Vec<_>>()
                    .join(","),
                r.chart.clone(),
                r.version.clone().unwrap_or_default(),
            ]
        })
        .collect();
    super::table(
        &[
            "NAME",
            "NAMESPACE",
            "ENABLED",
            "INSTALLED",
            "LABELS",
            "CHART",
            "VERSION",
        ],
        &rows,
    )
}
