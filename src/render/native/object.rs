//! The Go structs Helm puts in a template's data (`.Chart`, `.Capabilities`, `.Files`) and
//! the few with methods templates call (`.Files.Get`, `.Capabilities.APIVersions.Has`).

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use super::funcs::Param;
use super::value::Value;

/// A chart's non-template files by path, shared by every render of the chart.
pub type FileData = Arc<BTreeMap<String, Arc<[u8]>>>;

#[derive(Debug)]
pub enum Object {
    Struct(Struct),
    /// Helm's `files` type: `.Files` and what `.Files.Glob` returns.
    Files(FileData),
    /// `.Capabilities.APIVersions`.
    VersionSet(Vec<String>),
    /// What Sprig's `semver` returns.
    Semver(crate::semver::Version),
    /// A Go `time.Time` (`now`, `toDate`).
    Time(jiff::Zoned),
}

/// A struct's exported fields in declaration order, with their JSON names.
#[derive(Debug)]
pub struct Struct {
    pub type_name: &'static str,
    pub fields: Vec<Field>,
    /// What `String()` returns, for types that have that method.
    pub stringer: Option<String>,
}

#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    /// The JSON key; `None` when the field is never marshalled.
    pub json: Option<&'static str>,
    pub omit_empty: bool,
    pub value: Value,
}

impl Field {
    pub fn new(name: &'static str, json: &'static str, value: Value) -> Field {
        Field {
            name,
            json: Some(json),
            omit_empty: false,
            value,
        }
    }

    pub fn omit_empty(mut self) -> Field {
        self.omit_empty = true;
        self
    }
}

/// A method's signature and body.
pub struct Method {
    pub params: &'static [Param],
    pub call: MethodBody,
}

pub type MethodBody = fn(&Object, &[Value]) -> Result<Value, String>;

impl Object {
    pub fn type_name(&self) -> String {
        match self {
            Object::Struct(s) => s.type_name.to_string(),
            Object::Files(_) => "engine.files".into(),
            Object::VersionSet(_) => "chartutil.VersionSet".into(),
            Object::Semver(_) => "*semver.Version".into(),
            Object::Time(_) => "time.Time".into(),
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self {
            Object::Struct(_) => "struct",
            Object::Files(_) => "map",
            Object::VersionSet(_) => "slice",
            Object::Semver(_) => "ptr",
            Object::Time(_) => "struct",
        }
    }

    pub fn truthy(&self) -> bool {
        match self {
            Object::Files(files) => !files.is_empty(),
            Object::VersionSet(versions) => !versions.is_empty(),
            _ => true,
        }
    }

    pub fn field(&self, name: &str) -> Option<Value> {
        match self {
            Object::Struct(s) => s
                .fields
                .iter()
                .find(|f| f.name == name)
                .map(|f| f.value.clone()),
            Object::Files(files) => Some(
                files
                    .get(name)
                    .map_or(Value::Nil, |data| Value::Bytes(Rc::from(data.as_ref()))),
            ),
            _ => None,
        }
    }

    pub fn method(&self, name: &str) -> Option<Method> {
        match self {
            Object::Files(_) => super::chart::files::method(name),
            Object::VersionSet(_) if name == "Has" => Some(Method {
                params: &[Param::Str],
                call: |object, args| {
                    let Object::VersionSet(versions) = object else {
                        unreachable!()
                    };
                    let wanted = args[0].as_str().unwrap_or_default();
                    Ok(Value::Bool(versions.iter().any(|v| v == wanted)))
                },
            }),
            Object::Struct(Struct {
                stringer: Some(_), ..
            }) if name == "String" => Some(Method {
                params: &[],
                call: |object, _| Ok(Value::str(object.go_string())),
            }),
            Object::Semver(_) => super::funcs::semver::method(name),
            _ => None,
        }
    }

    /// Entries of map-like objects, for `range` and map functions.
    pub fn map_entries(&self) -> Option<BTreeMap<String, Value>> {
        match self {
            Object::Files(files) => Some(
                files
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::Bytes(Rc::from(v.as_ref()))))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// Items of slice-like objects, for `range`.
    pub fn list_items(&self) -> Option<Vec<Value>> {
        match self {
            Object::VersionSet(versions) => {
                Some(versions.iter().map(|v| Value::str(v.as_str())).collect())
            }
            _ => None,
        }
    }

    /// How `fmt` prints the object: `String()` if it has one, else Go's struct syntax.
    pub fn go_string(&self) -> String {
        match self {
            Object::Struct(Struct {
                stringer: Some(s), ..
            }) => s.clone(),
            Object::Struct(s) => {
                let fields: Vec<String> = s
                    .fields
                    .iter()
                    .map(|f| super::gofmt::sprint_value(&f.value))
                    .collect();
                format!("{{{}}}", fields.join(" "))
            }
            Object::Files(files) => {
                let entries: Vec<String> = files
                    .iter()
                    .map(|(k, v)| {
                        let bytes: Vec<String> = v.iter().map(u8::to_string).collect();
                        format!("{k}:[{}]", bytes.join(" "))
                    })
                    .collect();
                format!("map[{}]", entries.join(" "))
            }
            Object::VersionSet(versions) => format!("[{}]", versions.join(" ")),
            Object::Semver(version) => version.to_string(),
            Object::Time(t) => {
                super::funcs::time::format(t, "2006-01-02 15:04:05.999999999 -0700 MST")
            }
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Object::Struct(s) => {
                let mut map = serde_json::Map::new();
                for field in &s.fields {
                    let Some(key) = field.json else { continue };
                    if field.omit_empty && field.value.is_empty() {
                        continue;
                    }
                    map.insert(key.to_string(), field.value.to_json());
                }
                serde_json::Value::Object(map)
            }
            Object::Files(files) => serde_json::Value::Object(
                files
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::Bytes(Rc::from(v.as_ref())).to_json()))
                    .collect(),
            ),
            Object::VersionSet(versions) => serde_json::json!(versions),
            Object::Semver(version) => serde_json::Value::String(version.to_string()),
            Object::Time(t) => serde_json::Value::String(super::funcs::time::format(
                t,
                "2006-01-02T15:04:05.999999999Z07:00",
            )),
        }
    }
}
