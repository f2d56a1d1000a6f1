//! The template engines of releases and values files: minijinja for orch's own `*.j2`
//! files, and helmfile's Go templates for `*.gotmpl` ones and state files.
//!
//! Undefined variables are errors (a typo must not render as an empty string), and
//! `trim_blocks`/`lstrip_blocks` are on so `{% for %}` lines leave no blank lines in YAML.

use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, Error, ErrorKind, State, UndefinedBehavior, Value};

use super::error::{ConfigError, Location};
use super::gotmpl::{self, GoTemplates, Pass};

pub struct Templates {
    env: Environment<'static>,
    go: GoTemplates,
}

impl Default for Templates {
    fn default() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // minijinja would JSON-escape output for `*.yaml.j2` names; these files are plain text.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_keep_trailing_newline(true);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.add_function("env", env_var);
        env.add_function("required_env", required_env);
        env.add_function("required", required);
        env.add_function("read_file", read_file);
        env.add_filter("toyaml", to_yaml);
        Templates {
            env,
            go: GoTemplates::default(),
        }
    }
}

impl Templates {
    /// helmfile's Go templates, for state files.
    pub fn go(&self) -> &GoTemplates {
        &self.go
    }

    /// Renders `source`, the text of `file` from its line `first_line` on: a `*.gotmpl` file
    /// as helmfile renders it (its data made from `context`, its file functions resolving
    /// from `base_dir`, the naming state file's directory), others with minijinja.
    pub fn render(
        &self,
        file: &Path,
        source: &str,
        first_line: usize,
        context: &serde_json::Value,
        base_dir: &Path,
    ) -> Result<String, ConfigError> {
        if super::source::is_go_template(file) {
            let data = gotmpl::data_of(context);
            return self
                .go
                .render(file, source, first_line, &data, Pass::Final, base_dir);
        }
        let name = file.to_string_lossy();
        self.env
            .render_named_str(&name, source, Value::from_serialize(context))
            .map_err(|err| template_error(file, source, first_line, &err))
    }
}

fn template_error(file: &Path, source: &str, first_line: usize, err: &Error) -> ConfigError {
    let line = err.line().map_or(0, |l| first_line + l - 1);
    let mut message = match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    };
    if let Some(excerpt) = err.line().and_then(|l| excerpt(source, l, err.range())) {
        message.push_str(&excerpt);
    }
    ConfigError::Template {
        at: Location::new(file, line, 0),
        message,
    }
}

/// The template's line `line` (1-based), with carets under the failing span when known.
fn excerpt(source: &str, line: usize, span: Option<std::ops::Range<usize>>) -> Option<String> {
    let start = source
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    let text = source[start..].lines().next()?;
    let mut out = format!("\n    {text}");
    // minijinja's span can fall inside a character (a BOM within a name): then no carets.
    if let Some(span) = span.filter(|s| s.start >= start && s.end <= start + text.len())
        && let (Some(before), Some(failing)) = (source.get(start..span.start), source.get(span))
    {
        let pad = before.chars().count();
        let width = failing.chars().count().max(1);
        out.push_str(&format!("\n    {}{}", " ".repeat(pad), "^".repeat(width)));
    }
    Some(out)
}

/// `env("NAME")` or `env("NAME", "default")`: the variable, else the default, else "".
fn env_var(name: String, default: Option<String>) -> String {
    std::env::var(&name).ok().or(default).unwrap_or_default()
}

fn required_env(name: String) -> Result<String, Error> {
    std::env::var(&name).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("environment variable {name} is required but not set"),
        )
    })
}

/// `required(value, "message")`: fails with the message when the value is missing or empty.
fn required(value: Option<Value>, message: Option<String>) -> Result<Value, Error> {
    match value {
        Some(v) if !v.is_undefined() && !v.is_none() && v.as_str() != Some("") => Ok(v),
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            message.unwrap_or_else(|| "a required value is missing".to_string()),
        )),
    }
}

/// `read_file("path")`, relative to the template's own directory.
fn read_file(state: &State, path: String) -> Result<String, Error> {
    let base = Path::new(state.name())
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let full: PathBuf = base.join(&path);
    std::fs::read_to_string(&full).map_err(|err| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("read_file({path}): {}: {err}", full.display()),
        )
    })
}

fn to_yaml(value: Value) -> Result<String, Error> {
    serde_yaml_ng::to_string(&value)
        .map(|text| text.trim_end().to_string())
        .map_err(|err| Error::new(ErrorKind::InvalidOperation, err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(source: &str, context: serde_json::Value) -> Result<String, String> {
        Templates::default()
            .render(Path::new("t.yaml.j2"), source, 1, &context, Path::new(""))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn renders_values_and_keeps_the_trailing_newline() {
        let out = render(
            "ns: {{ environment.name }}\n{% for r in values.list %}\n- {{ r }}\n{% endfor %}\n",
            json!({"environment": {"name": "staging"}, "values": {"list": [1, 2]}}),
        )
        .unwrap();
        assert_eq!(out, "ns: staging\n- 1\n- 2\n");
    }

    #[test]
    fn undefined_is_an_error_with_line_and_expression() {
        let err = render(
            "a: 1\nb: {{ values.missing.deeper }}\n",
            json!({"values": {}}),
        )
        .unwrap_err();
        assert!(
            err.starts_with("t.yaml.j2:2: template error: undefined value"),
            "{err}"
        );
        assert!(
            err.contains("\n    b: {{ values.missing.deeper }}\n"),
            "{err}"
        );
        assert!(err.ends_with("\n                ^^^^^^^^^^^^^^^"), "{err}");
    }

    #[test]
    fn default_and_is_defined_work_on_undefined() {
        let out = render(
            "{{ values.x | default('d') }} {{ 'yes' if values.y is defined else 'no' }}",
            json!({"values": {}}),
        )
        .unwrap();
        assert_eq!(out, "d no");
    }

    #[test]
    fn required_fails_with_the_message() {
        let err = render(
            "{{ required(values.pw, 'set a password') }}",
            json!({"values": {"pw": ""}}),
        )
        .unwrap_err();
        assert!(err.contains("set a password"), "{err}");
        let ok = render(
            "{{ required(values.pw, 'x') }}",
            json!({"values": {"pw": "p"}}),
        )
        .unwrap();
        assert_eq!(ok, "p");
    }

    #[test]
    fn env_falls_back_to_the_default() {
        let out = render("{{ env('ORCH_SURELY_UNSET_VAR', 'fallback') }}", json!({})).unwrap();
        assert_eq!(out, "fallback");
    }

    #[test]
    fn a_span_inside_a_character_gives_no_carets_and_no_panic() {
        let err = render(
            "a: 1\nb: {{ environmen\u{feff}t.values.x }}\n",
            json!({"values": {}}),
        )
        .unwrap_err();
        assert!(err.starts_with("t.yaml.j2:2: template error"), "{err}");
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err = render("a: 1\nb: {{ values.x \n", json!({"values": {}})).unwrap_err();
        assert!(err.starts_with("t.yaml.j2:2"), "{err}");
    }
}
