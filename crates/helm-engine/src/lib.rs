//! Helm's chart engine in Rust: what `helm template` does, in-process, over the
//! [`gotemplate`] crate.
//!
//! Why in-process: `helm template` costs a Go process per release (~65 ms), which makes
//! templating or diffing a large system slow, and makes helm a hard dependency. The design
//! follows Helm's pipeline stage by stage so each Helm behaviour has one place here:
//! `chart` (load, subchart selection, values coalescing, `.Files`), `funcs` (Helm's
//! functions over Sprig's), `yaml` (Helm's YAML dialect), `schema` (values.schema.json),
//! `engine` (template order, parallelism), `output` (manifest splitting and sorting) and
//! [`kind_order`] (Helm's install order by kind). Anything not reproduced is an error
//! naming the chart, file and line, never a silent difference. The cluster is reached only
//! through [`Lookup`]; there is no Kubernetes client here.

mod chart;
mod context;
mod engine;
mod funcs;
pub mod kind_order;
mod output;
mod schema;
mod yaml;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

pub use context::{CapabilitiesInfo, ReleaseInfo};
pub use funcs::{Lookup, Offline};
pub use output::{Document, to_stream};
/// Helm's `toYaml`, for embedders whose templates write YAML as Helm does.
pub use yaml::emit::{json_to_yaml, json_to_yaml_in_order, to_yaml};

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

/// Renders charts for one command, reusing what does not depend on a release: loaded
/// charts and parsed templates. Safe to share between rendering threads.
#[derive(Default)]
pub struct NativeRenderer {
    charts: Mutex<HashMap<PathBuf, Arc<chart::load::Chart>>>,
    sets: engine::SetCache,
    /// What `lookup` reads; `None` is [`Offline`], as `helm template`.
    lookup: Option<Arc<dyn Lookup>>,
    /// Threads with stacks deep enough for templates that include themselves 1000 times,
    /// as Helm allows; created on first use.
    pool: OnceLock<Result<rayon::ThreadPool, String>>,
}

/// Stack of each rendering thread: recursion in templates recurses in the executor.
const STACK_SIZE: usize = 512 << 20;

impl NativeRenderer {
    /// A renderer whose templates' `lookup` calls go to `lookup` (the live cluster, for
    /// diff and sync, as `helm upgrade`).
    pub fn with_lookup(lookup: Arc<dyn Lookup>) -> NativeRenderer {
        NativeRenderer {
            lookup: Some(lookup),
            ..NativeRenderer::default()
        }
    }

    /// Renders the chart at `chart_dir` for `release` with the user's merged `values` (the
    /// chart's own defaults are coalesced under them), into the documents `helm template
    /// --include-crds` prints ([`to_stream`] prints them so).
    pub fn render(
        &self,
        chart_dir: &Path,
        release: &ReleaseInfo,
        values: &serde_json::Value,
        capabilities: &CapabilitiesInfo,
    ) -> Result<Vec<Document>, NativeError> {
        let lookup = self.lookup.clone().unwrap_or_else(|| Arc::new(Offline));
        self.render_looking_up(chart_dir, release, values, capabilities, lookup)
    }

    /// [`render`](Self::render) with `lookup` calls going to `lookup`: one renderer serves
    /// the releases of several clusters.
    pub fn render_looking_up(
        &self,
        chart_dir: &Path,
        release: &ReleaseInfo,
        values: &serde_json::Value,
        capabilities: &CapabilitiesInfo,
        lookup: Arc<dyn Lookup>,
    ) -> Result<Vec<Document>, NativeError> {
        let pool = self
            .pool
            .get_or_init(|| {
                rayon::ThreadPoolBuilder::new()
                    .stack_size(STACK_SIZE)
                    .thread_name(|i| format!("helm-render-{i}"))
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| NativeError::Load(format!("cannot start rendering threads: {e}")))?;
        pool.install(|| self.render_here(chart_dir, release, values, capabilities, lookup))
    }

    fn render_here(
        &self,
        chart_dir: &Path,
        release: &ReleaseInfo,
        values: &serde_json::Value,
        capabilities: &CapabilitiesInfo,
        host: Arc<dyn Lookup>,
    ) -> Result<Vec<Document>, NativeError> {
        let chart = self.chart(chart_dir)?;
        let empty = serde_json::Map::new();
        let user = match values {
            serde_json::Value::Object(map) => map,
            serde_json::Value::Null => &empty,
            _ => return Err(NativeError::Load("values must be a map".into())),
        };
        check_kube_version(&chart, capabilities)?;
        check_dependencies(&chart)?;
        let origin = chart_dir.display().to_string();
        let prepared = engine::prepare(chart.as_ref().clone(), &origin, user, &self.sets)?;
        let rendered = engine::render(&prepared, release, capabilities, &host)?;
        output::documents(&prepared.chart, rendered)
    }

    fn chart(&self, dir: &Path) -> Result<Arc<chart::load::Chart>, NativeError> {
        if let Some(chart) = self.charts.lock().ok().and_then(|c| c.get(dir).cloned()) {
            return Ok(chart);
        }
        let chart = Arc::new(chart::load::load(dir).map_err(NativeError::Load)?);
        if let Ok(mut charts) = self.charts.lock() {
            charts.insert(dir.to_path_buf(), chart.clone());
        }
        Ok(chart)
    }
}

/// One YAML document as Helm and kubectl read it: sigs.k8s.io/yaml over go-yaml v2, so YAML
/// 1.1 scalars (`0755` is the octal 493, `yes`/`off` are booleans, `0x1F` is hex) and then
/// the JSON round trip (every key a string). `Null` for an empty document.
pub fn yaml_to_json(text: &str) -> Result<serde_json::Value, String> {
    yaml::parse::from_yaml(text)
}

/// What identifies the object in one YAML document, read as [`yaml_to_json`] reads it but
/// only up to the last of its top-level `apiVersion`, `kind` and `metadata`: the rest of the
/// document is neither read nor checked.
pub fn yaml_head_to_json(text: &str) -> Result<serde_json::Value, String> {
    yaml::parse::head_from_yaml(text)
}

/// Bytes as text, invalid UTF-8 replaced as Go's conversion to string does when printed.
/// Valid text (nearly all of it) takes the fast validation, not the replacing scan, which
/// matters for megabytes of CRDs.
pub(crate) fn text_of(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(data).into_owned(),
    }
}

/// Renders one chart once; see [`NativeRenderer::render`].
pub fn render_chart(
    chart_dir: &Path,
    release: &ReleaseInfo,
    values: &serde_json::Value,
    capabilities: &CapabilitiesInfo,
) -> Result<Vec<Document>, NativeError> {
    NativeRenderer::default().render(chart_dir, release, values, capabilities)
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
    if wanted.is_empty() || masterminds_semver::satisfies(wanted, &capabilities.kube_version) {
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

/// Helm refuses to render a chart whose Chart.yaml lists a dependency that charts/ lacks.
fn check_dependencies(chart: &chart::load::Chart) -> Result<(), NativeError> {
    let missing: Vec<String> = chart
        .declared_dependencies()
        .iter()
        .filter_map(|d| d.get("name").and_then(serde_json::Value::as_str))
        .filter(|name| !chart.dependencies.iter().any(|c| c.name() == *name))
        .map(str::to_string)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(NativeError::Chart {
        chart: chart.name().to_string(),
        message: format!(
            "found in Chart.yaml, but missing in charts/ directory: {}; run `helm dependency build` to fetch them",
            missing.join(", ")
        ),
    })
}
