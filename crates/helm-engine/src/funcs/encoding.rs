//! Helm's serialization functions: `toYaml`/`fromYaml` in Helm's YAML dialect, `fromJson`
//! and `toToml`. They swallow errors (returning "" or a map with an `Error` key) because
//! that is what charts rely on.

use std::collections::BTreeMap;

use gotemplate::funcs::{Funcs, Param, str_arg};
use gotemplate::value::Value;

use crate::yaml::emit::to_yaml;
use crate::yaml::parse::from_yaml;
use crate::yaml::toml::to_toml;

use Param::{Any, Str};

pub fn register(r: &mut Funcs) {
    r.add("toYaml", &[Any], |_, a| Ok(Value::str(to_yaml(&a[0]))));
    r.add("mustToYaml", &[Any], |_, a| Ok(Value::str(to_yaml(&a[0]))));
    r.add("toYamlPretty", &[Any], |_, a| {
        Ok(Value::str(to_yaml(&a[0])))
    });
    r.add("fromYaml", &[Str], |_, a| Ok(from_yaml_map(str_arg(&a, 0))));
    r.add("fromYamlArray", &[Str], |_, a| {
        Ok(from_yaml_array(str_arg(&a, 0)))
    });
    r.add("fromJson", &[Str], |_, a| Ok(from_json_map(str_arg(&a, 0))));
    r.add("mustFromJson", &[Str], |_, a| {
        serde_json::from_str::<serde_json::Value>(str_arg(&a, 0))
            .map(|j| Value::from_json(&j))
            .map_err(|e| e.to_string().into())
    });
    r.add("fromJsonArray", &[Str], |_, a| {
        Ok(from_json_array(str_arg(&a, 0)))
    });
    r.add("toToml", &[Any], |_, a| Ok(Value::str(to_toml(&a[0])?)));
}

fn error_map(message: String) -> Value {
    let mut map = BTreeMap::new();
    map.insert("Error".to_string(), Value::str(message));
    Value::map(map)
}

/// Helm's `fromYaml`: a map, or `{Error: ...}` when the text is not a YAML map.
fn from_yaml_map(text: &str) -> Value {
    match from_yaml(text) {
        Ok(serde_json::Value::Null) => Value::empty_map(),
        Ok(json @ serde_json::Value::Object(_)) => Value::from_json(&json),
        Ok(other) => error_map(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(&other)
        )),
        Err(e) => error_map(format!("error converting YAML to JSON: {e}")),
    }
}

fn from_yaml_array(text: &str) -> Value {
    match from_yaml(text) {
        Ok(serde_json::Value::Null) => Value::list(Vec::new()),
        Ok(json @ serde_json::Value::Array(_)) => Value::from_json(&json),
        Ok(other) => Value::list(vec![Value::str(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&other)
        ))]),
        Err(e) => Value::list(vec![Value::str(format!(
            "error converting YAML to JSON: {e}"
        ))]),
    }
}

fn from_json_map(text: &str) -> Value {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(json @ serde_json::Value::Object(_)) => Value::from_json(&json),
        Ok(other) => error_map(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(&other)
        )),
        Err(e) => error_map(go_json_error(text, &e)),
    }
}

/// `encoding/json`'s wording for the common syntax errors.
fn go_json_error(text: &str, error: &serde_json::Error) -> String {
    match text.trim_start().chars().next() {
        None => "unexpected end of JSON input".into(),
        Some(c) if !matches!(c, '{' | '[' | '"' | '-' | '0'..='9' | 't' | 'f' | 'n') => {
            format!("invalid character '{c}' looking for beginning of value")
        }
        _ if error.is_eof() => "unexpected end of JSON input".into(),
        _ => error.to_string(),
    }
}

fn from_json_array(text: &str) -> Value {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(json @ serde_json::Value::Array(_)) => Value::from_json(&json),
        Ok(other) => Value::list(vec![Value::str(format!(
            "json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&other)
        ))]),
        Err(e) => Value::list(vec![Value::str(e.to_string())]),
    }
}

fn json_kind(json: &serde_json::Value) -> &'static str {
    match json {
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Null => "null",
    }
}
