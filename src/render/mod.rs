//! The render stage: each release's chart and merged values -> manifests.
//!
//! Helm charts go through `helm template`; directories of plain or minijinja manifests are
//! rendered in-process. Releases render in parallel on a rayon pool of `concurrency` threads.

pub mod checks;
mod directory;
mod helm;
pub mod manifest;

use std::path::PathBuf;

use rayon::prelude::*;

use crate::config::{ConfigError, Overrides, ReleaseSpec, Spec};

pub use manifest::{Manifest, ObjectKey};

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

pub struct RenderOptions {
    pub helm_binary: PathBuf,
    /// Releases rendered at once; 0 means one per CPU.
    pub concurrency: usize,
    /// The target cluster's, when connected; charts then choose API versions it serves.
    pub capabilities: Option<Capabilities>,
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
}

pub struct Renderer {
    helm: helm::Helm,
    pool: rayon::ThreadPool,
    capabilities: Option<Capabilities>,
}

impl Renderer {
    pub fn new(options: &RenderOptions) -> Result<Self, RenderError> {
        let helm = helm::Helm::new(options.helm_binary.clone())
            .map_err(|err| RenderError::Setup(err.to_string()))?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(options.concurrency)
            .build()
            .map_err(|err| RenderError::Setup(err.to_string()))?;
        Ok(Renderer {
            helm,
            pool,
            capabilities: options.capabilities.clone(),
        })
    }

    /// Renders `releases` (indices into `spec.releases`); results come in the same order.
    pub fn render_all(
        &self,
        spec: &Spec,
        releases: &[usize],
        overrides: &Overrides,
    ) -> Vec<Result<RenderedRelease, RenderError>> {
        self.pool.install(|| {
            releases
                .par_iter()
                .map(|&index| {
                    let manifests = self.render(spec, &spec.releases[index], overrides)?;
                    Ok(RenderedRelease { index, manifests })
                })
                .collect()
        })
    }

    fn render(
        &self,
        spec: &Spec,
        release: &ReleaseSpec,
        overrides: &Overrides,
    ) -> Result<Vec<Manifest>, RenderError> {
        let fail = |message: String| RenderError::Chart {
            at: release.defined_at.clone(),
            release: release.id.to_string(),
            message,
        };
        let values = spec.release_values(release, overrides)?;
        let Some(dir) = release.chart_dir() else {
            return Err(fail(format!(
                "chart `{}` is not a local directory; charts from repositories are not supported yet",
                release.chart
            )));
        };
        if !dir.is_dir() {
            return Err(fail(format!(
                "chart directory {} does not exist",
                dir.display()
            )));
        }
        if dir.join("Chart.yaml").is_file() {
            let stream = self
                .helm
                .template(release, &dir, &values, self.capabilities.as_ref())
                .map_err(fail)?;
            manifest::split(&stream, release.chart_name()).map_err(fail)
        } else if dir.join("kustomization.yaml").is_file() {
            Err(fail(format!(
                "{} is a Kustomize directory; Kustomize releases are not supported yet",
                dir.display()
            )))
        } else {
            directory::render(spec, release, &dir, &values).map_err(fail)
        }
    }
}
