//! What every command starts from: the loaded releases files, the selection, the
//! command-line values.

use std::path::Path;

use anyhow::Result;

use futures::{StreamExt, TryStreamExt, stream};
use tokio::runtime::Runtime;

use crate::cluster::{Cluster, ClusterTarget, Clusters};
use crate::config::{self, LoadOptions, Overrides, ReleaseSpec, Spec};
use crate::diff::ReleaseDiff;
use crate::fetch::{FetchedChart, Fetcher};
use crate::plan::{IncludeNeeds, Plan, SelectOptions, Selector};
use crate::render::checks::{self, Documents};
use crate::render::{ClusterViews, Reading, RenderOptions, RenderedRelease, Renderer};
use crate::sync::compare::diff_release;
use crate::sync::history;

use super::GlobalArgs;

pub struct Session {
    pub spec: Spec,
    pub plan: Plan,
    pub overrides: Overrides,
}

/// A command's clusters, and the runtime that drives all their IO.
pub struct Connection {
    pub runtime: Runtime,
    pub clusters: Clusters,
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
        let mut session = Session {
            spec,
            plan,
            overrides,
        };
        session.assign_clusters(global);
        Ok(session)
    }

    /// Narrows the run to the one release `name` names, among the selected enabled ones:
    /// by its name, `namespace/name`, or in a run across clusters `context/namespace/name`.
    /// For the commands about one release (`history`, `rollback`).
    pub fn select_one(&mut self, name: &str) -> Result<usize> {
        let matches: Vec<usize> = self
            .enabled()
            .into_iter()
            .filter(|&i| {
                let id = &self.spec.releases[i].id;
                name == id.name
                    || name == format!("{}/{}", id.namespace, id.name)
                    || name == id.to_string()
            })
            .collect();
        match matches[..] {
            [index] => {
                self.plan.selected = (0..self.spec.releases.len()).map(|i| i == index).collect();
                Ok(index)
            }
            [] => {
                let known: Vec<String> = self
                    .enabled()
                    .iter()
                    .map(|&i| self.spec.releases[i].id.to_string())
                    .collect();
                anyhow::bail!(
                    "no release {name} in the releases files (for this environment and \
                     selection); the releases are: {}",
                    known.join(", ")
                )
            }
            _ => {
                let ids: Vec<String> = matches
                    .iter()
                    .map(|&i| self.spec.releases[i].id.to_string())
                    .collect();
                anyhow::bail!(
                    "{name} names {} releases: {}; name one in full",
                    ids.len(),
                    ids.join(", ")
                )
            }
        }
    }

    /// Each release's cluster: `--kube-context` for all, else its own context (its
    /// `kubeContext`, else helmDefaults', else the environment's, else the kubeconfig's
    /// current one). When the releases to act on span several clusters, each release's id
    /// names its cluster, so every output does.
    fn assign_clusters(&mut self, global: &GlobalArgs) {
        if let Some(context) = &global.kube_context {
            for release in &mut self.spec.releases {
                release.kube_context = Some(context.clone());
            }
        }
        let contexts = self.contexts();
        if contexts.len() < 2 {
            return;
        }
        let current = crate::cluster::current_context(global.kubeconfig.as_deref());
        for release in &mut self.spec.releases {
            let label = release.kube_context.clone().or_else(|| current.clone());
            release.id.cluster = Some(label.unwrap_or_else(|| "(current context)".into()));
        }
    }

    /// The kube contexts of the releases to act on, each once.
    fn contexts(&self) -> Vec<Option<String>> {
        let mut contexts: Vec<Option<String>> = self
            .enabled()
            .iter()
            .map(|&i| self.spec.releases[i].kube_context.clone())
            .collect();
        contexts.sort();
        contexts.dedup();
        contexts
    }

    /// Connects to the cluster of each release to act on, each once, at once. The runtime
    /// drives all cluster IO of the command.
    pub fn connect(&self, global: &GlobalArgs) -> Result<Connection> {
        for &index in &self.enabled() {
            self.spec.releases[index].check_namespace()?;
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let targets = self
            .contexts()
            .into_iter()
            .map(|context| {
                // A release of the context shows the label its cluster's records get.
                let label = self
                    .spec
                    .releases
                    .iter()
                    .find(|r| r.kube_context == context)
                    .and_then(|r| r.id.cluster.clone());
                ClusterTarget { context, label }
            })
            .collect();
        let clusters = runtime.block_on(Clusters::connect(global.kubeconfig.clone(), targets))?;
        Ok(Connection { runtime, clusters })
    }

    /// The cluster of release `index`, or why it cannot be reached.
    pub fn cluster_of<'c>(&self, connection: &'c Connection, index: usize) -> Result<&'c Cluster> {
        let context = self.spec.releases[index].kube_context.as_deref();
        connection.clusters.get(context).map_err(anyhow::Error::msg)
    }

    /// The releases to act on whose cluster answered, in DAG order, each with its cluster.
    pub fn reachable<'c>(&self, connection: &'c Connection) -> Vec<(usize, &'c Cluster)> {
        self.enabled()
            .into_iter()
            .filter_map(|i| Some((i, self.cluster_of(connection, i).ok()?)))
            .collect()
    }

    /// The releases to act on whose cluster cannot be reached, each with why.
    pub fn unreachable(&self, connection: &Connection) -> Vec<(usize, String)> {
        self.enabled()
            .into_iter()
            .filter_map(|i| Some((i, self.cluster_of(connection, i).err()?.to_string())))
            .collect()
    }

    /// Logs each release to act on whose cluster cannot be reached, with why; whether any.
    /// For the commands that show what the other clusters have, then fail.
    pub fn report_unreachable(&self, connection: &Connection) -> bool {
        let unreachable = self.unreachable(connection);
        for (index, why) in &unreachable {
            tracing::error!("release {}: {why}", self.spec.releases[*index].id);
        }
        !unreachable.is_empty()
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

    /// What charts rendered for each reachable cluster see, with the latest recorded
    /// revisions of its releases (one list of records per namespace); the clusters are
    /// read at once.
    pub fn cluster_views(&self, connection: &Connection) -> Result<ClusterViews> {
        let runtime = &connection.runtime;
        let desired = self.desired();
        let views = connection.clusters.reachable().map(|(context, cluster)| {
            let releases: Vec<&ReleaseSpec> = desired
                .iter()
                .map(|&i| &self.spec.releases[i])
                .filter(|r| r.kube_context.as_deref() == context)
                .collect();
            async move {
                let namespaces = releases.iter().map(|r| r.id.namespace.clone()).collect();
                let revisions = history::latest_revisions(cluster, &namespaces).await?;
                let mut view = cluster.view(runtime.handle().clone(), revisions);
                // The deployed values of the releases that reuse them, as helm's
                // --reuse-values.
                for release in releases.iter().filter(|r| r.reuse_values) {
                    let history = history::load(cluster, &release.id).await?;
                    if let Some(deployed) = crate::record::deployed(&history) {
                        let config = serde_json::Value::Object(deployed.config.clone());
                        view.reused_values.insert(release.id.clone(), config);
                    }
                }
                anyhow::Ok((context.map(str::to_string), view))
            }
        });
        let views = runtime.block_on(futures::future::try_join_all(views))?;
        Ok(views.into_iter().collect())
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
        clusters: Option<ClusterViews>,
        reading: Reading,
        documents: Documents,
    ) -> Result<Vec<RenderedRelease>> {
        let fetcher = Fetcher::new(&self.spec.repositories, &global.fetch_options())?;
        // Connected, the releases of a cluster that cannot be reached are not rendered: they
        // fail, with the reason, where they would be acted on.
        let releases: Vec<usize> = match &clusters {
            Some(views) => self
                .desired()
                .into_iter()
                .filter(|&i| views.contains_key(&self.spec.releases[i].kube_context))
                .collect(),
            None => self.desired(),
        };
        let charts = self.fetch(&fetcher, &releases)?;
        let renderer = Renderer::new(&RenderOptions {
            renderer: global.renderer(),
            helm_binary: global.helm_binary(),
            kustomize_binary: global.kustomize_binary.clone(),
            concurrency: global.concurrency,
            clusters: clusters.unwrap_or_default(),
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
    /// The diff of every enabled selected release against its cluster, in DAG order; those
    /// whose cluster cannot be reached are left out (see [`Session::unreachable`]).
    pub fn diffs(
        &self,
        connection: &Connection,
        rendered: &[RenderedRelease],
        context: usize,
    ) -> Result<Vec<ReleaseDiff>> {
        /// Releases compared at once.
        const PARALLEL_RELEASES: usize = 8;
        let diffs = connection.runtime.block_on(
            stream::iter(self.reachable(connection))
                .map(|(index, cluster)| {
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
