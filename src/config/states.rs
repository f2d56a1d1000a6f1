//! State files into parts, as helmfile reads them: each file split on `---` and rendered
//! part by part, its `bases` read before it, its `helmfiles` read as states of their own,
//! each with its own environment.
//!
//! The releases files given on the command line form one state (orch's releases directory:
//! all its files' environments merge). A sub-helmfile sees its own environments and the
//! values its `helmfiles` entry passes it, never its parent's, as in helmfile.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::error::{ConfigError, Location};
use super::gotmpl::{self, Pass};
use super::layering::{missing_file, read_values_file};
use super::schema::{self, FileDoc, MissingFileHandler, ValuesEntry};
use super::template::Templates;
use super::{
    DEFAULT_ENVIRONMENT, Environment, FileSelectors, LoadOptions, hcl, secrets, source,
    template_context, values, yaml,
};

/// The state of the releases files given.
pub const TOP_STATE: usize = 0;

/// Bases of bases, sub-helmfiles of sub-helmfiles: far more than any real layout, few enough
/// to stop a loop.
const MAX_DEPTH: usize = 20;

/// One parsed document and where it came from.
pub struct Part {
    /// The file it was read from, in `files`.
    pub file: usize,
    /// The file whose releases its settings apply to: itself, or the file that named it
    /// among its `bases`.
    pub owner: usize,
    /// The state it belongs to: [`TOP_STATE`], or the file of the sub-helmfile that it is
    /// (or is a base of).
    pub state: usize,
    /// The releases file (of those given) it was read for: its own, or one that named it
    /// among its bases or sub-helmfiles.
    pub top: usize,
    /// The selectors its sub-helmfile entry gives: its releases are the ones matching any.
    pub selectors: Option<FileSelectors>,
    /// The files its `helmfiles` entries name, globs expanded: each with its entry's index.
    pub sub_helmfiles: Vec<(usize, PathBuf)>,
    pub doc: FileDoc,
    pub text: String,
    pub first_line: usize,
}

/// Reads state files into parts.
pub struct Loader<'a> {
    templates: &'a Templates,
    options: &'a LoadOptions,
    pub parts: Vec<Part>,
    pub files: Vec<PathBuf>,
    /// The values each sub-helmfile's entry passes it, merged, by the sub-helmfile's file.
    passed: BTreeMap<usize, Value>,
}

/// Where a part sits: the file read, the file whose settings it takes, and its state.
#[derive(Clone, Copy)]
pub struct Place {
    pub file: usize,
    pub owner: usize,
    pub state: usize,
}

impl<'a> Loader<'a> {
    pub fn new(templates: &'a Templates, options: &'a LoadOptions, files: Vec<PathBuf>) -> Self {
        Loader {
            templates,
            options,
            parts: Vec::new(),
            files,
            passed: BTreeMap::new(),
        }
    }

    /// Reads the state file at `place` (a releases file, a sub-helmfile, or a base of its
    /// owner) into `parts`: each part rendered, its `bases` read before it, its
    /// sub-helmfiles' parts before it, as helmfile lists their releases first. False when
    /// helmfile would leave the sub-helmfile out for want of the chosen environment.
    pub fn load_state_file(&mut self, place: Place, depth: usize) -> Result<bool, ConfigError> {
        let path = self.files[place.file].clone();
        let text = source::read_text(&path)?;
        let base_dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let is_sub_helmfile = place.state != TOP_STATE && place.file == place.state;
        for (part_text, part_line) in state_parts(&text) {
            let rendered = self.render_state_part(place, part_text, part_line)?;
            for document in source::split_documents(&rendered) {
                let mut part = parse_part(
                    place,
                    &path,
                    document.text.to_string(),
                    part_line + document.first_line - 1,
                )?;
                let at = Location::new(&path, part.first_line, 0);
                for base in std::mem::take(&mut part.doc.bases) {
                    let base_path = source::join(&base_dir, &base);
                    if base_path == path || self.files[place.owner] == base_path {
                        return Err(ConfigError::Invalid {
                            at,
                            message: format!("bases: {} includes itself", base_path.display()),
                        });
                    }
                    check_depth(depth, "bases", &base_path, &at)?;
                    self.files.push(base_path);
                    let base = Place {
                        file: self.files.len() - 1,
                        ..place
                    };
                    self.load_state_file(base, depth + 1)?;
                }
                let helmfiles = std::mem::take(&mut part.doc.helmfiles);
                let lines = yaml::item_lines(&part.text, "helmfiles");
                let entries_at: Vec<Location> = (0..helmfiles.len())
                    .map(|i| {
                        let line = lines.get(i).map_or(0, |l| l - 1);
                        Location::new(&path, part.first_line + line, 0)
                    })
                    .collect();
                let handler = part.doc.missing_file_handler;
                // Pushed before its sub-helmfiles are read, moved after them: helmfile lists
                // a sub-helmfile's releases first.
                let subs = sub_helmfiles(&helmfiles, &entries_at, &base_dir, &path, handler)?;
                part.sub_helmfiles = subs.iter().map(|s| (s.entry, s.file.clone())).collect();
                let position = self.parts.len();
                self.parts.push(part);
                for sub in subs {
                    check_depth(depth, "helmfiles", &sub.file, &at)?;
                    self.load_sub_helmfile(sub, &base_dir, depth)?;
                }
                let part = self.parts.remove(position);
                self.parts.push(part);
                if is_sub_helmfile && self.lacks_environment(place.state, false) {
                    return Ok(false);
                }
            }
        }
        Ok(!(is_sub_helmfile && self.lacks_environment(place.state, true)))
    }

    /// Reads a sub-helmfile, a state of its own: its settings, its directory, its
    /// environment with the values its entry passes.
    fn load_sub_helmfile(
        &mut self,
        sub: SubHelmfile,
        base_dir: &Path,
        depth: usize,
    ) -> Result<(), ConfigError> {
        let at = &sub.at;
        self.files.push(sub.file);
        let index = self.files.len() - 1;
        if !sub.values.is_empty() {
            // Rendered with the environment's name only, files relative to the naming
            // file; a missing one is an error, as in helmfile.
            let mut passed = self.empty_environment();
            let handler = MissingFileHandler::Error;
            merge_values_entries(
                self.templates,
                &mut passed,
                &sub.values,
                base_dir,
                at,
                handler,
            )?;
            self.passed.insert(index, passed.values);
        }
        let first = self.parts.len();
        let place = Place {
            file: index,
            owner: index,
            state: index,
        };
        if !self.load_state_file(place, depth + 1)? {
            tracing::info!(
                "{at}: {} has no environment `{}`: its releases are left out, as helmfile does",
                self.files[index].display(),
                self.options.environment
            );
            self.parts.truncate(first);
            return Ok(());
        }
        // A nested sub-helmfile's own selectors stay its own.
        if !sub.selectors.is_empty() {
            let selectors = FileSelectors {
                selectors: sub.selectors,
                at: sub.at,
            };
            for part in self.parts[first..]
                .iter_mut()
                .filter(|p| p.selectors.is_none())
            {
                part.selectors = Some(selectors.clone());
            }
        }
        Ok(())
    }

    /// Whether helmfile leaves a sub-helmfile out for the chosen environment: it declares
    /// environments, not that one; or, once `complete`, it declares none and was passed no
    /// values. The default environment is never missing.
    fn lacks_environment(&self, state: usize, complete: bool) -> bool {
        let name = self.options.environment.as_str();
        if name == DEFAULT_ENVIRONMENT {
            return false;
        }
        let mut declared = self
            .parts
            .iter()
            .filter(|part| part.state == state)
            .map(|part| &part.doc.environments)
            .filter(|environments| !environments.is_empty())
            .peekable();
        match declared.peek() {
            Some(_) => !declared.any(|environments| environments.contains_key(name)),
            None => complete && !self.passed.contains_key(&state),
        }
    }

    /// Renders one part of a state file as helmfile does: a first pass only to read the
    /// part's `environments` and `values` (its errors are left to the second), then the
    /// final pass with the chosen environment's values as its state declares them so far,
    /// this part included. A part without template actions is its own rendering.
    fn render_state_part(
        &self,
        place: Place,
        text: &str,
        first_line: usize,
    ) -> Result<String, ConfigError> {
        if !text.contains("{{") {
            return Ok(text.to_string());
        }
        let path = &self.files[place.file];
        let go = self.templates.go();
        let name = &self.options.environment;
        let data_of = |environment: &Environment| {
            gotmpl::state_data(
                name,
                environment.kube_context.as_deref(),
                &environment.values,
            )
        };
        let before = self.environment_so_far(place.state, None)?;
        // helmfile's base path: a base's file functions resolve from the file that names it.
        let base_dir = self.files[place.owner].parent().unwrap_or(Path::new(""));
        let first = go.render(
            path,
            text,
            first_line,
            &data_of(&before),
            Pass::Environments,
            base_dir,
        );
        let declared = first.ok().and_then(|rendered| {
            let doc = yaml::parse_document::<FileDoc>(&rendered, path, first_line).ok()?;
            Some(Part {
                file: place.file,
                owner: place.owner,
                state: place.state,
                top: place.owner,
                selectors: None,
                sub_helmfiles: Vec::new(),
                doc,
                text: rendered,
                first_line,
            })
        });
        let environment = match &declared {
            Some(part)
                if part.doc.environments.contains_key(name) || !part.doc.values.is_empty() =>
            {
                self.environment_so_far(place.state, Some(part))?
            }
            _ => before,
        };
        go.render(
            path,
            text,
            first_line,
            &data_of(&environment),
            Pass::Final,
            base_dir,
        )
    }

    /// The chosen environment of `state`, from its parts' declarations (with `extra`), the
    /// values passed to it over them. An environment the top state does not declare is an
    /// error, except the default one.
    pub fn environment(
        &self,
        state: usize,
        extra: Option<&Part>,
    ) -> Result<Environment, ConfigError> {
        let parts: Vec<&Part> = self
            .parts
            .iter()
            .filter(|part| part.state == state)
            .chain(extra)
            .collect();
        let mut environment = self.declared_environment(&parts, state == TOP_STATE)?;
        if let Some(passed) = self.passed.get(&state) {
            values::merge(&mut environment.values, passed.clone());
        }
        Ok(environment)
    }

    /// [`Self::environment`], or an empty one where the parts read so far do not declare it
    /// (a later part may).
    fn environment_so_far(
        &self,
        state: usize,
        extra: Option<&Part>,
    ) -> Result<Environment, ConfigError> {
        match self.environment(state, extra) {
            Err(ConfigError::UnknownEnvironment { .. }) => Ok(self.empty_environment()),
            other => other,
        }
    }

    fn empty_environment(&self) -> Environment {
        Environment {
            name: self.options.environment.clone(),
            values: Value::Object(Map::new()),
            secret_values: Value::Object(Map::new()),
            kube_context: None,
        }
    }

    /// Merges the chosen environment's declarations across `parts` and loads its values;
    /// `required` makes a non-default environment none of them declares an error.
    fn declared_environment(
        &self,
        parts: &[&Part],
        required: bool,
    ) -> Result<Environment, ConfigError> {
        let name = self.options.environment.as_str();
        let declarations: Vec<(&Part, &schema::EnvironmentDoc)> = parts
            .iter()
            .filter_map(|part| part.doc.environments.get(name).map(|env| (*part, env)))
            .collect();
        if declarations.is_empty() && name != DEFAULT_ENVIRONMENT && required {
            let mut known: Vec<String> = parts
                .iter()
                .flat_map(|part| part.doc.environments.keys().cloned())
                .collect();
            known.sort();
            known.dedup();
            return Err(ConfigError::UnknownEnvironment {
                name: name.to_string(),
                known,
            });
        }
        let mut environment = self.empty_environment();
        let place_of = |part: &Part| {
            let base_dir = self.files[part.owner].parent().unwrap_or(Path::new(""));
            let at = Location::new(&self.files[part.file], part.first_line, 0);
            (base_dir.to_path_buf(), at)
        };
        let merge_entries = |environment: &mut Environment,
                             part: &Part,
                             entries: &[ValuesEntry],
                             handler: MissingFileHandler| {
            let (base_dir, at) = place_of(part);
            merge_values_entries(
                self.templates,
                environment,
                entries,
                &base_dir,
                &at,
                handler,
            )
        };
        // A state's own `values` are helmfile's defaults: under every environment's.
        for part in parts {
            let handler = part.doc.missing_file_handler.unwrap_or_default();
            merge_entries(&mut environment, part, &part.doc.values, handler)?;
        }
        for (part, declaration) in declarations {
            let handler = declaration
                .missing_file_handler
                .or(part.doc.missing_file_handler)
                .unwrap_or_default();
            merge_entries(&mut environment, part, &declaration.values, handler)?;
            let (base_dir, at) = place_of(part);
            for file in &declaration.secrets {
                let path = source::join(&base_dir, file);
                let sops = &self.options.sops_binary;
                if let Some(layer) = secrets::read_secrets_file(sops, &path, &at, handler)? {
                    values::merge(&mut environment.secret_values, layer.clone());
                    values::merge(&mut environment.values, layer);
                }
            }
            if declaration.kube_context.is_some() {
                environment
                    .kube_context
                    .clone_from(&declaration.kube_context);
            }
        }
        Ok(environment)
    }
}

pub fn parse_part(
    place: Place,
    path: &Path,
    text: String,
    first_line: usize,
) -> Result<Part, ConfigError> {
    let doc = yaml::parse_document(&text, path, first_line)?;
    Ok(Part {
        file: place.file,
        owner: place.owner,
        state: place.state,
        top: place.file,
        selectors: None,
        sub_helmfiles: Vec::new(),
        doc,
        text,
        first_line,
    })
}

fn check_depth(depth: usize, what: &str, path: &Path, at: &Location) -> Result<(), ConfigError> {
    if depth < MAX_DEPTH {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        at: at.clone(),
        message: format!(
            "{what} nest more than {MAX_DEPTH} deep: {} (a loop?)",
            path.display()
        ),
    })
}

/// Merges `entries` (inline values, or files relative to `base_dir`, rendered with the
/// environment as it is so far) into the environment's values, in order; the HCL files
/// among them together, last, as helmfile merges them.
fn merge_values_entries(
    templates: &Templates,
    environment: &mut Environment,
    entries: &[ValuesEntry],
    base_dir: &Path,
    at: &Location,
    handler: MissingFileHandler,
) -> Result<(), ConfigError> {
    let mut hcl_files = Vec::new();
    for entry in entries {
        let layer = match entry {
            ValuesEntry::Inline(inline) => Some(inline.clone()),
            ValuesEntry::File(file) if file.ends_with(".hcl") => {
                let path = source::join(base_dir, file);
                if path.exists() {
                    hcl_files.push(path);
                } else {
                    missing_file(&path, at, handler)?;
                }
                None
            }
            ValuesEntry::File(file) => read_values_file(
                templates,
                &source::join(base_dir, file),
                at,
                handler,
                &template_context(environment),
            )?,
        };
        if let Some(layer) = layer {
            values::merge(&mut environment.values, layer);
        }
    }
    if !hcl_files.is_empty() {
        values::merge(&mut environment.values, hcl::render(&hcl_files)?);
    }
    Ok(())
}

/// A state file a `helmfiles` entry names, with what the entry gives it.
struct SubHelmfile {
    file: PathBuf,
    /// The index of the `helmfiles` entry that names it.
    entry: usize,
    /// Where the entry is.
    at: Location,
    selectors: Vec<String>,
    values: Vec<ValuesEntry>,
}

/// The state files a `helmfiles` list names, globs expanded (in name order) relative to
/// the naming file's directory. A pattern that matches nothing is skipped with a warning,
/// as in helmfile, unless the state's `missingFileHandler` is `Error`.
fn sub_helmfiles(
    entries: &[schema::SubHelmfileDoc],
    entries_at: &[Location],
    base_dir: &Path,
    file: &Path,
    handler: Option<MissingFileHandler>,
) -> Result<Vec<SubHelmfile>, ConfigError> {
    let mut found = Vec::new();
    for (index, (entry, at)) in entries.iter().zip(entries_at).enumerate() {
        let invalid = |message: String| ConfigError::Invalid {
            at: at.clone(),
            message,
        };
        if let schema::SubHelmfileDoc::Spec(spec) = entry {
            // The command line's selectors apply to every release of the one plan, which is
            // what `selectorsInherited` asks for, and what a sub-helmfile without selectors
            // gets in helmfile too.
            if spec.selectors_inherited && !spec.selectors.is_empty() {
                return Err(invalid(format!(
                    "helmfiles: {}: `selectorsInherited: true` and `selectors` exclude each other",
                    spec.path
                )));
            }
        }
        let pattern = source::join(base_dir, entry.path());
        let mut matches: Vec<PathBuf> = glob::glob(&pattern.to_string_lossy())
            .map_err(|e| invalid(format!("helmfiles: {}: {e}", entry.path())))?
            .filter_map(Result::ok)
            .collect();
        matches.sort();
        if matches.is_empty() {
            let message = format!("helmfiles: no file matches {}", pattern.display());
            if handler == Some(MissingFileHandler::Error) {
                return Err(invalid(message));
            }
            tracing::warn!("{at}: {message}");
            continue;
        }
        for matched in matches {
            // A directory is a helmfile.d: its state files, as a releases directory.
            let sub_files = if matched.is_dir() {
                source::discover(Some(&matched))?
            } else {
                vec![matched]
            };
            for sub in sub_files {
                if sub == file {
                    return Err(invalid(format!(
                        "helmfiles: {} names the file itself",
                        entry.path()
                    )));
                }
                let (selectors, values) = match entry {
                    schema::SubHelmfileDoc::Spec(spec) => {
                        (spec.selectors.clone(), spec.values.clone())
                    }
                    schema::SubHelmfileDoc::Path(_) => (Vec::new(), Vec::new()),
                };
                found.push(SubHelmfile {
                    file: sub,
                    entry: index,
                    at: at.clone(),
                    selectors,
                    values,
                });
            }
        }
    }
    Ok(found)
}

/// A state file's parts as helmfile splits them before rendering (on `\n---\n`), each with
/// its first line.
fn state_parts(text: &str) -> Vec<(&str, usize)> {
    let mut parts = Vec::new();
    let mut line = 1;
    for part in text.split("\n---\n") {
        parts.push((part, line));
        line += part.matches('\n').count() + 2;
    }
    parts
}
