//! `.Files`: a chart's non-template files, and the methods templates call on them.

use std::any::Any;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use base64::Engine;
use gotemplate::funcs::Param;
use gotemplate::object::{GoObject, Method, MethodBody, Object};
use gotemplate::value::Value;

use super::glob::matches;
use crate::yaml::emit::to_yaml;

/// A chart's non-template files by path, shared by every render of the chart.
pub type FileData = Arc<BTreeMap<String, Arc<Vec<u8>>>>;

/// Helm's `files` type: `.Files` and what `.Files.Glob` returns. A Go map of byte slices,
/// so a missing name is nil and `range` sees the files.
#[derive(Debug)]
pub struct Files(pub FileData);

impl Files {
    pub fn value(data: FileData) -> Value {
        Value::Object(Rc::new(Object::Embedded(Box::new(Files(data)))))
    }
}

fn bytes(data: &[u8]) -> Value {
    Value::Bytes(Rc::from(data))
}

impl GoObject for Files {
    fn type_name(&self) -> String {
        "engine.files".into()
    }

    fn kind_name(&self) -> &'static str {
        "map"
    }

    fn truthy(&self) -> bool {
        !self.0.is_empty()
    }

    fn field(&self, name: &str) -> Option<Value> {
        Some(self.0.get(name).map_or(Value::Nil, |data| bytes(data)))
    }

    fn method(&self, name: &str) -> Option<Method> {
        method(name)
    }

    fn map_entries(&self) -> Option<BTreeMap<String, Value>> {
        Some(self.0.iter().map(|(k, v)| (k.clone(), bytes(v))).collect())
    }

    fn go_string(&self) -> String {
        let entries: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| {
                let bytes: Vec<String> = v.iter().map(u8::to_string).collect();
                format!("{k}:[{}]", bytes.join(" "))
            })
            .collect();
        format!("map[{}]", entries.join(" "))
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), bytes(v).to_json()))
                .collect(),
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn method(name: &str) -> Option<Method> {
    let (params, call): (&'static [Param], MethodBody) = match name {
        "Get" => (&[Param::Str], |o, a| {
            Ok(files(o)
                .get(name_arg(a))
                .map_or_else(|| Value::str(""), |data| Value::go_string(data)))
        }),
        "GetBytes" => (&[Param::Str], |o, a| {
            Ok(files(o)
                .get(name_arg(a))
                .map_or(Value::Bytes(Rc::from(&[][..])), |d| {
                    Value::Bytes(Rc::from(d.as_slice()))
                }))
        }),
        "Glob" => (&[Param::Str], |o, a| {
            let pattern = name_arg(a);
            let picked = files(o)
                .iter()
                .filter(|(name, _)| matches(pattern, name, true))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Ok(Files::value(Arc::new(picked)))
        }),
        "AsConfig" => (&[], |o, _| {
            Ok(Value::str(as_map_yaml(o, |data| {
                Value::str(crate::text_of(data))
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

fn files(object: &Object) -> &BTreeMap<String, Arc<Vec<u8>>> {
    match object.embedded() {
        Some(Files(files)) => files,
        None => unreachable!("Files methods are only looked up on files"),
    }
}

fn name_arg(args: &[Value]) -> &str {
    args.first().and_then(Value::as_str).unwrap_or_default()
}

fn text(object: &Object, name: &str) -> Option<String> {
    files(object).get(name).map(|d| crate::text_of(d))
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
