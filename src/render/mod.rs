//! The render stage: each release's chart and merged values -> manifests.
//!
//! Helm charts render in-process by default (`native`, Go templates reimplemented), or
//! through `helm template` when asked; directories of plain or minijinja manifests are
//! rendered in-process. Charts arrive as directories from the fetch stage. Releases render
//! in parallel on a rayon pool of `concurrency` threads.

pub mod checks;
mod directory;
mod helm;
mod kustomize;
pub mod manifest;
mod patches;
mod post_render;
mod strategic_merge;
mod transformers;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::{ConfigError, Overrides, ReleaseId, Spec};

pub use manifest::{Manifest, ObjectKey, Reading};

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Values(#[from] ConfigError),
    #[error("{at}: release {release}: {message}")]
    Chart {
        at: crate::config::Location,
        release: String,
        message: String,
    },
    #[error("cannot start rendering: {0}")]
    Setup(String),
}

/// Which engine renders Helm charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RendererKind {
    /// The native renderer; a construct it does not support is an error, not a fallback.
    #[default]
    Auto,
    Native,
    /// `helm template` in a subprocess.
    Helm,
}

pub struct RenderOptions {
    pub renderer: RendererKind,
    pub helm_binary: PathBuf,
    /// `kubectl` (runs `kubectl kustomize`) or `kustomize` (runs `kustomize build`).
    pub kustomize_binary: PathBuf,
    /// Releases rendered at once; 0 means one per CPU.
    pub concurrency: usize,
    /// Each target cluster's view by kube context, when connected: what `helm upgrade`
    /// would see there. A release whose context has none renders offline.
    pub clusters: ClusterViews,
    pub reading: Reading,
}

/// The views of a run's clusters, by kube context (`None`: the kubeconfig's current one).
pub type ClusterViews = HashMap<Option<String>, ClusterView>;

/// What charts see of the cluster they are rendered for, as in `helm upgrade`.
#[derive(Clone)]
pub struct ClusterView {
    pub capabilities: Capabilities,
    /// Where templates' `lookup` reads live objects (read-only).
    pub lookup: Arc<dyn helm_engine::Lookup>,
    /// The latest recorded revision of each release that exists: the next render is its
    /// upgrade to the revision after.
    pub revisions: HashMap<ReleaseId, u64>,
    /// What `helm` needs to reach the same cluster (`--kubeconfig`, `--kube-context`).
    pub helm_access: Vec<String>,
    /// The deployed values of each release with `reuseValues`, which its new values merge
    /// over (helm's --reuse-values).
    pub reused_values: HashMap<ReleaseId, serde_json::Value>,
}

/// `.Release.Revision` and `.Release.IsUpgrade` for a release, as `helm upgrade --install`
/// sets them: the revision after the latest recorded one, else a first install.
pub fn release_revision(view: Option<&ClusterView>, id: &ReleaseId) -> (i64, bool) {
    match view.and_then(|v| v.revisions.get(id)) {
        Some(&latest) => (i64::try_from(latest).unwrap_or(i64::MAX - 1) + 1, true),
        None => (1, false),
    }
}

/// What charts see as `.Capabilities`: the server's version and the API versions it serves.
#[derive(Debug, Clone)]
pub struct Capabilities {
    pub kube_version: String,
    pub api_versions: Vec<String>,
}

/// One release's rendered objects, in the order its chart produced them.
#[derive(Debug)]
pub struct RenderedRelease {
    /// The release's index in `Spec::releases`.
    pub index: usize,
    pub manifests: Vec<Manifest>,
    /// The merged values it was rendered with (before the chart's defaults).
    pub values: serde_json::Value,
    /// The chart's Chart.yaml; for a manifest directory, its name and version 0.0.0.
    pub chart: serde_json::Value,
}

/// The stack of each of the renderer's threads. A thread waiting for the native renderer's
/// own pool runs other releases' jobs meanwhile (rayon's work stealing), each waiting in
/// turn, so its stack grows with the releases: a default 2 MiB one overflowed at 2000.
/// Only what is used is committed.
const RENDER_STACK: usize = 512 << 20;

pub struct Renderer {
    kind: RendererKind,
    native: helm_engine::NativeRenderer,
    helm: helm::Helm,
    kustomize_binary: PathBuf,
    pool: rayon::ThreadPool,
    clusters: ClusterViews,
    reading: Reading,
}

impl Renderer {
    pub fn new(options: &RenderOptions) -> Result<Self, RenderError> {
        let helm = helm::Helm::new(options.helm_binary.clone())
            .map_err(|err| RenderError::Setup(err.to_string()))?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(options.concurrency)
            .thread_name(|i| format!("render-{i}"))
            .stack_size(RENDER_STACK)
            .build()
            .map_err(|err| RenderError::Setup(err.to_string()))?;
        Ok(Renderer {
            kind: options.renderer,
            native: helm_engine::NativeRenderer::default(),
            helm,
            kustomize_binary: options.kustomize_binary.clone(),
            pool,
            clusters: options.clusters.clone(),
            reading: options.reading,
        })
    }

    /// Renders `releases`: indices into `spec.releases`, each with its chart's directory as
    /// the fetch stage left it. Results come in the same order.
    pub fn render_all(
        &self,
        spec: &Spec,
        releases: &[(usize, &Path)],
        overrides: &Overrides,
    ) -> Vec<Result<RenderedRelease, RenderError>> {
        self.pool.install(|| {
            releases
                .par_iter()
                .map(|&(index, dir)| self.render(spec, index, dir, overrides))
                .collect()
        })
    }

    fn render(
        &self,
        spec: &Spec,
        index: usize,
        dir: &Path,
        overrides: &Overrides,
    ) -> Result<RenderedRelease, RenderError> {
        let release = &spec.releases[index];
        let fail = |message: String| RenderError::Chart {
            at: release.defined_at.clone(),
            release: release.id.to_string(),
            message,
        };
        let cluster = self.clusters.get(&release.kube_context);
        let mut values = spec.release_values(release, overrides)?;
        if let Some(reused) = cluster.and_then(|c| c.reused_values.get(&release.id)) {
            let mut merged = reused.clone();
            crate::config::values::merge(&mut merged, values);
            values = merged;
        }
        let chart_file = dir.join("Chart.yaml");
        let (mut manifests, chart) = if chart_file.is_file() {
            let chart = crate::config::read_text(&chart_file)
                .and_then(|text| crate::config::yaml::parse_document(&text, &chart_file, 1))
                .map_err(|e| fail(e.to_string()))?;
            let manifests = match self.kind {
                RendererKind::Helm => {
                    let stream = self
                        .helm
                        .template(release, dir, &values, cluster)
                        .map_err(fail)?;
                    manifest::split(&stream, release.chart_name(), self.reading)
                }
                RendererKind::Auto | RendererKind::Native => {
                    let documents = self
                        .native_template(release, dir, &values, cluster)
                        .map_err(fail)?;
                    manifest::from_documents(documents, self.reading)
                }
            };
            (manifests.map_err(fail)?, chart)
        } else if kustomize::is_kustomization(dir) {
            let stream = kustomize::build(&self.kustomize_binary, dir).map_err(fail)?;
            let source = format!("{}/kustomization.yaml", release.chart_name());
            let chart = serde_json::json!({"apiVersion": "v2", "name": release.chart_name(), "version": "0.0.0"});
            (
                manifest::split(&stream, &source, self.reading).map_err(fail)?,
                chart,
            )
        } else {
            let chart = serde_json::json!({"apiVersion": "v2", "name": release.chart_name(), "version": "0.0.0"});
            (
                directory::render(spec, release, dir, &values, self.reading).map_err(fail)?,
                chart,
            )
        };
        patches::apply(release, &mut manifests).map_err(fail)?;
        if let Some(post_renderer) = &release.post_renderer {
            post_render::run(
                post_renderer,
                &mut manifests,
                &release.base_dir,
                self.reading,
            )
            .map_err(fail)?;
        }
        Ok(RenderedRelease {
            index,
            manifests,
            values,
            chart,
        })
    }
}

impl Renderer {
    /// The native equivalent of `helm template`, or with a cluster of `helm upgrade`'s
    /// rendering: offline, Helm's built-in API versions; connected, exactly the cluster's.
    /// The release's own `kubeVersion` wins, and its `apiVersions` add, either way (through
    /// helm, connected, they do not apply: `helm template --validate` ignores them).
    fn native_template(
        &self,
        release: &crate::config::ReleaseSpec,
        dir: &std::path::Path,
        values: &serde_json::Value,
        cluster: Option<&ClusterView>,
    ) -> Result<Vec<helm_engine::Document>, String> {
        let capabilities = match cluster.map(|c| &c.capabilities) {
            Some(cluster) => {
                let mut api_versions = cluster.api_versions.clone();
                api_versions.extend(release.api_versions.iter().cloned());
                let kube_version = release.kube_version.as_deref();
                helm_engine::CapabilitiesInfo::of_cluster(
                    kube_version.unwrap_or(&cluster.kube_version),
                    api_versions,
                )?
            }
            None => helm_engine::CapabilitiesInfo::new(
                release.kube_version.as_deref(),
                &release.api_versions,
            )?,
        };
        let (revision, is_upgrade) = release_revision(cluster, &release.id);
        let info = helm_engine::ReleaseInfo {
            name: release.id.name.clone(),
            namespace: release.id.namespace.clone(),
            revision,
            is_upgrade,
        };
        let lookup = match cluster {
            Some(cluster) => cluster.lookup.clone(),
            None => Arc::new(helm_engine::Offline),
        };
        self.native
            .render_looking_up(dir, &info, values, &capabilities, lookup)
            .map_err(|e| e.to_string())
    }
}
