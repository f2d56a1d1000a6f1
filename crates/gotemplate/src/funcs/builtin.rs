//! Go's `text/template` builtins: comparison with Go's kind rules, `index`, `len`, `not`,
//! the `print` family and the escapers.

use super::{Funcs, Param, str_arg};
use crate::exec::CallError;
use crate::gofmt::{sprint, sprintf, sprintln};
use crate::value::Value;

pub fn register(r: &mut Funcs) {
    r.add("not", &[Param::Any], |_, a| Ok(Value::Bool(!a[0].truthy())));
    r.add("len", &[Param::Any], |_, a| length(&a[0]).map(Value::Int));
    r.variadic("index", &[Param::Any], Param::Any, |_, a| {
        index(&a[0], &a[1..])
    });
    r.variadic("print", &[], Param::Any, |_, a| Ok(Value::str(sprint(&a))));
    r.variadic("println", &[], Param::Any, |_, a| {
        Ok(Value::str(sprintln(&a)))
    });
    r.variadic("printf", &[Param::Str], Param::Any, |_, a| {
        Ok(Value::str(sprintf(str_arg(&a, 0), &a[1..])))
    });
    r.variadic("eq", &[Param::Any], Param::Any, |_, a| {
        eq(&a[0], &a[1..]).map(Value::Bool)
    });
    r.add("ne", &[Param::Any, Param::Any], |_, a| {
        eq(&a[0], &a[1..]).map(|b| Value::Bool(!b))
    });
    r.add("lt", &[Param::Any, Param::Any], |_, a| {
        less(&a[0], &a[1]).map(Value::Bool)
    });
    r.add("le", &[Param::Any, Param::Any], |_, a| {
        Ok(Value::Bool(less(&a[0], &a[1])? || eq(&a[0], &a[1..])?))
    });
    r.add("gt", &[Param::Any, Param::Any], |_, a| {
        Ok(Value::Bool(!(less(&a[0], &a[1])? || eq(&a[0], &a[1..])?)))
    });
    r.add("ge", &[Param::Any, Param::Any], |_, a| {
        less(&a[0], &a[1]).map(|b| Value::Bool(!b))
    });
    r.variadic("html", &[], Param::Any, |_, a| {
        Ok(Value::str(html_escape(&escaper_text(&a))))
    });
    r.variadic("urlquery", &[], Param::Any, |_, a| {
        Ok(Value::str(query_escape(&escaper_text(&a))))
    });
    r.variadic("js", &[], Param::Any, |_, a| {
        Ok(Value::str(js_escape(&escaper_text(&a))))
    });
}

#[derive(PartialEq, Eq, Clone, Copy, Debug)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    Str,
    Other,
}

fn kind(value: &Value) -> Kind {
    match value {
        Value::Nil => Kind::Invalid,
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Int64(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Str(_) => Kind::Str,
        _ => Kind::Other,
    }
}

/// Go's `eq arg1 arg2...`: true if arg1 equals any of the others.
pub fn eq(first: &Value, others: &[Value]) -> Result<bool, CallError> {
    if others.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = kind(first);
    for other in others {
        let k2 = kind(other);
        let truth = if k1 != k2 {
            if k1 != Kind::Invalid && k2 != Kind::Invalid {
                return Err("incompatible types for comparison".into());
            }
            false
        } else {
            match (first, other) {
                (Value::Bool(a), Value::Bool(b)) => a == b,
                (Value::Int(a) | Value::Int64(a), Value::Int(b) | Value::Int64(b)) => a == b,
                (Value::Float(a), Value::Float(b)) => a == b,
                (Value::Str(a), Value::Str(b)) => a == b,
                (Value::Nil, Value::Nil) => true,
                (Value::Map(_) | Value::List(_) | Value::Bytes(_), _) => {
                    return Err(format!(
                        "non-comparable type {}: {}",
                        crate::gofmt::sprint_value(first),
                        first.type_name()
                    )
                    .into());
                }
                _ => first.type_name() == other.type_name() && first.to_json() == other.to_json(),
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn less(a: &Value, b: &Value) -> Result<bool, CallError> {
    let (ka, kb) = (kind(a), kind(b));
    if matches!(ka, Kind::Invalid | Kind::Bool | Kind::Other)
        || matches!(kb, Kind::Invalid | Kind::Bool | Kind::Other)
    {
        return Err("invalid type for comparison".into());
    }
    if ka != kb {
        return Err("incompatible types for comparison".into());
    }
    Ok(match (a, b) {
        (Value::Int(x) | Value::Int64(x), Value::Int(y) | Value::Int64(y)) => x < y,
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::Str(x), Value::Str(y)) => x < y,
        _ => false,
    })
}

fn length(value: &Value) -> Result<i64, CallError> {
    Ok(match value {
        Value::Str(s) => s.len() as i64,
        Value::BinaryStr(b) | Value::Bytes(b) => b.len() as i64,
        Value::List(l) => l.len() as i64,
        Value::Map(m) => m.borrow().len() as i64,
        Value::Nil => return Err("len of nil pointer".into()),
        Value::Object(o) => match (o.map_entries(), o.list_items()) {
            (Some(entries), _) => entries.len() as i64,
            (None, Some(items)) => items.len() as i64,
            _ => return Err(format!("len of type {}", value.type_name()).into()),
        },
        other => return Err(format!("len of type {}", other.type_name()).into()),
    })
}

fn index(item: &Value, indices: &[Value]) -> Result<Value, CallError> {
    if item.is_nil() {
        return Err("index of untyped nil".into());
    }
    let mut current = item.clone();
    for key in indices {
        current = match &current {
            Value::Nil => return Err("index of untyped nil".into()),
            Value::Map(entries) => match key {
                Value::Str(k) => entries
                    .borrow()
                    .get(k.as_ref())
                    .cloned()
                    .unwrap_or(Value::Nil),
                Value::Nil => return Err("value is nil; should be string".into()),
                other => {
                    return Err(
                        format!("value has type {}; should be string", other.type_name()).into(),
                    );
                }
            },
            Value::List(items) => items[position(key, items.len())?].clone(),
            Value::Bytes(bytes) => Value::Int(i64::from(bytes[position(key, bytes.len())?])),
            Value::Str(s) => Value::Int(i64::from(s.as_bytes()[position(key, s.len())?])),
            Value::Object(object) => match (object.map_entries(), key) {
                (Some(entries), Value::Str(k)) => {
                    entries.get(k.as_ref()).cloned().unwrap_or(Value::Nil)
                }
                _ => return Err(format!("can't index item of type {}", current.type_name()).into()),
            },
            other => return Err(format!("can't index item of type {}", other.type_name()).into()),
        };
    }
    Ok(current)
}

fn position(key: &Value, len: usize) -> Result<usize, CallError> {
    let (Value::Int(i) | Value::Int64(i)) = key else {
        return Err(format!("cannot index slice/array with type {}", key.type_name()).into());
    };
    usize::try_from(*i)
        .ok()
        .filter(|&i| i < len)
        .ok_or_else(|| format!("index out of range: {i}").into())
}

/// The escapers' input: their arguments printed, a nil as `<no value>` (Go's `evalArgs`).
fn escaper_text(args: &[Value]) -> String {
    let printable: Vec<Value> = args
        .iter()
        .map(|a| {
            if a.is_nil() {
                Value::str("<no value>")
            } else {
                a.clone()
            }
        })
        .collect();
    sprint(&printable)
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}
