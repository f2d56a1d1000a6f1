//! The config stage: releases files, environments and values layering -> `Spec`.
//!
//! Files are loaded in two passes, as helmfile does: environments first (from plain files and
//! from the first document of `*.j2` templates), then the templated rest, rendered with the
//! chosen environment's values. All files together form one set of releases.

mod as_read;
mod error;
mod gotmpl;
mod hcl;
mod inherit;
mod layering;
mod lock;
mod schema;
mod secrets;
mod source;
mod states;
mod template;
pub mod transformers;
pub mod values;
pub mod yaml;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

pub use as_read::StateAsRead;
pub use error::{ConfigError, Location};
pub use layering::Overrides;
pub use schema::{MissingFileHandler, PatchTargetDoc, RepositoryDoc as Repository};
pub use source::read_text;

use error::shorten;
use gotmpl::Pass;
use schema::{HelmDefaultsDoc, ReleaseDoc, ValuesEntry};
use source::Document;
use states::{Loader, Part, Place, TOP_STATE};
use template::Templates;
use values::Assignment;

/// The environment every command runs in when `-e` is not given, as in helmfile.
pub const DEFAULT_ENVIRONMENT: &str = "default";
/// Helm's default wait timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

pub struct LoadOptions {
    /// A releases file or a directory of them; `None` looks for `releases/` then `helmfile.yaml`.
    pub file: Option<PathBuf>,
    pub environment: String,
    /// What decrypts `secrets` files.
    pub sops_binary: PathBuf,
    /// Keep each state file as read, in `Spec::states_as_read` (for `orch build`).
    pub keep_as_read: bool,
}

/// Everything the releases files say, resolved for one environment.
pub struct Spec {
    /// The environment of the releases files given (a sub-helmfile's releases have their own).
    pub environment: Arc<Environment>,
    pub releases: Vec<ReleaseSpec>,
    pub repositories: Vec<Repository>,
    /// The state files' own hooks, in file order.
    pub state_hooks: Vec<StateHook>,
    /// Each state file as read, when `LoadOptions::keep_as_read` asks for it.
    pub states_as_read: Vec<StateAsRead>,
    templates: Templates,
    /// What decrypts releases' `secrets` when their values are read.
    sops_binary: PathBuf,
}

#[derive(Debug)]
pub struct Environment {
    pub name: String,
    pub values: Value,
    /// The values read from `secrets` files, merged: what is never shown.
    pub secret_values: Value,
    pub kube_context: Option<String>,
}

/// A release's identity: Helm's release names are per namespace, and a run may span
/// several clusters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReleaseId {
    /// The kube context of its cluster, when the run spans several: then every output
    /// names it, as helmfile's `context/namespace/name`.
    pub cluster: Option<String>,
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ReleaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(cluster) = &self.cluster {
            write!(f, "{cluster}/")?;
        }
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

#[derive(Debug, Clone)]
pub struct ReleaseSpec {
    pub id: ReleaseId,
    pub kube_context: Option<String>,
    /// The chart as written: a path relative to `base_dir`, or `repo/name`.
    pub chart: String,
    /// The version constraint as written (what `list` shows).
    pub version: Option<String>,
    /// The version the state's lock file pins, which is the one fetched.
    pub locked_version: Option<String>,
    /// Pre-release versions count when no version is named (helm's --devel).
    pub devel: bool,
    /// An upgrade's values merge over the deployed revision's (helm's --reuse-values).
    pub reuse_values: bool,
    /// The release's own labels over its file's `commonLabels` (implicit ones not included).
    pub labels: BTreeMap<String, String>,
    pub needs: Vec<String>,
    /// `installed: false`: the release must be absent.
    pub installed: bool,
    /// False when its `condition` is not true in the environment's values.
    pub enabled: bool,
    pub create_namespace: bool,
    pub wait: bool,
    pub timeout: Duration,
    pub atomic: bool,
    /// How many revision records to keep (helm's --history-max); 0 keeps them all.
    pub history_max: usize,
    /// The selectors of the sub-helmfile entry that brought the release in: it is acted on
    /// only if it matches one, whatever the command line selects (helmfile's `selectors`).
    pub file_selectors: Option<FileSelectors>,
    /// An object whose immutable fields change is deleted and created again (helm's --force).
    pub force: bool,
    /// A failed upgrade deletes the objects it created (helm's --cleanup-on-fail).
    pub cleanup_on_fail: bool,
    /// A review shows objects of kinds the cluster does not serve yet as new, instead of
    /// failing (helmfile's `disableValidation`, helm-diff's --disable-validation).
    pub disable_validation: bool,
    /// `disable_validation` until the release is first installed (helmfile's
    /// `disableValidationOnInstall`).
    pub disable_validation_on_install: bool,
    /// Sync takes fields other field managers own (helmDefaults.syncArgs
    /// `--force-conflicts`), as `orch sync --force-conflicts` does for every release.
    pub force_conflicts: bool,
    pub values: Vec<ValuesSource>,
    pub set: Vec<Assignment>,
    /// `set` entries of a file's text (helm's --set-file), applied after the others as helm
    /// does; the file is read with the values.
    pub set_files: Vec<(Vec<values::PathStep>, PathBuf)>,
    pub api_versions: Vec<String>,
    pub kube_version: Option<String>,
    pub missing_file_handler: MissingFileHandler,
    /// Applied to the rendered objects, in order.
    pub json_patches: Vec<JsonPatch>,
    /// Strategic merge patches of the rendered objects, after `json_patches`, as helmfile
    /// applies them.
    pub strategic_merge_patches: Vec<Value>,
    /// The namespace every rendered object is put in (helmfile's `forceNamespace`).
    pub force_namespace: Option<String>,
    /// Run over the rendered objects after the patches, in order.
    pub transformers: Vec<transformers::Transformer>,
    /// Charts added to the release's chart as its dependencies, at fetch.
    pub dependencies: Vec<ChartDependency>,
    /// The chart renders with its `charts/` as it is: missing dependencies are not fetched
    /// (helmfile's `skipDeps`, no `helm dependency build`).
    pub skip_deps: bool,
    /// The command the rendered objects pass through last.
    pub post_renderer: Option<PostRenderer>,
    /// A review shows which objects change, not how (helmfile's `suppressDiff`).
    pub suppress_diff: bool,
    /// Lines a review leaves out of the diff (helm-diff's --suppress-output-line-regex).
    pub suppressed_diff_lines: Vec<regex::Regex>,
    pub hooks: Vec<ReleaseHook>,
    /// The environment of its state: what its values files are rendered with.
    pub environment: Arc<Environment>,
    /// The directory of the releases file: chart and values paths are relative to it.
    pub base_dir: PathBuf,
    pub defined_at: Location,
}

/// A release's helmfile hook: `command` with `args` (Go templates, rendered when it runs),
/// at each of `events`.
#[derive(Debug, Clone)]
pub struct ReleaseHook {
    pub name: Option<String>,
    pub events: Vec<HookEvent>,
    pub command: String,
    pub args: Vec<String>,
    /// Print the command's output, not only whether it failed.
    pub show_logs: bool,
}

/// A state file's own hook: helmfile runs it at `prepare`, before any chart is rendered,
/// and at `cleanup`, after the command, once per run.
#[derive(Debug, Clone)]
pub struct StateHook {
    pub hook: ReleaseHook,
    /// Where its command runs: the state file's directory.
    pub base_dir: PathBuf,
    pub defined_at: Location,
}

/// Whose hooks, and the events helmfile runs them at.
struct HookScope {
    whose: &'static str,
    events: &'static [(&'static str, HookEvent)],
}

const RELEASE_HOOKS: HookScope = HookScope {
    whose: "a release's",
    events: &HookEvent::ALL,
};

const STATE_HOOKS: HookScope = HookScope {
    whose: "a state's own",
    events: &[
        ("prepare", HookEvent::Prepare),
        ("cleanup", HookEvent::Cleanup),
    ],
};

/// When helmfile runs a release's hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookEvent {
    /// Before the release is rendered, by template, lint, diff, sync, apply, write-values.
    Prepare,
    /// Before the release is installed or upgraded.
    Presync,
    /// After it is installed or upgraded, whether that worked or not.
    Postsync,
    Preuninstall,
    Postuninstall,
    /// After the command is done with the release.
    Cleanup,
}

impl HookEvent {
    const ALL: [(&'static str, HookEvent); 6] = [
        ("prepare", HookEvent::Prepare),
        ("presync", HookEvent::Presync),
        ("postsync", HookEvent::Postsync),
        ("preuninstall", HookEvent::Preuninstall),
        ("postuninstall", HookEvent::Postuninstall),
        ("cleanup", HookEvent::Cleanup),
    ];

    pub fn name(self) -> &'static str {
        HookEvent::ALL
            .iter()
            .find(|(_, event)| *event == self)
            .map_or("", |(name, _)| name)
    }

    /// The event named `name`; `None` for a name helmfile has no event of (its hook never
    /// runs for it, in helmfile as in orch).
    fn parse(name: &str) -> Result<Option<HookEvent>, String> {
        if let Some((_, event)) = HookEvent::ALL.iter().find(|(known, _)| *known == name) {
            return Ok(Some(*event));
        }
        match name {
            "preapply" => Err("hook event `preapply` is not supported yet".to_string()),
            _ => Ok(None),
        }
    }
}

/// The directory `chart` names, relative to `base_dir`, when it is a local chart: an
/// explicit path, or a relative one that exists (helmfile's rule); `None` for `repo/chart`.
pub fn local_chart_dir(chart: &str, base_dir: &Path) -> Option<PathBuf> {
    let explicit =
        chart.starts_with("./") || chart.starts_with("../") || Path::new(chart).is_absolute();
    let dir = source::join(base_dir, chart);
    (explicit || dir.is_dir()).then_some(dir)
}

/// A sub-helmfile entry's `selectors`, and where the entry is.
#[derive(Debug, Clone)]
pub struct FileSelectors {
    pub selectors: Vec<String>,
    pub at: Location,
}

/// A chart added to a release's chart as a dependency, as helmfile's `dependencies`.
#[derive(Debug, Clone)]
pub struct ChartDependency {
    /// As a release's `chart`: `repo/name`, `oci://…`, or a directory.
    pub chart: String,
    pub version: Option<String>,
    pub alias: Option<String>,
}

/// helm's --post-renderer: a command given the rendered objects on stdin, whose stdout
/// is what is applied.
#[derive(Debug, Clone)]
pub struct PostRenderer {
    /// As written: a path relative to the state file's directory, or a command on PATH.
    pub command: String,
    pub args: Vec<String>,
}

/// An RFC 6902 patch and the objects it applies to.
#[derive(Debug, Clone)]
pub struct JsonPatch {
    pub target: schema::PatchTargetDoc,
    pub patch: json_patch::Patch,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ValuesSource {
    File(PathBuf),
    Inline(Value),
    /// A sops-encrypted values file.
    Secrets(PathBuf),
}

impl ReleaseSpec {
    /// The chart's directory when the chart is local: an explicit path, or a relative one
    /// that exists (helmfile's rule); `None` for `repo/chart` references.
    pub fn chart_dir(&self) -> Option<PathBuf> {
        local_chart_dir(&self.chart, &self.base_dir)
    }

    /// The chart's name, as helmfile's implicit `chart` label: the last path element.
    pub fn chart_name(&self) -> &str {
        self.chart
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(&self.chart)
    }

    /// The version to fetch: the locked one, else the constraint, else with `devel` any
    /// version, pre-releases too (what helm's --devel means).
    pub fn wanted_version(&self) -> Option<&str> {
        let any = self.devel.then_some(">0.0.0-0");
        self.locked_version
            .as_deref()
            .or(self.version.as_deref())
            .or(any)
    }

    /// Whether the namespace is one Kubernetes takes: checked before a command touches a
    /// cluster, not when files load, since helmfile lists and renders any name.
    pub fn check_namespace(&self) -> Result<(), ConfigError> {
        let namespace = &self.id.namespace;
        check_name(namespace, 63, false).map_err(|why| ConfigError::Invalid {
            at: self.defined_at.clone(),
            message: format!("namespace `{}` {why}", shorten(namespace)),
        })
    }

    /// Whether the release is to exist after a sync.
    pub fn desired(&self) -> bool {
        self.installed && self.enabled
    }
}

pub fn load(options: &LoadOptions) -> Result<Spec, ConfigError> {
    let files = source::discover(options.file.as_deref())?;
    let releases_files = files.len();
    let templates = Templates::default();
    let mut loader = Loader::new(&templates, options, files);
    // The templated remainder of each `*.j2` file, rendered once the environment is known.
    let mut deferred: Vec<(usize, String, usize)> = Vec::new();

    let first_pass_context = json!({
        "environment": {"name": options.environment, "values": {}},
        "values": {},
    });
    for file_index in 0..releases_files {
        let path = loader.files[file_index].clone();
        let path = &path;
        let place = Place {
            file: file_index,
            owner: file_index,
            state: TOP_STATE,
        };
        if !source::is_minijinja(path) {
            let first = loader.parts.len();
            loader.load_state_file(place, 0)?;
            for part in &mut loader.parts[first..] {
                part.top = file_index;
            }
            continue;
        }
        let text = source::read_text(path)?;
        let documents = source::split_documents(&text);
        let (head, rest) = match documents.as_slice() {
            [head, second, ..] => (Some(*head), &text[offset_of(&text, second)..]),
            _ => (None, text.as_str()),
        };
        let rest_line = if head.is_some() {
            documents[1].first_line
        } else {
            1
        };
        if let Some(head) = head {
            let dir = path.parent().unwrap_or(Path::new(""));
            let rendered =
                templates.render(path, head.text, head.first_line, &first_pass_context, dir)?;
            let part = states::parse_part(place, path, rendered, head.first_line)?;
            loader.parts.push(part);
        }
        deferred.push((file_index, rest.to_string(), rest_line));
    }

    let environment = Arc::new(loader.environment(TOP_STATE, None)?);

    let context = template_context(&environment);
    for (file_index, text, first_line) in deferred {
        let path = &loader.files[file_index];
        let dir = path.parent().unwrap_or(Path::new(""));
        let rendered = templates.render(path, &text, first_line, &context, dir)?;
        for document in source::split_documents(&rendered) {
            let place = Place {
                file: file_index,
                owner: file_index,
                state: TOP_STATE,
            };
            let line = first_line + document.first_line - 1;
            let part = states::parse_part(place, path, document.text.to_string(), line)?;
            if !part.doc.environments.is_empty() {
                return Err(ConfigError::Invalid {
                    at: Location::new(path, part.first_line, 0),
                    message: "environments must be declared in the first document of a templated \
                              file (before `---`), so they are known before the rest is rendered"
                        .into(),
                });
            }
            loader.parts.push(part);
        }
    }
    // Each sub-helmfile's environment is its own.
    let mut environments = BTreeMap::from([(TOP_STATE, environment.clone())]);
    for part in &loader.parts {
        if let std::collections::btree_map::Entry::Vacant(entry) = environments.entry(part.state) {
            entry.insert(Arc::new(loader.environment(part.state, None)?));
        }
    }
    let Loader {
        mut parts, files, ..
    } = loader;
    // Stable: each releases file's parts stay in the order they were read (bases first,
    // then sub-helmfiles, as helmfile lists them), a `*.j2` file's rest after its head.
    parts.sort_by_key(|part| part.top);

    let settings = file_settings(&parts, files.len());
    let release_templates = release_templates(&mut parts, files.len());
    let mut locks = BTreeMap::new();
    let mut releases = Vec::new();
    let mut state_hooks = Vec::new();
    let mut repositories = Vec::new();
    let mut as_read = options.keep_as_read.then(as_read::StatesAsRead::default);
    for (position, part) in parts.iter_mut().enumerate() {
        let path = &files[part.file];
        let lines = yaml::item_lines(&part.text, "releases");
        // A base's paths are relative to the file that names it, as in helmfile.
        let base_dir = files[part.owner]
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let environment = &environments[&part.state];
        if let Some(as_read) = &mut as_read {
            as_read.add_part(part, position, &files, environment)?;
        }
        for (index, node) in std::mem::take(&mut part.doc.releases)
            .into_iter()
            .enumerate()
        {
            let line = lines.get(index).map_or(0, |l| part.first_line + l - 1);
            let at = Location::new(path, line, 0);
            let node =
                inherit::resolve(node, &release_templates[part.owner]).map_err(|message| {
                    ConfigError::Invalid {
                        at: at.clone(),
                        message,
                    }
                })?;
            let steps = [yaml::Step::Key("releases".into()), yaml::Step::Index(index)];
            let doc: ReleaseDoc = yaml::typed(node, &part.text, path, part.first_line, &steps)?;
            let pass = ReleasePass {
                at: &at,
                base_dir: &base_dir,
                settings: &settings[part.owner],
                environment,
                templates: &templates,
            };
            let doc = pass.run(doc)?;
            if let Some(as_read) = &mut as_read {
                let settings = &settings[part.owner];
                as_read.add_release(part, releases.len(), &doc, settings, &base_dir);
            }
            let mut release =
                resolve_release(doc, at, &base_dir, &settings[part.owner], environment)?;
            pin_to_lock(
                &mut release,
                &mut locks,
                &files[part.owner],
                &settings[part.owner],
            )?;
            release.file_selectors.clone_from(&part.selectors);
            releases.push(release);
        }
        let lines = yaml::item_lines(&part.text, "hooks");
        for (index, hook) in std::mem::take(&mut part.doc.hooks).into_iter().enumerate() {
            let line = lines.get(index).map_or(0, |l| part.first_line + l - 1);
            let at = Location::new(path, line, 0);
            state_hooks.push(StateHook {
                hook: release_hook(hook, index, &at, &STATE_HOOKS)?,
                base_dir: base_dir.clone(),
                defined_at: at,
            });
        }
        let lines = yaml::item_lines(&part.text, "repositories");
        for (index, repository) in std::mem::take(&mut part.doc.repositories)
            .into_iter()
            .enumerate()
        {
            let line = lines.get(index).map_or(0, |l| part.first_line + l - 1);
            add_repository(&mut repositories, repository, Location::new(path, line, 0))?;
        }
    }
    Ok(Spec {
        environment,
        releases,
        repositories,
        state_hooks,
        states_as_read: as_read
            .map(as_read::StatesAsRead::into_states)
            .unwrap_or_default(),
        templates,
        sops_binary: options.sops_binary.clone(),
    })
}

/// A release of a declared repository's chart at the version its state's lock file pins,
/// when there is one. `locks` keeps each state file's lock, read once.
fn pin_to_lock(
    release: &mut ReleaseSpec,
    locks: &mut BTreeMap<PathBuf, Option<lock::LockedVersions>>,
    state_file: &Path,
    settings: &FileSettings,
) -> Result<(), ConfigError> {
    let Some((repository, name)) = release.chart.split_once('/') else {
        return Ok(());
    };
    if release.chart_dir().is_some() || !settings.repositories.iter().any(|r| r == repository) {
        return Ok(());
    }
    let lock = match locks.get(state_file) {
        Some(lock) => lock,
        None => {
            let read = lock::read(state_file, settings.lock_file_path.as_deref())?;
            locks.entry(state_file.to_path_buf()).or_insert(read)
        }
    };
    if let Some(lock) = lock {
        let version = lock.version(name, release.version.as_deref(), &release.defined_at)?;
        release.locked_version = Some(version);
    }
    Ok(())
}

/// Adds a repository; files may repeat one, but one name cannot mean two repositories.
fn add_repository(
    repositories: &mut Vec<Repository>,
    repository: Repository,
    at: Location,
) -> Result<(), ConfigError> {
    match repositories.iter().find(|r| r.name == repository.name) {
        None => repositories.push(repository),
        Some(known) if known.url == repository.url && known.oci == repository.oci => {}
        Some(_) => {
            return Err(ConfigError::Invalid {
                at,
                // Not the URLs: they may carry credentials.
                message: format!(
                    "repository `{}` is declared again with another url",
                    repository.name
                ),
            });
        }
    }
    Ok(())
}

fn offset_of(text: &str, document: &Document<'_>) -> usize {
    document.text.as_ptr() as usize - text.as_ptr() as usize
}

fn template_context(environment: &Environment) -> Value {
    json!({
        "environment": {
            "name": environment.name,
            "values": environment.values,
            "kubeContext": environment.kube_context,
        },
        "values": environment.values,
    })
}

/// Each state's release templates (a file's with its bases'), by the state's file index: a
/// later part's template of the same name replaces an earlier one, as a file's replace its
/// bases'.
fn release_templates(parts: &mut [Part], states: usize) -> Vec<BTreeMap<String, yaml::Node>> {
    let mut templates = vec![BTreeMap::new(); states];
    for part in parts {
        templates[part.owner].append(&mut part.doc.templates);
    }
    templates
}

/// What a file says for all its releases, gathered over its documents.
#[derive(Default)]
struct FileSettings {
    helm_defaults: HelmDefaultsDoc,
    /// The state's top-level `namespace` and `kubeContext`: they override the releases'.
    namespace: Option<String>,
    kube_context: Option<String>,
    common_labels: BTreeMap<String, String>,
    missing_file_handler: MissingFileHandler,
    api_versions: Vec<String>,
    kube_version: Option<String>,
    lock_file_path: Option<String>,
    /// The names of the repositories the state declares.
    repositories: Vec<String>,
}

fn file_settings(parts: &[Part], file_count: usize) -> Vec<FileSettings> {
    let mut settings: Vec<FileSettings> =
        (0..file_count).map(|_| FileSettings::default()).collect();
    for part in parts {
        let s = &mut settings[part.owner];
        let doc = &part.doc;
        if let Some(d) = &doc.helm_defaults {
            let h = &mut s.helm_defaults;
            h.wait = d.wait.or(h.wait);
            h.timeout = d.timeout.or(h.timeout);
            h.atomic = d.atomic.or(h.atomic);
            h.create_namespace = d.create_namespace.or(h.create_namespace);
            h.kube_context = d.kube_context.clone().or(h.kube_context.take());
            h.force = d.force.or(h.force);
            h.verify = d.verify.or(h.verify);
            h.recreate_pods = d.recreate_pods.or(h.recreate_pods);
            h.cleanup_on_fail = d.cleanup_on_fail.or(h.cleanup_on_fail);
            h.wait_for_jobs = d.wait_for_jobs.or(h.wait_for_jobs);
            h.skip_deps = d.skip_deps.or(h.skip_deps);
            h.devel = d.devel.or(h.devel);
            h.reuse_values = d.reuse_values.or(h.reuse_values);
            h.history_max = d.history_max.or(h.history_max);
            h.disable_validation = d.disable_validation.or(h.disable_validation);
            h.disable_validation_on_install = d
                .disable_validation_on_install
                .or(h.disable_validation_on_install);
            h.disable_openapi_validation = d
                .disable_openapi_validation
                .or(h.disable_openapi_validation);
            h.args = d.args.clone().or(h.args.take());
            h.sync_args = d.sync_args.clone().or(h.sync_args.take());
            h.post_renderer = d.post_renderer.clone().or(h.post_renderer.take());
            h.post_renderer_args = d.post_renderer_args.clone().or(h.post_renderer_args.take());
            h.suppress_output_line_regex = d
                .suppress_output_line_regex
                .clone()
                .or(h.suppress_output_line_regex.take());
            h.diff_args = d.diff_args.clone().or(h.diff_args.take());
        }
        if s.helm_defaults.kube_context.is_none() {
            s.helm_defaults.kube_context.clone_from(&doc.context);
        }
        if doc.namespace.is_some() {
            s.namespace.clone_from(&doc.namespace);
        }
        if doc.kube_context.is_some() {
            s.kube_context.clone_from(&doc.kube_context);
        }
        s.common_labels.extend(doc.common_labels.clone());
        if let Some(handler) = doc.missing_file_handler {
            s.missing_file_handler = handler;
        }
        s.api_versions.extend(doc.api_versions.iter().cloned());
        if doc.kube_version.is_some() {
            s.kube_version.clone_from(&doc.kube_version);
        }
        if doc.lock_file_path.is_some() {
            s.lock_file_path.clone_from(&doc.lock_file_path);
        }
        s.repositories
            .extend(doc.repositories.iter().map(|r| r.name.clone()));
    }
    settings
}

/// helmfile's release pass over one release: its place, and what its fields are rendered
/// with.
struct ReleasePass<'a> {
    at: &'a Location,
    /// helmfile's base path, which the file functions resolve from.
    base_dir: &'a Path,
    settings: &'a FileSettings,
    environment: &'a Environment,
    templates: &'a Templates,
}

impl ReleasePass<'_> {
    /// The release's fields, then its `valuesTemplate`, rendered with its own data.
    fn run(&self, doc: ReleaseDoc) -> Result<ReleaseDoc, ConfigError> {
        let doc = self.fields(doc)?;
        self.values_template(doc)
    }

    /// What a release's fields are rendered with: the state's data and `.Release`.
    fn data(&self, doc: &ReleaseDoc) -> Value {
        let mut labels = self.settings.common_labels.clone();
        labels.extend(doc.labels.clone());
        let mut context = template_context(self.environment);
        context["release"] = json!({
            "name": doc.name,
            "namespace": doc.namespace.clone().unwrap_or_default(),
            "labels": labels,
            "chart": doc.chart,
            "kubeContext": doc.kube_context.clone().unwrap_or_default(),
        });
        gotmpl::data_of(&context)
    }

    fn render(&self, text: &str, data: &Value) -> Result<String, ConfigError> {
        self.templates.go().render(
            &self.at.file,
            text,
            self.at.line,
            data,
            Pass::Final,
            self.base_dir,
        )
    }

    /// helmfile's release pass: template actions left in a release's name, chart, namespace,
    /// version, labels, values and secrets file paths (written escaped in the state file, as
    /// ``{{`{{ .Release.Name }}`}}``) are rendered with the release's own data, again until
    /// nothing changes, as helmfile does (at most 6 times).
    fn fields(&self, mut doc: ReleaseDoc) -> Result<ReleaseDoc, ConfigError> {
        const MAX_ROUNDS: usize = 6;
        let templated = |text: &str| text.contains("{{");
        let any_templated = templated(&doc.name)
            || templated(&doc.chart)
            || doc.namespace.as_deref().is_some_and(templated)
            || doc.version.as_deref().is_some_and(templated)
            || doc.labels.values().any(|v| templated(v))
            || doc
                .values
                .iter()
                .any(|v| matches!(v, ValuesEntry::File(path) if templated(path)))
            || doc.secrets.iter().any(|path| templated(path))
            || doc.needs.iter().any(|need| templated(need));
        if !any_templated {
            return Ok(doc);
        }
        for _ in 0..MAX_ROUNDS {
            let data = self.data(&doc);
            let render = |text: &str| -> Result<String, ConfigError> {
                if !templated(text) {
                    return Ok(text.to_string());
                }
                self.render(text, &data)
            };
            let name = render(&doc.name)?;
            let chart = render(&doc.chart)?;
            let namespace = doc.namespace.as_deref().map(render).transpose()?;
            let version = doc.version.as_deref().map(render).transpose()?;
            let labels = doc
                .labels
                .iter()
                .map(|(k, v)| Ok((k.clone(), render(v)?)))
                .collect::<Result<BTreeMap<_, _>, ConfigError>>()?;
            let values = doc
                .values
                .iter()
                .map(|entry| match entry {
                    ValuesEntry::File(path) => render(path).map(ValuesEntry::File),
                    inline => Ok(inline.clone()),
                })
                .collect::<Result<Vec<_>, ConfigError>>()?;
            let secrets = doc
                .secrets
                .iter()
                .map(|path| render(path))
                .collect::<Result<Vec<_>, ConfigError>>()?;
            let needs = doc
                .needs
                .iter()
                .map(|need| render(need))
                .collect::<Result<Vec<_>, ConfigError>>()?;
            let settled = name == doc.name
                && chart == doc.chart
                && namespace == doc.namespace
                && version == doc.version
                && labels == doc.labels
                && values == doc.values
                && secrets == doc.secrets
                && needs == doc.needs;
            doc.name = name;
            doc.chart = chart;
            doc.namespace = namespace;
            doc.version = version;
            doc.labels = labels;
            doc.values = values;
            doc.secrets = secrets;
            doc.needs = needs;
            if settled {
                return Ok(doc);
            }
        }
        Err(ConfigError::Invalid {
            at: self.at.clone(),
            message: format!(
                "release `{}`: its fields still hold template actions after {MAX_ROUNDS} renders",
                doc.name
            ),
        })
    }

    /// helmfile's `valuesTemplate`: values entries rendered, once the release's own fields are
    /// final, with its data (an inline map as the YAML text of it), and put before `values`.
    fn values_template(&self, mut doc: ReleaseDoc) -> Result<ReleaseDoc, ConfigError> {
        if doc.values_template.is_empty() && doc.set_template.is_empty() {
            return Ok(doc);
        }
        let data = self.data(&doc);
        let render = |text: &str| self.render(text, &data);
        let at = self.at;
        // helmfile renders a setTemplate entry's name, value, file and values as text. The
        // rendered templates stay, as helmfile keeps them (`build` shows them), and go
        // before the release's own entries.
        for entry in &mut doc.set_template {
            // An empty `value:` stays empty: it sets nothing.
            let text = |value: Value| match value {
                Value::Null => Ok(Value::Null),
                value => render(&values::scalar_text(&value)).map(Value::String),
            };
            *entry = schema::SetDoc {
                name: render(&entry.name)?,
                value: entry.value.take().map(text).transpose()?,
                values: entry
                    .values
                    .take()
                    .map(|values| values.into_iter().map(text).collect())
                    .transpose()?,
                file: entry.file.as_deref().map(render).transpose()?,
            };
        }
        let mut set = doc.set_template.clone();
        set.append(&mut doc.set);
        doc.set = set;
        // A map is rendered where it is, a file's path only where it joins `values`, as
        // helmfile does.
        for entry in &mut doc.values_template {
            if let ValuesEntry::Inline(inline) = entry {
                let text = serde_yaml_ng::to_string(inline).map_err(|e| ConfigError::Invalid {
                    at: at.clone(),
                    message: format!("valuesTemplate: {e}"),
                })?;
                *inline = yaml::parse_document(&render(&text)?, &at.file, at.line)?;
            }
        }
        let mut entries = Vec::new();
        for entry in &doc.values_template {
            entries.push(match entry {
                ValuesEntry::File(path) => ValuesEntry::File(render(path)?),
                inline => inline.clone(),
            });
        }
        entries.append(&mut doc.values);
        doc.values = entries;
        Ok(doc)
    }
}

fn resolve_release(
    doc: ReleaseDoc,
    at: Location,
    base_dir: &Path,
    settings: &FileSettings,
    environment: &Arc<Environment>,
) -> Result<ReleaseSpec, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        at: at.clone(),
        message,
    };
    check_name(&doc.name, 53, true)
        .map_err(|why| invalid(format!("release name `{}` {why}", shorten(&doc.name))))?;
    check_helm_flags(&doc, &settings.helm_defaults)
        .map_err(|why| invalid(format!("release `{}`: {why}", doc.name)))?;
    let namespace = settings
        .namespace
        .clone()
        .or(doc.namespace)
        .unwrap_or_else(|| "default".to_string());
    if doc.chart.trim().is_empty() {
        return Err(invalid(format!(
            "release `{}` has an empty chart",
            doc.name
        )));
    }
    let enabled = match &doc.condition {
        None => true,
        Some(condition) => match values::lookup(&environment.values, condition) {
            Some(Value::Bool(enabled)) => *enabled,
            // helmfile disables the release silently; a typo'd value would then never deploy.
            Some(other) => {
                return Err(invalid(format!(
                    "condition `{condition}`: the value in environment `{}` is {}, not true or false",
                    environment.name,
                    schema::json_type(other)
                )));
            }
            None => {
                return Err(invalid(format!(
                    "condition `{condition}`: the values of environment `{}` have no such key",
                    environment.name
                )));
            }
        },
    };
    let mut set = Vec::new();
    let mut set_files = Vec::new();
    for entry in &doc.set {
        let path = values::parse_path(&entry.name)
            .map_err(|why| invalid(format!("set `{}`: {why}", entry.name)))?;
        // helmfile reads `value` into a string and passes no --set for an empty one (an
        // unset variable, as often as not): the entry sets nothing, or its file.
        let empty = matches!(&entry.value, Some(Value::Null))
            || matches!(&entry.value, Some(Value::String(text)) if text.is_empty());
        if empty && entry.values.is_none() && entry.file.is_none() {
            continue;
        }
        let value = if empty { None } else { entry.value.as_ref() };
        if let Some(file) = &entry.file {
            if value.is_some() || entry.values.is_some() {
                return Err(invalid(format!(
                    "set `{}`: `file` goes without `value` and `values`",
                    entry.name
                )));
            }
            set_files.push((path, source::join(base_dir, file)));
            continue;
        }
        // A value wins over values, as helmfile checks it first.
        let value = match (value, &entry.values) {
            (Some(Value::Array(_) | Value::Object(_)), _) => {
                return Err(invalid(format!(
                    "set `{}`: `value` must be a scalar; use `values` for a list",
                    entry.name
                )));
            }
            (Some(value), _) => values::typed_value(&values::scalar_text(value)),
            (None, Some(list)) => Value::Array(
                list.iter()
                    .map(|v| values::typed_value(&values::scalar_text(v)))
                    .collect(),
            ),
            (None, None) => {
                return Err(invalid(format!(
                    "set `{}` has none of `value`, `values` and `file`",
                    entry.name
                )));
            }
        };
        set.push(Assignment { path, value });
    }
    let json_patches = doc
        .json_patches
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            let operations = match entry.patch {
                Value::String(text) => yaml::parse_document(&text, &at.file, at.line)?,
                other => other,
            };
            let patch = serde_json::from_value(operations)
                .map_err(|e| invalid(format!("jsonPatches[{i}].patch: {e}")))?;
            Ok(JsonPatch {
                target: entry.target,
                patch,
            })
        })
        .collect::<Result<Vec<_>, ConfigError>>()?;
    // A file's path is read here, relative to the state's directory, as helmfile reads it.
    let release_transformers = doc
        .transformers
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let entry = match entry {
                Value::String(file) => {
                    let path = source::join(base_dir, &file);
                    let text = source::read_text(&path)?;
                    yaml::parse_document(&text, &path, 1)?
                }
                inline => inline,
            };
            transformers::parse(entry, index).map_err(invalid)
        })
        .collect::<Result<Vec<_>, ConfigError>>()?;
    // The release's own, else helmDefaults', as helmfile passes these.
    let suppressed_diff_lines = doc
        .suppress_output_line_regex
        .as_ref()
        .filter(|patterns| !patterns.is_empty())
        .or(settings.helm_defaults.suppress_output_line_regex.as_ref())
        .into_iter()
        .flatten()
        .filter(|pattern| !pattern.is_empty())
        .map(|pattern| {
            regex::Regex::new(pattern).map_err(|e| {
                // The parser's message draws the pattern over lines; its last says why.
                let text = e.to_string();
                let why = text.lines().last().unwrap_or_default();
                let why = why.trim_start_matches("error: ");
                invalid(format!("suppressOutputLineRegex `{pattern}`: {why}"))
            })
        })
        .collect::<Result<Vec<_>, ConfigError>>()?;
    let post_renderer = doc
        .post_renderer
        .as_ref()
        .or(settings.helm_defaults.post_renderer.as_ref())
        .filter(|command| !command.is_empty())
        .map(|command| PostRenderer {
            command: command.clone(),
            args: doc
                .post_renderer_args
                .clone()
                .filter(|args| !args.is_empty())
                .or_else(|| settings.helm_defaults.post_renderer_args.clone())
                .unwrap_or_default(),
        });
    let hooks = doc
        .hooks
        .into_iter()
        .enumerate()
        .map(|(i, hook)| release_hook(hook, i, &at, &RELEASE_HOOKS))
        .collect::<Result<Vec<_>, ConfigError>>()?;
    let mut labels = settings.common_labels.clone();
    labels.extend(doc.labels);
    let defaults = &settings.helm_defaults;
    Ok(ReleaseSpec {
        id: ReleaseId {
            cluster: None,
            namespace,
            name: doc.name,
        },
        kube_context: settings
            .kube_context
            .clone()
            .or(doc.kube_context)
            .or_else(|| defaults.kube_context.clone())
            .or_else(|| environment.kube_context.clone()),
        chart: doc.chart,
        version: doc.version,
        locked_version: None,
        devel: doc.devel.or(settings.helm_defaults.devel) == Some(true),
        reuse_values: doc.reuse_values.or(settings.helm_defaults.reuse_values) == Some(true),
        labels,
        needs: doc.needs,
        installed: doc.installed.unwrap_or(true),
        enabled,
        create_namespace: doc
            .create_namespace
            .or(defaults.create_namespace)
            .unwrap_or(true),
        wait: doc.wait.or(defaults.wait).unwrap_or(true),
        timeout: doc
            .timeout
            .or(defaults.timeout)
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs),
        atomic: doc.atomic.or(defaults.atomic).unwrap_or(false),
        file_selectors: None,
        force: doc.force.or(defaults.force) == Some(true),
        cleanup_on_fail: doc.cleanup_on_fail.or(defaults.cleanup_on_fail) == Some(true),
        disable_validation_on_install: doc
            .disable_validation_on_install
            .or(defaults.disable_validation_on_install)
            == Some(true),
        disable_validation: doc.disable_validation.or(defaults.disable_validation) == Some(true)
            || doc
                .disable_openapi_validation
                .or(defaults.disable_openapi_validation)
                == Some(true),
        force_conflicts: defaults
            .sync_args
            .iter()
            .flatten()
            .any(|arg| arg == "--force-conflicts"),
        history_max: doc
            .history_max
            .or(defaults.history_max)
            .map_or(0, |max| usize::try_from(max).unwrap_or(usize::MAX)),
        values: doc
            .values
            .into_iter()
            .map(|entry| match entry {
                ValuesEntry::File(file) => ValuesSource::File(source::join(base_dir, &file)),
                ValuesEntry::Inline(inline) => ValuesSource::Inline(inline),
            })
            .chain(
                doc.secrets
                    .iter()
                    .map(|file| ValuesSource::Secrets(source::join(base_dir, file))),
            )
            .collect(),
        set,
        set_files,
        api_versions: settings.api_versions.clone(),
        kube_version: settings.kube_version.clone(),
        missing_file_handler: doc
            .missing_file_handler
            .unwrap_or(settings.missing_file_handler),
        json_patches,
        strategic_merge_patches: doc.strategic_merge_patches,
        force_namespace: doc.force_namespace.filter(|ns| !ns.is_empty()),
        transformers: release_transformers,
        dependencies: doc
            .dependencies
            .into_iter()
            .map(|d| ChartDependency {
                chart: d.chart,
                version: d.version,
                alias: d.alias,
            })
            .collect(),
        skip_deps: doc.skip_deps.or(settings.helm_defaults.skip_deps) == Some(true),
        post_renderer,
        suppress_diff: doc.suppress_diff == Some(true),
        suppressed_diff_lines,
        hooks,
        environment: environment.clone(),
        base_dir: base_dir.to_path_buf(),
        defined_at: at,
    })
}

/// A `hooks` entry, whose events are those of its `scope`: any other is a warning (the
/// hook never runs at it, as in helmfile), `preapply` an error.
fn release_hook(
    hook: schema::HookDoc,
    index: usize,
    at: &Location,
    scope: &HookScope,
) -> Result<ReleaseHook, ConfigError> {
    let at_events = scope.events;
    let mut events = Vec::new();
    for name in &hook.events {
        let parsed = HookEvent::parse(name).map_err(|why| ConfigError::Invalid {
            at: at.clone(),
            message: format!("hooks[{index}]: {why}"),
        })?;
        match parsed.filter(|event| at_events.iter().any(|(_, e)| e == event)) {
            Some(event) => events.push(event),
            None => {
                let known: Vec<&str> = at_events.iter().map(|(n, _)| *n).collect();
                let whose = scope.whose;
                tracing::warn!(
                    "{at}: hooks[{index}]: `{name}` is no event helmfile runs {whose} hooks at, so this hook never runs for it (the events: {})",
                    known.join(", ")
                );
            }
        }
    }
    Ok(ReleaseHook {
        name: hook.name,
        events,
        command: hook.command,
        args: hook.args,
        show_logs: hook.showlogs,
    })
}

/// helm flags helmfile passes to `helm upgrade` whose default is what orch does: a file
/// may set them to that, but asking for the other is refused, not ignored.
fn check_helm_flags(doc: &ReleaseDoc, defaults: &HelmDefaultsDoc) -> Result<(), String> {
    let asks = |own: Option<bool>, default: Option<bool>| own.or(default) == Some(true);
    let refused = [
        (
            asks(doc.verify, defaults.verify),
            "verify: true",
            "verifying chart provenance",
        ),
        (
            asks(doc.recreate_pods, defaults.recreate_pods),
            "recreatePods: true",
            "restarting the pods of updated workloads",
        ),
    ];
    if let Some((_, flag, what)) = refused.into_iter().find(|(asked, _, _)| *asked) {
        return Err(format!("`{flag}` ({what}) is not supported yet"));
    }
    if doc.wait_for_jobs.or(defaults.wait_for_jobs) == Some(false) {
        return Err(
            "`waitForJobs: false` is not supported: orch waits for Jobs to complete, as helm's --wait-for-jobs"
                .into(),
        );
    }
    if defaults.args.as_ref().is_some_and(|args| !args.is_empty()) {
        return Err("`helmDefaults.args`: orch runs no helm command to pass them to".into());
    }
    // What orch's review always does: it compares with the live objects (a three-way
    // merge), masks Secrets, and compares objects, not their text.
    const MEANINGFUL_DIFF_ARGS: [&str; 3] = [
        "--three-way-merge",
        "--suppress-secrets",
        "--normalize-manifests",
    ];
    if let Some(arg) = defaults
        .diff_args
        .iter()
        .flatten()
        .find(|arg| !MEANINGFUL_DIFF_ARGS.contains(&arg.as_str()))
    {
        return Err(format!(
            "`helmDefaults.diffArgs`: `{arg}`: orch runs no helm-diff; its review always does what {} ask for (`orch diff --context N` sets the context)",
            MEANINGFUL_DIFF_ARGS.join(", ")
        ));
    }
    // helm 4's server-side apply flag is what orch's sync --force-conflicts does.
    if let Some(arg) = defaults
        .sync_args
        .iter()
        .flatten()
        .find(|arg| *arg != "--force-conflicts")
    {
        return Err(format!(
            "`helmDefaults.syncArgs`: `{arg}`: orch runs no helm command; of helm's flags only --force-conflicts has a meaning for its sync"
        ));
    }
    Ok(())
}

/// DNS-1123 names, as Kubernetes requires of namespaces and Helm of release names
/// (which may also contain dots).
fn check_name(name: &str, max: usize, dots: bool) -> Result<(), String> {
    if name.is_empty() {
        return Err("is empty".into());
    }
    if name.len() > max {
        return Err(format!("is longer than {max} characters"));
    }
    let labels: Vec<&str> = if dots {
        name.split('.').collect()
    } else {
        vec![name]
    };
    let valid = labels.iter().all(|label| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    });
    if valid {
        Ok(())
    } else {
        Err(
            "must be lowercase letters, digits and `-`, starting and ending with a letter or digit"
                .into(),
        )
    }
}
