//! What every command starts from: the loaded releases files, the selection, the
//! command-line values.

use std::path::Path;

use anyhow::Result;

use futures::{StreamExt, TryStreamExt, stream};
use tokio::runtime::Runtime;

use crate::cluster::{Cluster, ConnectOptions};
use crate::config::{self, LoadOptions, Overrides, Spec};
use crate::diff::ReleaseDiff;
use crate::fetch::{FetchedChart, Fetcher};
use crate::plan::{IncludeNeeds, Plan, SelectOptions, Selector};
use crate::render::checks::{self, Documents};
use crate::render::{ClusterView, Reading, RenderOptions, RenderedRelease, Renderer};
use crate::sync::compare::diff_release;
use crate::sync::history;

use super::GlobalArgs;

pub struct Session {
    pub spec: Spec,
    pub plan: Plan,
    pub overrides: Overrides,
}

impl Session {
    pub fn load(global: &GlobalArgs) -> Result<Session> {
        Session::load_keeping_states(global, false)
    }

    /// `load`, keeping each state file as read when `keep_as_read` (for `orch build`).
    pub fn load_keeping_states(global: &GlobalArgs, keep_as_read: bool) -> Result<Session> {
        // Parse what is cheap to get wrong first, so a typo in a flag reports before file errors.
        let selectors = global
            .selectors
            .iter()
            .map(|s| s.parse::<Selector>())
            .collect::<Result<Vec<_>, _>>()?;
        let overrides = Overrides::from_args(&global.values, &global.set)?;
        let spec = config::load(&LoadOptions {
            file: global.file.clone(),
            environment: global.environment.clone(),
            sops_binary: global.sops_binary.clone(),
            keep_as_read,
        })?;
        let include_needs = if global.include_transitive_needs {
            IncludeNeeds::Transitive
        } else if global.include_needs {
            IncludeNeeds::Direct
        } else {
            IncludeNeeds::None
        };
        let plan = Plan::new(
            &spec,
            &SelectOptions {
                selectors,
                include_needs,
                allow_no_matching_release: global.allow_no_matching_release,
            },
        )?;
        Ok(Session {
            spec,
            plan,
            overrides,
        })
    }

    /// Connects to the cluster of `--kube-context`, else of the environment's `kubeContext`,
    /// else kubeconfig's current context. The runtime drives all cluster IO of the command.
    pub fn connect(&self, global: &GlobalArgs) -> Result<(Runtime, Cluster)> {
        for &index in &self.enabled() {
            self.spec.releases[index].check_namespace()?;
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let options = ConnectOptions {
            kubeconfig: global.kubeconfig.clone(),
            context: match &global.kube_context {
                Some(context) => Some(context.clone()),
                None => self.release_context()?,
            },
        };
        let cluster = runtime.block_on(Cluster::connect(&options))?;
        Ok((runtime, cluster))
    }

    /// The kubeconfig context the selected releases name (their own `kubeContext`, else
    /// helmDefaults', else the environment's). One run talks to one cluster, so releases
    /// naming different contexts are an error rather than silently all sent to one.
    fn release_context(&self) -> Result<Option<String>> {
        let mut contexts: Vec<Option<&String>> = self
            .enabled()
            .iter()
            .map(|&i| self.spec.releases[i].kube_context.as_ref())
            .collect();
        contexts.sort();
        contexts.dedup();
        match contexts.as_slice() {
            [] => Ok(None),
            [only] => Ok(only.cloned()),
            several => anyhow::bail!(
                "the selected releases name {} kube contexts ({}); orch works on one cluster per run: \
                 select releases of one context with -l, or pass --kube-context",
                several.len(),
                several
                    .iter()
                    .map(|c| c.map_or("the current context", |c| c.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The selected releases that are enabled, in DAG order: what cluster commands act on.
    pub fn enabled(&self) -> Vec<usize> {
        self.plan
            .ordered()
            .into_iter()
            .filter(|&i| self.spec.releases[i].enabled)
            .collect()
    }

    /// The selected releases that are to exist, in DAG order: what is fetched and rendered.
    pub fn desired(&self) -> Vec<usize> {
        self.plan
            .ordered()
            .into_iter()
            .filter(|&i| self.spec.releases[i].desired())
            .collect()
    }

    /// Runs the helmfile hooks the selected releases that are to exist have for `event`:
    /// `prepare` before rendering and `cleanup` at the end, where helmfile runs them
    /// (template, lint, diff, sync, apply, write-values).
    pub fn run_hooks(&self, global: &GlobalArgs, event: config::HookEvent) -> Result<()> {
        self.run_hooks_of(global, event, &self.desired())
    }

    /// The state files' hooks for `event`, and those of `releases` (indexes).
    pub fn run_hooks_of(
        &self,
        global: &GlobalArgs,
        event: config::HookEvent,
        releases: &[usize],
    ) -> Result<()> {
        let progress: Box<dyn crate::sync::Progress> = if global.quiet || global.json_logs() {
            crate::report::progress::for_stderr(global.quiet, global.json_logs())
        } else {
            Box::new(crate::report::progress::Lines)
        };
        let releases = releases.iter().map(|&i| &self.spec.releases[i]);
        crate::sync::events::run_all(&self.spec, releases, event, progress.as_ref())
            .map_err(anyhow::Error::msg)
    }

    /// The charts of `releases`, fetched (or found in the cache with `--skip-deps`). Every
    /// failure is reported, not just the first.
    pub fn fetch(
        &self,
        fetcher: &Fetcher<'_>,
        releases: &[usize],
    ) -> Result<Vec<(usize, FetchedChart)>> {
        let results = fetcher.fetch_all(&self.spec.releases, releases);
        let charts = all_or_failures(
            "fetch their charts",
            releases.iter().zip(results).map(|(&index, result)| {
                let release = &self.spec.releases[index];
                result
                    .map(|chart| (index, chart))
                    .map_err(|err| format!("{}: release {}: {err}", release.defined_at, release.id))
            }),
        )?;
        Ok(charts)
    }

    /// What charts rendered for `cluster` see, with the selected releases' latest recorded
    /// revisions (one list of records per namespace).
    pub fn cluster_view(&self, runtime: &Runtime, cluster: &Cluster) -> Result<ClusterView> {
        let namespaces = self
            .desired()
            .iter()
            .map(|&i| self.spec.releases[i].id.namespace.clone())
            .collect();
        let revisions = runtime.block_on(history::latest_revisions(cluster, &namespaces))?;
        let mut view = cluster.view(runtime.handle().clone(), revisions);
        // The deployed values of the releases that reuse them, as helm's --reuse-values.
        for &index in &self.desired() {
            let release = &self.spec.releases[index];
            if !release.reuse_values {
                continue;
            }
            let history = runtime.block_on(history::load(cluster, &release.id))?;
            if let Some(deployed) = crate::record::deployed(&history) {
                let config = serde_json::Value::Object(deployed.config.clone());
                view.reused_values.insert(release.id.clone(), config);
            }
        }
        Ok(view)
    }

    /// Fetches and renders the selected releases that are to exist, in DAG order, for a
    /// cluster as `cluster` shows it (offline: Helm's defaults and an empty `lookup`, as
    /// `helm template`), and checks what no cluster could take: objects without
    /// apiVersion, kind or name (unless `documents` allows any YAML), and objects two
    /// releases both render. Any failure fails the whole render, before anything is
    /// written to a cluster. `reading` says how much of each manifest is read (and so
    /// checked) beyond that.
    pub fn render(
        &self,
        global: &GlobalArgs,
        cluster: Option<ClusterView>,
        reading: Reading,
        documents: Documents,
    ) -> Result<Vec<RenderedRelease>> {
        let fetcher = Fetcher::new(&self.spec.repositories, &global.fetch_options())?;
        let charts = self.fetch(&fetcher, &self.desired())?;
        let renderer = Renderer::new(&RenderOptions {
            renderer: global.renderer(),
            helm_binary: global.helm_binary(),
            kustomize_binary: global.kustomize_binary.clone(),
            concurrency: global.concurrency,
            cluster,
            reading,
        })?;
        let jobs: Vec<(usize, &Path)> = charts
            .iter()
            .map(|(index, chart)| (*index, chart.dir.as_path()))
            .collect();
        let results = renderer.render_all(&self.spec, &jobs, &self.overrides);
        // The renderer's caches (every chart loaded, every template parsed) take
        // milliseconds to free and nothing after this needs them.
        std::thread::spawn(move || drop(renderer));
        let rendered = all_or_failures(
            "render",
            results.into_iter().map(|r| r.map_err(|e| e.to_string())),
        )?;
        let problems = checks::problems(&self.spec, &rendered, documents);
        match problems.len() {
            0 => Ok(rendered),
            1 => anyhow::bail!("{}", problems[0]),
            n => anyhow::bail!("{n} problems:\n{}", problems.join("\n")),
        }
    }
}

/// Every result's value, or one error listing every failure (`N releases failed to WHAT`).
fn all_or_failures<T>(
    what: &str,
    results: impl Iterator<Item = Result<T, String>>,
) -> Result<Vec<T>> {
    let mut values = Vec::new();
    let mut failures = Vec::new();
    for result in results {
        match result {
            Ok(value) => values.push(value),
            Err(err) => failures.push(err),
        }
    }
    match failures.len() {
        0 => Ok(values),
        1 => anyhow::bail!("{}", failures[0]),
        n => anyhow::bail!("{n} releases failed to {what}:\n{}", failures.join("\n")),
    }
}

impl Session {
    /// The diff of every enabled selected release against the cluster, in DAG order.
    pub fn diffs(
        &self,
        runtime: &Runtime,
        cluster: &Cluster,
        rendered: &[RenderedRelease],
        context: usize,
    ) -> Result<Vec<ReleaseDiff>> {
        /// Releases compared at once.
        const PARALLEL_RELEASES: usize = 8;
        let diffs = runtime.block_on(
            stream::iter(self.enabled())
                .map(|index| {
                    let manifests = rendered
                        .iter()
                        .find(|r| r.index == index)
                        .map(|r| r.manifests.as_slice());
                    let release = &self.spec.releases[index];
                    let id = &release.id;
                    async move {
                        let diff = diff_release(cluster, release, manifests, context)
                            .await
                            .map_err(|e| anyhow::anyhow!("release {id}: {e}"))?;
                        let patterns = &release.suppressed_diff_lines;
                        anyhow::Ok(diff.reviewed(patterns, release.suppress_diff))
                    }
                })
                .buffered(PARALLEL_RELEASES)
                .try_collect::<Vec<_>>(),
        )?;
        Ok(diffs)
    }
}

/// Resolves on the first Ctrl-C (SIGINT); never where signals cannot be caught.
pub async fn interrupt() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
