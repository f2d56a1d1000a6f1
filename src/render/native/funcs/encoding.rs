//! Serialization: Helm's `toYaml`/`fromYaml`/`toJson`/`fromJson`/`toToml` and Sprig's
//! JSON and base64/base32 functions. Helm's versions swallow errors (returning "" or a map
//! with an `Error` key) because that is what charts rely on.

use std::collections::BTreeMap;

use base64::Engine;

use super::{Param, Registry, str_arg};
use crate::render::native::value::Value;
use crate::render::native::yaml::emit::to_yaml;
use crate::render::native::yaml::json::{JsonOptions, to_json};
use crate::render::native::yaml::parse::from_yaml;

use Param::{Any, Str};

const COMPACT: JsonOptions = JsonOptions {
    escape_html: true,
    indent: None,
};
const RAW: JsonOptions = JsonOptions {
    escape_html: false,
    indent: None,
};
const PRETTY: JsonOptions = JsonOptions {
    escape_html: true,
    indent: Some("  "),
};

pub fn register(r: &mut Registry) {
    r.add("toYaml", &[Any], |_, a| Ok(Value::str(to_yaml(&a[0]))));
    r.add("mustToYaml", &[Any], |_, a| Ok(Value::str(to_yaml(&a[0]))));
    r.add("toYamlPretty", &[Any], |_, a| {
        Ok(Value::str(to_yaml(&a[0])))
    });
    r.add("fromYaml", &[Str], |_, a| Ok(from_yaml_map(str_arg(&a, 0))));
    r.add("fromYamlArray", &[Str], |_, a| {
        Ok(from_yaml_array(str_arg(&a, 0)))
    });
    r.add("toJson", &[Any], |_, a| {
        Ok(Value::str(to_json(&a[0], &COMPACT).unwrap_or_default()))
    });
    r.add("mustToJson", &[Any], |_, a| {
        Ok(Value::str(to_json(&a[0], &COMPACT)?))
    });
    r.add("toRawJson", &[Any], |_, a| {
        Ok(Value::str(to_json(&a[0], &RAW).unwrap_or_default()))
    });
    r.add("mustToRawJson", &[Any], |_, a| {
        Ok(Value::str(to_json(&a[0], &RAW)?))
    });
    r.add("toPrettyJson", &[Any], |_, a| {
        Ok(Value::str(to_json(&a[0], &PRETTY).unwrap_or_default()))
    });
    r.add("mustToPrettyJson", &[Any], |_, a| {
        Ok(Value::str(to_json(&a[0], &PRETTY)?))
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
    r.add("toToml", &[Any], |_, a| {
        Ok(Value::str(crate::render::native::yaml::toml::to_toml(
            &a[0],
        )?))
    });
    r.add("b64enc", &[Str], |_, a| {
        Ok(Value::str(b64().encode(str_arg(&a, 0))))
    });
    r.add("b64dec", &[Str], |_, a| {
        let text = str_arg(&a, 0);
        Ok(Value::str(match b64().decode(text) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => go_base64_error(&e, text.len()),
        }))
    });
    r.add("b32enc", &[Str], |_, a| {
        Ok(Value::str(base32_encode(str_arg(&a, 0).as_bytes())))
    });
    r.add("b32dec", &[Str], |_, a| {
        Ok(Value::str(match base32_decode(str_arg(&a, 0)) {
            Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            None => "illegal base32 data".to_string(),
        }))
    });
}

fn b64() -> base64::engine::general_purpose::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Go's `CorruptInputError` text: the offset of the bad byte, or of the incomplete group.
fn go_base64_error(error: &base64::DecodeError, len: usize) -> String {
    let offset = match error {
        base64::DecodeError::InvalidByte(offset, _)
        | base64::DecodeError::InvalidLastSymbol(offset, _) => *offset,
        _ => len / 4 * 4,
    };
    format!("illegal base64 data at input byte {offset}")
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

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let bits = buf.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(BASE32[((bits >> (35 - i * 5)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u64;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim_end_matches('=').bytes() {
        let v = BASE32.iter().position(|&b| b == c)? as u64;
        bits = bits << 5 | v;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}
