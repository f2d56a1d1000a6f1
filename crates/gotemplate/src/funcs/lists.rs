//! Sprig's list functions. Equality is Go's `reflect.DeepEqual`, so `1` (int) and `1.0`
//! (float64, from values) are different elements.

use super::{Funcs, Param, int_arg};
use crate::exec::CallError;
use crate::value::Value;

use Param::{Any, Int};

pub fn register(r: &mut Funcs) {
    r.variadic("list", &[], Any, |_, a| Ok(Value::list(a)));
    r.variadic("tuple", &[], Any, |_, a| Ok(Value::list(a)));
    for name in ["first", "mustFirst"] {
        r.add(name, &[Any], |_, a| {
            Ok(items(&a[0], "first")?
                .first()
                .cloned()
                .unwrap_or(Value::Nil))
        });
    }
    r.add("last", &[Any], |_, a| {
        Ok(items(&a[0], "last")?.last().cloned().unwrap_or(Value::Nil))
    });
    r.add("mustLast", &[Any], |_, a| {
        Ok(items(&a[0], "last")?.last().cloned().unwrap_or(Value::Nil))
    });
    r.add("rest", &[Any], |_, a| {
        sub_list(&a[0], "rest", |l| l.get(1..))
    });
    r.add("mustRest", &[Any], |_, a| {
        sub_list(&a[0], "rest", |l| l.get(1..))
    });
    r.add("initial", &[Any], |_, a| {
        sub_list(&a[0], "initial", |l| l.get(..l.len().saturating_sub(1)))
    });
    r.add("mustInitial", &[Any], |_, a| {
        sub_list(&a[0], "initial", |l| l.get(..l.len().saturating_sub(1)))
    });
    for name in ["append", "push", "mustAppend", "mustPush"] {
        r.add(name, &[Any, Any], |_, a| {
            let mut list = items(&a[0], "append")?;
            list.push(a[1].clone());
            Ok(Value::list(list))
        });
    }
    for name in ["prepend", "mustPrepend"] {
        r.add(name, &[Any, Any], |_, a| {
            let mut list = vec![a[1].clone()];
            list.extend(items(&a[0], "prepend")?);
            Ok(Value::list(list))
        });
    }
    r.variadic("concat", &[], Any, |_, a| {
        let mut out = Vec::new();
        for list in &a {
            out.extend(items(list, "concat")?);
        }
        Ok(Value::list(out))
    });
    for name in ["reverse", "mustReverse"] {
        r.add(name, &[Any], |_, a| {
            let mut list = items(&a[0], "reverse")?;
            list.reverse();
            Ok(Value::list(list))
        });
    }
    for name in ["uniq", "mustUniq"] {
        r.add(name, &[Any], |_, a| {
            let mut out: Vec<Value> = Vec::new();
            for item in items(&a[0], "uniq")? {
                if !out.iter().any(|o| deep_equal(o, &item)) {
                    out.push(item);
                }
            }
            Ok(Value::list(out))
        });
    }
    for name in ["without", "mustWithout"] {
        r.variadic(name, &[Any], Any, |_, a| {
            let omit = &a[1..];
            let kept = items(&a[0], "without")?
                .into_iter()
                .filter(|item| !omit.iter().any(|o| deep_equal(o, item)))
                .collect();
            Ok(Value::list(kept))
        });
    }
    for name in ["has", "mustHas"] {
        r.add(name, &[Any, Any], |_, a| {
            if a[1].is_nil() {
                return Ok(Value::Bool(false));
            }
            Ok(Value::Bool(
                items(&a[1], "has")?
                    .iter()
                    .any(|item| deep_equal(item, &a[0])),
            ))
        });
    }
    for name in ["compact", "mustCompact"] {
        r.add(name, &[Any], |_, a| {
            Ok(Value::list(
                items(&a[0], "compact")?
                    .into_iter()
                    .filter(Value::truthy)
                    .collect(),
            ))
        });
    }
    for name in ["slice", "mustSlice"] {
        r.variadic(name, &[Any], Any, |_, a| slice(&a[0], &a[1..]));
    }
    for name in ["chunk", "mustChunk"] {
        r.add(name, &[Int, Any], |_, a| {
            let size = usize::try_from(int_arg(&a, 0))
                .ok()
                .filter(|&s| s > 0)
                .ok_or("chunk size must be positive")?;
            let chunks = items(&a[1], "chunk")?
                .chunks(size)
                .map(|c| Value::list(c.to_vec()))
                .collect();
            Ok(Value::list(chunks))
        });
    }
}

/// A slice's elements; anything else is Sprig's "Cannot find X on type Y" error.
pub fn items(value: &Value, what: &str) -> Result<Vec<Value>, CallError> {
    match value {
        Value::List(items) => Ok(items.as_ref().clone()),
        Value::Bytes(bytes) => Ok(bytes.iter().map(|b| Value::Int(i64::from(*b))).collect()),
        Value::Object(object) => object
            .list_items()
            .ok_or_else(|| format!("Cannot find {what} on type {}", value.kind_name()).into()),
        Value::Nil => Err("reflect: call of reflect.Value.Type on zero Value".into()),
        other => Err(format!("Cannot find {what} on type {}", other.kind_name()).into()),
    }
}

fn sub_list(
    value: &Value,
    what: &str,
    pick: fn(&[Value]) -> Option<&[Value]>,
) -> Result<Value, CallError> {
    let list = items(value, what)?;
    Ok(Value::list(pick(&list).unwrap_or_default().to_vec()))
}

fn slice(value: &Value, indices: &[Value]) -> Result<Value, CallError> {
    let list = items(value, "slice")?;
    if list.is_empty() {
        return Ok(Value::Nil);
    }
    let index = |v: &Value| super::convert::to_int64(v) as usize;
    let start = indices.first().map_or(0, index);
    let end = indices.get(1).map_or(list.len(), index);
    if start > end || end > list.len() {
        return Err(format!("reflect: slice index out of range [{start}:{end}]").into());
    }
    Ok(Value::list(list[start..end].to_vec()))
}

/// Go's `reflect.DeepEqual` on template values: same type and same contents.
pub fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) | (Value::Int64(x), Value::Int64(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| deep_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.type_name() == y.type_name() && x.to_json() == y.to_json()
        }
        _ => false,
    }
}
