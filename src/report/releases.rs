//! `orch list`: the releases and what the files say of them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::ReleaseSpec;
use crate::sync::status::Deployed;

#[derive(Serialize)]
struct ReleaseRow<'a> {
    /// Its cluster's kube context, in a run across clusters.
    #[serde(rename = "cluster", skip_serializing_if = "Option::is_none")]
    on_cluster: Option<&'a str>,
    name: &'a str,
    namespace: &'a str,
    chart: &'a str,
    version: &'a str,
    labels: &'a BTreeMap<String, String>,
    needs: &'a [String],
    installed: bool,
    enabled: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    cluster: Option<&'a Deployed>,
}

/// `labels[i]` are release `i`'s, as listed.
pub fn json(
    releases: &[&ReleaseSpec],
    labels: &[BTreeMap<String, String>],
    deployed: Option<&[Deployed]>,
) -> String {
    let rows: Vec<ReleaseRow<'_>> = releases
        .iter()
        .enumerate()
        .map(|(i, r)| ReleaseRow {
            on_cluster: r.id.cluster.as_deref(),
            name: &r.id.name,
            namespace: &r.id.namespace,
            chart: &r.chart,
            version: r.version.as_deref().unwrap_or(""),
            labels: &labels[i],
            needs: &r.needs,
            installed: r.installed,
            enabled: r.enabled,
            cluster: deployed.and_then(|d| d.get(i)),
        })
        .collect();
    serde_json::to_string_pretty(&rows).expect("plain data serializes") + "\n"
}

pub fn table(
    releases: &[&ReleaseSpec],
    labels: &[BTreeMap<String, String>],
    deployed: Option<&[Deployed]>,
) -> String {
    // A run across clusters names each release's.
    let several_clusters = releases.iter().any(|r| r.id.cluster.is_some());
    let rows: Vec<Vec<String>> = releases
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let labels: Vec<String> = labels[i].iter().map(|(k, v)| format!("{k}:{v}")).collect();
            let mut row = vec![
                r.id.name.clone(),
                r.id.namespace.clone(),
                r.enabled.to_string(),
                r.installed.to_string(),
                labels.join(","),
                r.chart.clone(),
                r.version.clone().unwrap_or_default(),
            ];
            if several_clusters {
                row.insert(0, r.id.cluster.clone().unwrap_or_default());
            }
            if let Some(found) = deployed.and_then(|d| d.get(i)) {
                row.push(found.revision.map_or("-".into(), |v| v.to_string()));
                row.push(
                    found
                        .status
                        .clone()
                        .unwrap_or_else(|| "not installed".into()),
                );
            }
            row
        })
        .collect();
    let mut headers = vec![
        "NAME",
        "NAMESPACE",
        "ENABLED",
        "INSTALLED",
        "LABELS",
        "CHART",
        "VERSION",
    ];
    if several_clusters {
        headers.insert(0, "CLUSTER");
    }
    if deployed.is_some() {
        headers.extend(["REVISION", "STATUS"]);
    }
    super::table(&headers, &rows)
}
