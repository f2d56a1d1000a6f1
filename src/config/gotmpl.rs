//! helmfile's Go templates, for state files and `*.gotmpl` values files: Sprig and helmfile's
//! own functions over helmfile's data (`.Environment`, `.Values`, `.StateValues`,
//! `.Namespace`, and `.Release` in a release's values files), rendered as helmfile 0.166
//! renders them.
//!
//! A state file part is rendered twice, as helmfile does: a first, forgiving pass
//! ([`Pass::Environments`]: a missing key is empty, `exec` and the file functions return
//! nothing) only to read the part's `environments`, then the [`Pass::Final`] one with that
//! environment's values, where a missing key is an error.

use std::path::{Path, PathBuf};

use gotemplate::exec::CallError;
use gotemplate::funcs::Param::{Any, Map, Str};
use gotemplate::funcs::str_arg;
use gotemplate::value::WholeNumbers;
use gotemplate::{Exec, Funcs, TemplateSet, Value};
use serde_json::Value as Json;

use super::error::{ConfigError, Location};

/// Which of helmfile's two renders of a state file part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Only to find the part's environments: missing keys are empty and nothing is run.
    Environments,
    /// The render whose output is loaded.
    Final,
}

pub struct GoTemplates {
    funcs: Funcs,
}

/// What helmfile's functions need of the file being rendered.
struct Host {
    /// Relative paths of `readFile`, `isFile`, `readDir` and `exec`'s working directory.
    base_dir: PathBuf,
    pass: Pass,
}

impl Default for GoTemplates {
    fn default() -> Self {
        let mut funcs = Funcs::sprig();
        register(&mut funcs);
        funcs.explain_unsupported("this function is not supported by orch");
        GoTemplates { funcs }
    }
}

impl GoTemplates {
    /// Renders `source`, the text of `file` from its line `first_line` on, with `data` (see
    /// [`state_data`]). Helper templates `_*.tpl` beside the file are defined first, as
    /// helmfile does. `base_dir` is helmfile's base path, which `readFile` and the other
    /// file functions resolve against: the directory of the state file being loaded (for a
    /// base or a values file too, that of the file that names it).
    pub fn render(
        &self,
        file: &Path,
        source: &str,
        first_line: usize,
        data: &Json,
        pass: Pass,
        base_dir: &Path,
    ) -> Result<String, ConfigError> {
        let base_dir = base_dir.to_path_buf();
        let name = file.to_string_lossy().into_owned();
        let funcs = &self.funcs;
        let mut set = TemplateSet::default();
        for helper in helper_templates(file.parent().unwrap_or(Path::new("")))? {
            let text = super::source::read_text(&helper)?;
            set.add_file(&helper.to_string_lossy(), &text, &|f| funcs.contains(f))
                .map_err(|e| template_error(&helper, 1, e))?;
        }
        set.add_file(&name, source, &|f| funcs.contains(f))
            .map_err(|e| template_error(file, first_line, e))?;
        let host = Host { base_dir, pass };
        let mut exec = Exec::new(&set, funcs, &host).missing_key_is_error(pass == Pass::Final);
        let (rendered, error) = exec.execute_partial(&name, &go_value(data));
        match (pass, error) {
            // helmfile reads what the first pass wrote up to a failing action, with its
            // workaround for Go printing a missing key as `<no value>`.
            (Pass::Environments, _) => Ok(rendered.replace("<no value>", "")),
            (Pass::Final, None) => Ok(rendered),
            (Pass::Final, Some(CallError::Template(e))) => Err(template_error(file, first_line, e)),
            (Pass::Final, Some(CallError::Message(message) | CallError::Required(message))) => {
                Err(ConfigError::Template {
                    at: Location::new(file, first_line, 0),
                    message,
                })
            }
        }
    }
}

fn template_error(file: &Path, first_line: usize, e: gotemplate::TemplateError) -> ConfigError {
    ConfigError::Template {
        at: Location::new(file, first_line + e.line.max(1) - 1, e.column),
        message: e.message,
    }
}

/// `_*.tpl` files in `dir`, in name order.
fn helper_templates(dir: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut helpers: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with('_') && name.ends_with(".tpl") && p.is_file()
        })
        .collect();
    helpers.sort();
    Ok(helpers)
}

/// helmfile's data for a state file or an environment's values file: the environment
/// (`name`, `kube_context`, `values`) and the values again as `.Values` and `.StateValues`.
pub fn state_data(name: &str, kube_context: Option<&str>, values: &Json) -> Json {
    serde_json::json!({
        "Environment": {
            "Name": name,
            "KubeContext": kube_context.unwrap_or_default(),
            "Values": values,
            "Defaults": {},
        },
        "Namespace": "",
        "Values": values,
        "StateValues": values,
    })
}

/// helmfile's data from what orch's `*.j2` files see (`environment`, `values`, and for a
/// release's values files `release`): the state data, plus `.Release` and its fields.
pub fn data_of(context: &Json) -> Json {
    let environment = &context["environment"];
    let mut data = state_data(
        environment["name"].as_str().unwrap_or_default(),
        environment["kubeContext"].as_str(),
        &context["values"],
    );
    if let Some(release) = context.get("release") {
        let field = |key: &str| {
            release
                .get(key)
                .cloned()
                .unwrap_or(Json::String(String::new()))
        };
        data["Release"] = serde_json::json!({
            "Name": field("name"),
            "Namespace": field("namespace"),
            "Labels": release.get("labels").cloned().unwrap_or_else(|| serde_json::json!({})),
            "Chart": field("chart"),
            "KubeContext": field("kubeContext"),
        });
        data["Namespace"] = field("namespace");
        data["Chart"] = field("chart");
        data["KubeContext"] = field("kubeContext");
    }
    data
}

/// Data as helmfile's YAML decoding gives it to templates: whole numbers are `int`.
fn go_value(json: &Json) -> Value {
    Value::from_json_as(json, WholeNumbers::Int)
}

fn host<'a>(exec: &Exec<'a>) -> &'a Host {
    exec.host::<Host>()
        .expect("state templates run with their host")
}

fn resolve(exec: &Exec<'_>, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        host(exec).base_dir.join(path)
    }
}

fn register(r: &mut Funcs) {
    r.add("env", &[Str], |_, a| {
        Ok(Value::str(
            std::env::var(str_arg(&a, 0)).unwrap_or_default(),
        ))
    });
    r.add("expandenv", &[Str], |_, a| {
        let text = str_arg(&a, 0);
        Ok(Value::str(expand_env(text)))
    });
    r.add("requiredEnv", &[Str], |_, a| {
        let name = str_arg(&a, 0);
        match std::env::var(name) {
            Ok(value) if !value.is_empty() => Ok(Value::str(value)),
            _ => Err(format!("required env var `{name}` is not set").into()),
        }
    });
    r.add("required", &[Str, Any], |_, a| match &a[1] {
        Value::Nil => Err(CallError::Message(str_arg(&a, 0).to_string())),
        Value::Str(s) if s.is_empty() => Err(CallError::Message(str_arg(&a, 0).to_string())),
        value => Ok(value.clone()),
    });
    r.variadic("get", &[Str], Any, |_, a| get(&a, false));
    r.variadic("getOrNil", &[Str], Any, |_, a| get(&a, true));
    r.add("sprigGet", &[Map, Str], |_, a| {
        let key = str_arg(&a, 1);
        Ok(match &a[0] {
            Value::Map(entries) => entries.borrow().get(key).cloned().unwrap_or(Value::str("")),
            _ => Value::str(""),
        })
    });
    r.add("setValueAtPath", &[Str, Any, Map], |_, a| {
        set_value_at_path(str_arg(&a, 0), a[1].clone(), &a[2])?;
        Ok(a[2].clone())
    });
    r.add("toYaml", &[Any], |_, a| {
        // go-yaml v2's Marshal, which ends in a line break (Helm's toYaml trims it).
        let mut text = helm_engine::to_yaml(&a[0]);
        text.push('\n');
        Ok(Value::str(text))
    });
    r.add("fromYaml", &[Str], |_, a| {
        let text = str_arg(&a, 0);
        match helm_engine::yaml_to_json(text) {
            Ok(Json::Null) => Ok(Value::empty_map()),
            Ok(json @ Json::Object(_)) => Ok(go_value(&json)),
            Ok(_) => Err(format!("fromYaml: not a map, offending yaml: {text}").into()),
            Err(e) => Err(format!("{e}, offending yaml: {text}").into()),
        }
    });
    r.add("include", &[Str, Any], |x, a| {
        Ok(Value::str(x.include(str_arg(&a, 0), &a[1])?))
    });
    r.add("tpl", &[Str, Any], |x, a| {
        let rendered = x.run_source("tpl", str_arg(&a, 0), &a[1])?;
        Ok(Value::str(rendered))
    });
    r.add("isFile", &[Str], |x, a| {
        Ok(Value::Bool(resolve(x, str_arg(&a, 0)).is_file()))
    });
    r.add("readFile", &[Str], |x, a| {
        if host(x).pass == Pass::Environments {
            return Ok(Value::str(""));
        }
        let path = resolve(x, str_arg(&a, 0));
        std::fs::read(&path)
            .map(|bytes| Value::go_string(&bytes))
            .map_err(|e| format!("readFile {}: {e}", path.display()).into())
    });
    r.add("readDir", &[Str], |x, a| {
        if host(x).pass == Pass::Environments {
            return Ok(Value::list(Vec::new()));
        }
        let relative = str_arg(&a, 0);
        let dir = resolve(x, relative);
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| format!("ReadDir {:?}: {e}", dir.display().to_string()))?;
        let mut files: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
            .map(|e| {
                Path::new(relative)
                    .join(e.file_name())
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        files.sort();
        Ok(Value::list(files.into_iter().map(Value::str).collect()))
    });
    r.variadic("exec", &[Str, Any], Str, |x, a| {
        run_command(x, None, &a[0], &a[1], a.get(2))
    });
    r.variadic("envExec", &[Map, Str, Any], Str, |x, a| {
        run_command(x, Some(&a[0]), &a[1], &a[2], a.get(3))
    });
    r.add("fetchSecretValue", &[Str], |_, a| {
        let value = str_arg(&a, 0);
        if value.starts_with("ref+") {
            return Err(secret_refs_unsupported(value));
        }
        Ok(Value::str(value))
    });
    r.add("expandSecretRefs", &[Map], |_, a| {
        if let Some(reference) = find_secret_ref(&a[0]) {
            return Err(secret_refs_unsupported(&reference));
        }
        Ok(a[0].clone())
    });
}

fn secret_refs_unsupported(reference: &str) -> CallError {
    let scheme = reference.split("://").next().unwrap_or(reference);
    CallError::Message(format!(
        "secret references ({scheme}://...) are read by helmfile's vals library, which orch does not support"
    ))
}

fn find_secret_ref(value: &Value) -> Option<String> {
    match value {
        Value::Str(s) if s.starts_with("ref+") => Some(s.to_string()),
        Value::List(items) => items.iter().find_map(find_secret_ref),
        Value::Map(entries) => entries.borrow().values().find_map(find_secret_ref),
        _ => None,
    }
}

/// Sprig's `expandenv`: `$NAME` and `${NAME}` from the process environment.
fn expand_env(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        if consumed == 0 {
            out.push('$');
            rest = after;
            continue;
        }
        out.push_str(&std::env::var(name).unwrap_or_default());
        rest = &after[consumed..];
    }
    out.push_str(rest);
    out
}

/// helmfile's `get PATH [DEFAULT] OBJ`: the value at a dotted path, or the default; without
/// a default a missing key is an error (`getOrNil` gives nil instead).
fn get(args: &[Value], or_nil: bool) -> Result<Value, CallError> {
    let path = str_arg(args, 0);
    let (default, object) = match &args[1..] {
        [object] => (None, object),
        [default, object] => (Some(default), object),
        rest => {
            return Err(format!(
                "unexpected number of args passed to the template function get(path, [def, ]obj): expected 1 or 2, got {}",
                rest.len()
            )
            .into());
        }
    };
    let mut current = object.clone();
    if path.is_empty() {
        return Ok(current);
    }
    for key in path.split('.') {
        let next = match &current {
            Value::Map(entries) => entries.borrow().get(key).cloned(),
            Value::Object(object) => object.field(key),
            _ => None,
        };
        match next {
            Some(value) => current = value,
            None => {
                return match (default, or_nil) {
                    (Some(default), _) => Ok(default.clone()),
                    (None, true) => Ok(Value::Nil),
                    (None, false) => Err(format!(
                        "no value exist for key \"{key}\" in {}",
                        gotemplate::gofmt::sprint_value(&current)
                    )
                    .into()),
                };
            }
        }
    }
    Ok(current)
}

fn set_value_at_path(path: &str, value: Value, values: &Value) -> Result<(), CallError> {
    let fail = |key: &str, why: &str| {
        CallError::Message(format!(
            "failed to set value at path \"{path}\": value for key \"{key}\" {why}"
        ))
    };
    let keys: Vec<&str> = path.split('.').collect();
    let (last, parents) = keys.split_last().expect("split gives one element at least");
    let mut current = values.clone();
    for key in parents {
        let next = match &current {
            Value::Map(entries) => entries.borrow().get(*key).cloned(),
            _ => return Err(fail(key, "was not a map")),
        };
        match next {
            Some(next @ Value::Map(_)) => current = next,
            Some(_) => return Err(fail(key, "was not a map")),
            None => return Err(fail(key, "does not exist")),
        }
    }
    match &current {
        Value::Map(entries) => {
            entries.borrow_mut().insert((*last).to_string(), value);
            Ok(())
        }
        _ => Err(fail(last, "was not a map")),
    }
}

/// `exec` and `envExec`: runs a command from the file's directory and returns its standard
/// output. Every command a state file runs is shown; none runs in the first pass.
fn run_command(
    exec: &Exec<'_>,
    env: Option<&Value>,
    command: &Value,
    args: &Value,
    input: Option<&Value>,
) -> Result<Value, CallError> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let host = host(exec);
    if host.pass == Pass::Environments {
        return Ok(Value::str(""));
    }
    let command = command.as_str().unwrap_or_default();
    let args: Vec<String> = match args {
        Value::List(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_str().map(str::to_string).ok_or_else(|| {
                    CallError::Message(format!(
                        "unexpected type of arg \"{}\" in args at index {i}",
                        item.type_name()
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
        Value::Nil => Vec::new(),
        other => {
            return Err(format!("exec: args must be a list, not {}", other.type_name()).into());
        }
    };
    // A command a state file runs is always shown, as hooks are.
    tracing::warn!("exec: {command} {}", args.join(" "));
    let mut child = Command::new(command);
    child
        .args(&args)
        .current_dir(if host.base_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &host.base_dir
        })
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(Value::Map(vars)) = env {
        for (name, value) in vars.borrow().iter() {
            child.env(name, value.as_str().unwrap_or_default());
        }
    }
    let mut child = child.spawn().map_err(|e| format!("exec {command}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let input = input
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        // Written from a thread, so a command that prints before reading cannot deadlock.
        std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    }
    let output = child
        .wait_with_output()
        .map_err(|e| format!("exec {command}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "exec {command}: {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    Ok(Value::go_string(&output.stdout))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str, values: Json, pass: Pass) -> Result<String, ConfigError> {
        let data = state_data("staging", None, &values);
        GoTemplates::default().render(
            Path::new("helmfile.yaml"),
            source,
            1,
            &data,
            pass,
            Path::new(""),
        )
    }

    #[test]
    fn helmfiles_data_and_functions() {
        let values = serde_json::json!({"replicas": 3, "db": {"host": "pg"}});
        let out = render(
            "{{ .Environment.Name }} {{ .Values.replicas }} {{ .StateValues.db.host }} \
             {{ .Values | get \"db.port\" 5432 }} {{ getOrNil \"x.y\" .Values | toString }} \
             {{ .Values.db | toYaml }}",
            values,
            Pass::Final,
        )
        .unwrap();
        assert_eq!(out, "staging 3 pg 5432 <nil> host: pg\n");
    }

    #[test]
    fn the_final_pass_fails_on_a_missing_key_the_first_does_not() {
        let err = render(
            "a: {{ .Values.nope }}\n",
            serde_json::json!({}),
            Pass::Final,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("map has no entry for key \"nope\""),
            "{err}"
        );
        let out = render(
            "a: {{ .Values.nope }}\n",
            serde_json::json!({}),
            Pass::Environments,
        );
        assert_eq!(out.unwrap(), "a: \n");
    }

    #[test]
    fn get_without_a_default_names_the_missing_key() {
        let err = render(
            "{{ .Values | get \"a.b\" }}",
            serde_json::json!({"a": {}}),
            Pass::Final,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("no value exist for key \"b\""),
            "{err}"
        );
    }

    #[test]
    fn exec_runs_only_in_the_final_pass() {
        let source = "{{ exec \"echo\" (list \"hi\") }}";
        assert_eq!(
            render(source, serde_json::json!({}), Pass::Environments).unwrap(),
            ""
        );
        assert_eq!(
            render(source, serde_json::json!({}), Pass::Final).unwrap(),
            "hi\n"
        );
        let err = render(
            "{{ exec \"false\" (list) }}",
            serde_json::json!({}),
            Pass::Final,
        )
        .unwrap_err();
        assert!(err.to_string().contains("exec false"), "{err}");
    }

    #[test]
    fn set_value_at_path_changes_the_map_in_place() {
        let out = render(
            "{{ $v := dict \"a\" (dict \"b\" 1) }}{{ $_ := setValueAtPath \"a.b\" 2 $v }}{{ $v.a.b }}",
            serde_json::json!({}),
            Pass::Final,
        )
        .unwrap();
        assert_eq!(out, "2");
    }

    #[test]
    fn secret_references_are_refused_by_name() {
        let err = render(
            "{{ fetchSecretValue \"ref+vault://secret/x#y\" }}",
            serde_json::json!({}),
            Pass::Final,
        )
        .unwrap_err();
        assert!(err.to_string().contains("ref+vault://"), "{err}");
    }
}
