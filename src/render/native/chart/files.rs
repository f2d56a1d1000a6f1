//! `.Files`: a chart's non-template files, and the methods templates call on them.

use std::rc::Rc;
use std::sync::Arc;

use base64::Engine;

use super::glob::matches;
use crate::render::native::funcs::Param;
use crate::render::native::object::{Method, MethodBody, Object};
use crate::render::native::value::Value;
use crate::render::native::yaml::emit::to_yaml;

pub fn method(name: &str) -> Option<Method> {
    let (params, call): (&'static [Param], MethodBody) = match name {
        "Get" => (&[Param::Str], |o, a| {
            Ok(Value::str(text(o, name_arg(a)).unwrap_or_default()))
        }),
        "GetBytes" => (&[Param::Str], |o, a| {
            Ok(files(o)
                .get(name_arg(a))
                .map_or(Value::Bytes(Rc::from(&[][..])), |d| {
                    Value::Bytes(Rc::from(d.as_ref()))
                }))
        }),
        "Glob" => (&[Param::Str], |o, a| {
            let pattern = name_arg(a);
            let picked = files(o)
                .iter()
                .filter(|(name, _)| matches(pattern, name, true))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Ok(Value::Object(Rc::new(Object::Files(Arc::new(picked)))))
        }),
        "AsConfig" => (&[], |o, _| {
            Ok(Value::str(as_map_yaml(o, |data| {
                Value::str(String::from_utf8_lossy(data).into_owned())
            })))
        }),
        "AsSecrets" => (&[], |o, _| {
            Ok(Value::str(as_map_yaml(o, |data| {
                Value::str(base64::engine::general_purpose::STANDARD.encode(data))
            })))
        }),
        "Lines" => (&[Param::Str], |o, a| {
            let Some(text) = text(o, name_arg(a)) else {
                return Ok(Value::list(Vec::new()));
            };
            let text = text.strip_suffix('\n').unwrap_or(&text);
            Ok(Value::list(text.split('\n').map(Value::str).collect()))
        }),
        _ => return None,
    };
    Some(Method { params, call })
}

fn files(object: &Object) -> &std::collections::BTreeMap<String, Arc<[u8]>> {
    match object {
        Object::Files(files) => files,
        _ => unreachable!("Files methods are only looked up on files"),
    }
}

fn name_arg(args: &[Value]) -> &str {
    args.first().and_then(Value::as_str).unwrap_or_default()
}

fn text(object: &Object, name: &str) -> Option<String> {
    files(object)
        .get(name)
        .map(|d| String::from_utf8_lossy(d).into_owned())
}

/// `AsConfig`/`AsSecrets`: a YAML map from each file's base name to its content.
fn as_map_yaml(object: &Object, encode: fn(&[u8]) -> Value) -> String {
    let entries = files(object);
    if entries.is_empty() {
        return String::new();
    }
    let map = entries
        .iter()
        .map(|(name, data)| {
            (
                name.rsplit('/').next().unwrap_or(name).to_string(),
                encode(data),
            )
        })
        .collect();
    to_yaml(&Value::map(map))
}
