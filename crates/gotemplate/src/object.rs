//! Go values that are neither maps nor slices: structs with fields (an embedder's data, as
//! Helm's `.Chart` and `.Release`), Sprig's semver and time values, and the embedder's own
//! types with methods (Helm's `.Files`), all as templates see them.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt::Debug;

use crate::funcs::Param;
use crate::value::Value;

#[derive(Debug)]
pub enum Object {
    Struct(Struct),
    /// What Sprig's `semver` returns.
    Semver(masterminds_semver::Version),
    /// A Go `time.Time` (`now`, `toDate`).
    Time(jiff::Zoned),
    /// A type of the embedder's, with its own fields and methods.
    Embedded(Box<dyn GoObject>),
}

/// A Go type an embedder defines: how templates see it. Only `type_name`, `kind_name`,
/// `go_string`, `to_json` and `as_any` have no default.
pub trait GoObject: Debug {
    /// As `printf "%T"` prints it.
    fn type_name(&self) -> String;
    /// Go's reflect kind: `"map"` makes a missing field nil, as a map key is.
    fn kind_name(&self) -> &'static str;
    fn truthy(&self) -> bool {
        true
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    /// A method's signature and body; the body is given this object back as the receiver.
    fn method(&self, _name: &str) -> Option<Method> {
        None
    }
    /// Entries, for a map-like type (`range`, map functions).
    fn map_entries(&self) -> Option<BTreeMap<String, Value>> {
        None
    }
    /// Items, for a slice-like type (`range`).
    fn list_items(&self) -> Option<Vec<Value>> {
        None
    }
    /// How `fmt`'s `%v` prints it.
    fn go_string(&self) -> String;
    /// How `encoding/json` marshals it.
    fn to_json(&self) -> serde_json::Value;
    /// For method bodies to get their receiver's type back.
    fn as_any(&self) -> &dyn Any;
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
    /// The embedder's object, if this is one of type `T`.
    pub fn embedded<T: Any>(&self) -> Option<&T> {
        match self {
            Object::Embedded(object) => object.as_any().downcast_ref(),
            _ => None,
        }
    }

    pub fn type_name(&self) -> String {
        match self {
            Object::Struct(s) => s.type_name.to_string(),
            Object::Semver(_) => "*semver.Version".into(),
            Object::Time(_) => "time.Time".into(),
            Object::Embedded(object) => object.type_name(),
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self {
            Object::Struct(_) => "struct",
            Object::Semver(_) => "ptr",
            Object::Time(_) => "struct",
            Object::Embedded(object) => object.kind_name(),
        }
    }

    pub fn truthy(&self) -> bool {
        match self {
            Object::Embedded(object) => object.truthy(),
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
            Object::Embedded(object) => object.field(name),
            _ => None,
        }
    }

    pub fn method(&self, name: &str) -> Option<Method> {
        match self {
            Object::Embedded(object) => object.method(name),
            Object::Struct(Struct {
                stringer: Some(_), ..
            }) if name == "String" => Some(Method {
                params: &[],
                call: |object, _| Ok(Value::str(object.go_string())),
            }),
            Object::Semver(_) => crate::funcs::semver::method(name),
            _ => None,
        }
    }

    /// Entries of map-like objects, for `range` and map functions.
    pub fn map_entries(&self) -> Option<BTreeMap<String, Value>> {
        match self {
            Object::Embedded(object) => object.map_entries(),
            _ => None,
        }
    }

    /// Items of slice-like objects, for `range`.
    pub fn list_items(&self) -> Option<Vec<Value>> {
        match self {
            Object::Embedded(object) => object.list_items(),
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
                    .map(|f| crate::gofmt::sprint_value(&f.value))
                    .collect();
                format!("{{{}}}", fields.join(" "))
            }
            Object::Semver(version) => version.to_string(),
            Object::Time(t) => {
                crate::funcs::time::format(t, "2006-01-02 15:04:05.999999999 -0700 MST")
            }
            Object::Embedded(object) => object.go_string(),
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
            Object::Semver(version) => serde_json::Value::String(version.to_string()),
            Object::Time(t) => serde_json::Value::String(crate::funcs::time::format(
                t,
                "2006-01-02T15:04:05.999999999Z07:00",
            )),
            Object::Embedded(object) => object.to_json(),
        }
    }
}
