//! A release's values, layered lowest first: its `values` entries in order, its `secrets`
//! (decrypted), its `set` (files' texts last), then the command line's `--values` files and
//! `--set` expressions. Chart defaults sit below all
//! of these and are applied by the renderer.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::error::{ConfigError, Location};
use super::schema::{MissingFileHandler, json_type};
use super::template::Templates;
use super::values::{self, Assignment};
use super::{ReleaseSpec, Spec, ValuesSource, source, template_context, yaml};

/// Values given on the command line, read once and applied to every release.
#[derive(Debug, Default)]
pub struct Overrides {
    layers: Vec<Value>,
    assignments: Vec<Assignment>,
}

impl Overrides {
    pub fn from_args(
        values_files: &[PathBuf],
        set_expressions: &[String],
    ) -> Result<Self, ConfigError> {
        let mut layers = Vec::new();
        for path in values_files {
            let text = source::read_text(path)?;
            let layer: Value = yaml::parse_document(&text, path, 1)?;
            layers.push(values_map(layer, path)?);
        }
        let mut assignments = Vec::new();
        for expression in set_expressions {
            let parsed = values::parse_set_expression(expression).map_err(|message| {
                ConfigError::BadSetExpression {
                    expression: expression.clone(),
                    message,
                }
            })?;
            assignments.extend(parsed);
        }
        Ok(Overrides {
            layers,
            assignments,
        })
    }
}

impl Overrides {
    /// The command line's --values files, then its --set expressions, over `values`.
    fn apply(&self, values: &mut Value) {
        for layer in &self.layers {
            values::merge(values, layer.clone());
        }
        for assignment in &self.assignments {
            assignment.apply(values);
        }
    }
}

impl Spec {
    /// The values a release's chart is rendered with, before the chart's own defaults.
    pub fn release_values(
        &self,
        release: &ReleaseSpec,
        overrides: &Overrides,
    ) -> Result<Value, ConfigError> {
        let mut merged = self.merged_entries(release, true)?;
        for assignment in &release.set {
            assignment.apply(&mut merged);
        }
        for (path, file) in &release.set_files {
            if !file.exists() {
                return Err(ConfigError::MissingValuesFile {
                    at: release.defined_at.clone(),
                    path: file.clone(),
                });
            }
            let text = source::read_text(file)?;
            let assignment = Assignment {
                path: path.clone(),
                value: Value::String(text),
            };
            assignment.apply(&mut merged);
        }
        overrides.apply(&mut merged);
        Ok(merged)
    }

    /// What write-values writes for a release: its `values` entries merged, as helmfile's
    /// write-values writes them, then what the command line asks for. Not the file's `set`
    /// entries (helmfile gives those to helm as flags, not in the file), nor decrypted
    /// `secrets` (orch writes them nowhere).
    pub fn values_files(
        &self,
        release: &ReleaseSpec,
        overrides: &Overrides,
    ) -> Result<Value, ConfigError> {
        let mut merged = self.merged_entries(release, false)?;
        overrides.apply(&mut merged);
        Ok(merged)
    }

    /// The release's `values` entries (and, with `secrets`, its decrypted secrets) merged in
    /// order.
    fn merged_entries(&self, release: &ReleaseSpec, secrets: bool) -> Result<Value, ConfigError> {
        let context = self.release_context(release);
        let mut merged = Value::Object(Map::new());
        for source in &release.values {
            let layer = match source {
                ValuesSource::Inline(inline) => Some(inline.clone()),
                ValuesSource::File(path) => read_values_file(
                    &self.templates,
                    path,
                    &release.defined_at,
                    release.missing_file_handler,
                    &context,
                )?,
                ValuesSource::Secrets(path) if secrets => super::secrets::read_secrets_file(
                    &self.sops_binary,
                    path,
                    &release.defined_at,
                    release.missing_file_handler,
                )?,
                ValuesSource::Secrets(_) => None,
            };
            if let Some(layer) = layer {
                values::merge(&mut merged, layer);
            }
        }
        Ok(merged)
    }

    /// A hook's arguments for `event`, rendered as helmfile renders them: Go templates over
    /// the release's data and `.Event` (`Name`, and `Error` after a failed sync).
    pub fn hook_args(
        &self,
        release: &ReleaseSpec,
        hook: &super::ReleaseHook,
        event: super::HookEvent,
        error: Option<&str>,
    ) -> Result<Vec<String>, ConfigError> {
        let mut data = super::gotmpl::data_of(&self.release_context(release));
        data["Event"] = json!({"Name": event.name(), "Error": error});
        self.render_args(&hook.args, &data, &release.defined_at, &release.base_dir)
    }

    /// A state hook's arguments for `event`: Go templates over `.Event` (`Name`) and the
    /// environment, as helmfile renders a state's own hooks.
    pub fn state_hook_args(
        &self,
        state_hook: &super::StateHook,
        event: super::HookEvent,
    ) -> Result<Vec<String>, ConfigError> {
        let mut data = super::gotmpl::data_of(&template_context(&self.environment));
        data["Event"] = json!({"Name": event.name(), "Error": null});
        let (at, base_dir) = (&state_hook.defined_at, &state_hook.base_dir);
        self.render_args(&state_hook.hook.args, &data, at, base_dir)
    }

    /// A hook's arguments, each a Go template over `data` (file functions from `base_dir`).
    fn render_args(
        &self,
        args: &[String],
        data: &Value,
        at: &Location,
        base_dir: &Path,
    ) -> Result<Vec<String>, ConfigError> {
        args.iter()
            .map(|arg| {
                if !arg.contains("{{") {
                    return Ok(arg.clone());
                }
                let go = self.templates.go();
                go.render(
                    &at.file,
                    arg,
                    at.line,
                    data,
                    super::gotmpl::Pass::Final,
                    base_dir,
                )
            })
            .collect()
    }

    /// What a release's `*.j2` files see: the environment, and the release itself.
    fn release_context(&self, release: &ReleaseSpec) -> Value {
        let mut context = template_context(&release.environment);
        context["release"] = json!({
            "name": release.id.name,
            "namespace": release.id.namespace,
            "labels": release.labels,
            "chart": release.chart,
        });
        context
    }

    /// Renders a `*.j2` manifest template of a release's chart directory.
    pub fn render_manifest_template(
        &self,
        path: &Path,
        text: &str,
        release: &ReleaseSpec,
        values: &Value,
    ) -> Result<String, ConfigError> {
        let mut context = self.release_context(release);
        context["values"] = values.clone();
        let dir = path.parent().unwrap_or(Path::new(""));
        self.templates.render(path, text, 1, &context, dir)
    }
}

/// Reads one values file, rendering it first when it is a template (whose file functions
/// resolve from its own directory, as helmfile's do). A missing file is an error or a log
/// line, as `handler` says; `at` is where the file was referenced.
pub fn read_values_file(
    templates: &Templates,
    path: &Path,
    at: &Location,
    handler: MissingFileHandler,
    context: &Value,
) -> Result<Option<Value>, ConfigError> {
    if !path.exists() {
        return missing_file(path, at, handler).map(|()| None);
    }
    let text = source::read_text(path)?;
    let text = if source::is_template(path) {
        let dir = path.parent().unwrap_or(Path::new(""));
        templates.render(path, &text, 1, context, dir)?
    } else {
        text
    };
    let value: Value = yaml::parse_document(&text, path, 1)?;
    if value.is_null() {
        return Ok(None);
    }
    values_map(value, path).map(Some)
}

/// A values (or secrets) file that does not exist: an error, or a log line, as `handler`
/// says.
pub fn missing_file(
    path: &Path,
    at: &Location,
    handler: MissingFileHandler,
) -> Result<(), ConfigError> {
    let message = format!("{at}: skipping missing values file {}", path.display());
    match handler {
        MissingFileHandler::Error => {
            return Err(ConfigError::MissingValuesFile {
                at: at.clone(),
                path: path.to_path_buf(),
            });
        }
        MissingFileHandler::Warn => tracing::warn!("{message}"),
        MissingFileHandler::Info => tracing::info!("{message}"),
        MissingFileHandler::Debug => tracing::debug!("{message}"),
    }
    Ok(())
}

/// A values file's document: a map (an empty document is an empty map).
pub fn values_map(value: Value, path: &Path) -> Result<Value, ConfigError> {
    match value {
        Value::Object(_) => Ok(value),
        Value::Null => Ok(Value::Object(Map::new())),
        other => Err(ConfigError::Invalid {
            at: Location::new(path, 1, 0),
            message: format!(
                "a values file must be a map of values, not {}",
                json_type(&other)
            ),
        }),
    }
}
