//! Template values with Go's dynamic types: what a chart's templates see and produce.
//!
//! Go distinguishes `int`, `int64` and `float64`, and that shows in output (`printf "%d"` of
//! a float64 is an error string, `1000000.0` prints as `1e+06`), so the variants follow Go's
//! types. Maps are shared and mutable, as Go maps are: `set` on a dict is seen through every
//! alias of it. Values are single-threaded (`Rc`); each rendering thread builds its own.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::object::Object;

pub type MapRef = Rc<RefCell<BTreeMap<String, Value>>>;

/// What JSON's whole numbers become, as the Go decoder that made the data left them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WholeNumbers {
    /// `float64`, like every number after Helm's JSON round trip of values.
    Float64,
    /// `int`, as go-yaml decodes them (helmfile's values).
    Int,
    /// `int64`, as client-go's unstructured decoding makes them (live objects).
    Int64,
}

#[derive(Clone, Debug)]
pub enum Value {
    Nil,
    Bool(bool),
    /// Go `int`.
    Int(i64),
    /// Go `int64` (Sprig's math results).
    Int64(i64),
    Float(f64),
    Str(Rc<str>),
    /// A Go `string` whose bytes are not UTF-8 (a binary file read as text, `b64dec` of
    /// binary data): kept as its bytes, so that `b64enc`, the digests, `len` and `toString`
    /// see them; a function taking another `string` gets its lossy UTF-8 text.
    BinaryStr(Rc<[u8]>),
    Bytes(Rc<[u8]>),
    /// Go `[]interface{}` (and the other slices, which print and compare alike).
    List(Rc<Vec<Value>>),
    /// Go `map[string]interface{}`.
    Map(MapRef),
    Object(Rc<Object>),
}

impl Value {
    pub fn str(s: impl Into<Rc<str>>) -> Value {
        Value::Str(s.into())
    }

    /// A Go string of `bytes`: text when they are UTF-8.
    pub fn go_string(bytes: &[u8]) -> Value {
        match std::str::from_utf8(bytes) {
            Ok(text) => Value::str(text),
            Err(_) => Value::BinaryStr(Rc::from(bytes)),
        }
    }

    /// The bytes of a string value (a binary one's own), for functions that encode them.
    pub fn string_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Str(s) => Some(s.as_bytes()),
            Value::BinaryStr(b) => Some(b),
            _ => None,
        }
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }

    pub fn map(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Rc::new(RefCell::new(entries)))
    }

    pub fn empty_map() -> Value {
        Value::map(BTreeMap::new())
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Go's type name, as `printf "%T"` and `typeOf` show it.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Int64(_) => "int64".into(),
            Value::Float(_) => "float64".into(),
            Value::Str(_) | Value::BinaryStr(_) => "string".into(),
            Value::Bytes(_) => "[]uint8".into(),
            Value::List(_) => "[]interface {}".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Object(object) => object.type_name(),
        }
    }

    /// Go's reflect kind name, as `kindOf` shows it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Float(_) => "float64",
            Value::Str(_) | Value::BinaryStr(_) => "string",
            Value::Bytes(_) | Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(object) => object.kind_name(),
        }
    }

    /// Go template truth: false, 0, nil, and empty strings, slices and maps are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::BinaryStr(b) | Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.borrow().is_empty(),
            Value::Object(object) => object.truthy(),
        }
    }

    /// Sprig's `empty`: the same as Go's falsehood.
    pub fn is_empty(&self) -> bool {
        !self.truthy()
    }

    /// The map's entries, if it is a map (or an object that behaves as one, like `.Files`).
    pub fn map_entries(&self) -> Option<BTreeMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m.borrow().clone()),
            Value::Object(object) => object.map_entries(),
            _ => None,
        }
    }

    /// A deep copy: maps become new maps, as Go's `copystructure` makes them.
    pub fn deep_copy(&self) -> Value {
        match self {
            Value::Map(m) => Value::map(
                m.borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.deep_copy()))
                    .collect(),
            ),
            Value::List(l) => Value::list(l.iter().map(Value::deep_copy).collect()),
            other => other.clone(),
        }
    }

    /// Converts JSON data (merged values, decoded YAML) the way Helm sees it: every number
    /// is a `float64`, as after `sigs.k8s.io/yaml` or `encoding/json` decoding.
    pub fn from_json(json: &serde_json::Value) -> Value {
        Value::from_json_as(json, WholeNumbers::Float64)
    }

    /// Converts JSON data as a decoder that keeps whole numbers whole gives it.
    pub fn from_json_as(json: &serde_json::Value, whole: WholeNumbers) -> Value {
        match json {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match (n.as_i64(), whole) {
                (Some(i), WholeNumbers::Int) => Value::Int(i),
                (Some(i), WholeNumbers::Int64) => Value::Int64(i),
                _ => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            serde_json::Value::String(s) => Value::str(s.as_str()),
            serde_json::Value::Array(items) => Value::list(
                items
                    .iter()
                    .map(|item| Value::from_json_as(item, whole))
                    .collect(),
            ),
            serde_json::Value::Object(entries) => Value::map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from_json_as(v, whole)))
                    .collect(),
            ),
        }
    }

    /// The JSON form of a value, as `encoding/json` would marshal it (objects by their
    /// JSON field names).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Nil => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) | Value::Int64(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.to_string()),
            Value::BinaryStr(b) => J::String(String::from_utf8_lossy(b).into_owned()),
            Value::Bytes(b) => J::String(base64_std(b)),
            Value::List(l) => J::Array(l.iter().map(Value::to_json).collect()),
            Value::Map(m) => J::Object(
                m.borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Value::Object(object) => object.to_json(),
        }
    }
}

fn base64_std(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::str(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
