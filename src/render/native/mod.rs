//! Native Helm chart rendering: Go's `text/template` with Sprig's and Helm's functions,
//! in-process, producing what `helm template` produces.
//!
//! Why in-process: `helm template` costs a Go process per release (~65 ms), which makes
//! templating or diffing a large system slow, and makes helm a hard dependency. The design
//! follows Helm's pipeline stage by stage so each Helm behaviour has one place here:
//! `chart` (load, subchart selection, values coalescing, `.Files`), `template` (lexer and
//! parser), `exec` (Go's execution rules), `funcs` (the function library by family),
//! `yaml` (Go's YAML/JSON encodings), `engine` (ordering, parallelism) and `output`
//! (manifest splitting and sorting). Anything not reproduced is an error naming the chart,
//! file and line, never a silent difference.

mod chart;
mod context;
mod engine;
mod exec;
mod funcs;
mod gofmt;
mod object;
mod output;
mod schema;
mod template;
mod value;
mod yaml;

use std::path::Path;

pub use context::{CapabilitiesInfo, ReleaseInfo};

#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    #[error("chart {chart}: {message}")]
    Chart { chart: String, message: String },
    /// A template failed to parse or execute; the message names file, line and column.
    #[error("{0}")]
    Template(String),
    #[error("{0}")]
    Load(String),
}

/// Renders the chart at `chart_dir` for `release` with the user's merged `values` (the
/// chart's own defaults are coalesced under them), returning a `helm template
/// --include-crds`-style stream of `# Source:`-headed documents.
pub fn render_chart(
    chart_dir: &Path,
    release: &ReleaseInfo,
    values: &serde_json::Value,
    capabilities: &CapabilitiesInfo,
) -> Result<String, NativeError> {
    let chart = chart::load::load(chart_dir).map_err(NativeError::Load)?;
    let empty = serde_json::Map::new();
    let user = match values {
        serde_json::Value::Object(map) => map,
        serde_json::Value::Null => &empty,
        _ => return Err(NativeError::Load("values must be a map".into())),
    };
    check_kube_version(&chart, capabilities)?;
    let prepared = engine::prepare(chart, user)?;
    let rendered = engine::render(&prepared, release, capabilities)?;
    output::stream(&prepared.chart, rendered)
}

/// Helm refuses a chart whose `kubeVersion` the target Kubernetes does not satisfy.
fn check_kube_version(
    chart: &chart::load::Chart,
    capabilities: &CapabilitiesInfo,
) -> Result<(), NativeError> {
    let Some(wanted) = chart
        .metadata
        .get("kubeVersion")
        .and_then(serde_json::Value::as_str)
    else {
        return Ok(());
    };
    if wanted.is_empty() || funcs::semver::satisfies(wanted, &capabilities.kube_version) {
        return Ok(());
    }
    Err(NativeError::Chart {
        chart: chart.name().to_string(),
        message: format!(
            "chart requires kubeVersion: {wanted} which is incompatible with Kubernetes {}",
            capabilities.kube_version
        ),
    })
}
