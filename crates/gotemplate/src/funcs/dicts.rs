//! Sprig's dict functions. `set`, `unset`, `merge` and `mergeOverwrite` change the map in
//! place, as they do in Go, so every alias of it sees the change.

use std::collections::BTreeMap;

use super::{Funcs, Param, str_arg, strval};
use crate::exec::CallError;
use crate::value::{MapRef, Value};

use Param::{Any, Map, Str};

/// Functions that change a map in place: a chart calling one is rendered on one thread.
pub const MUTATING: &[&str] = &[
    "set",
    "unset",
    "merge",
    "mergeOverwrite",
    "mustMerge",
    "mustMergeOverwrite",
];

pub fn register(r: &mut Funcs) {
    r.variadic("dict", &[], Any, |_, a| {
        let mut map = BTreeMap::new();
        for pair in a.chunks(2) {
            let value = pair.get(1).cloned().unwrap_or_else(|| Value::str(""));
            map.insert(strval(&pair[0]), value);
        }
        Ok(Value::map(map))
    });
    r.add("get", &[Map, Str], |_, a| {
        let found = with_map(&a[0], |m| m.get(str_arg(&a, 1)).cloned());
        Ok(found.unwrap_or_else(|| Value::str("")))
    });
    r.add("set", &[Map, Str, Any], |_, a| {
        let map = writable(&a[0])?;
        map.borrow_mut()
            .insert(str_arg(&a, 1).to_string(), a[2].clone());
        Ok(a[0].clone())
    });
    r.add("unset", &[Map, Str], |_, a| {
        if let Value::Map(map) = &a[0] {
            map.borrow_mut().remove(str_arg(&a, 1));
        }
        Ok(a[0].clone())
    });
    r.add("hasKey", &[Map, Str], |_, a| {
        Ok(Value::Bool(with_map(&a[0], |m| {
            m.contains_key(str_arg(&a, 1))
        })))
    });
    r.variadic("pluck", &[Str], Map, |_, a| {
        let key = str_arg(&a, 0);
        let found = a[1..]
            .iter()
            .filter_map(|d| with_map(d, |m| m.get(key).cloned()))
            .collect();
        Ok(Value::list(found))
    });
    r.variadic("keys", &[], Map, |_, a| {
        let mut keys = Vec::new();
        for d in &a {
            keys.extend(with_map(d, |m| m.keys().cloned().collect::<Vec<_>>()));
        }
        Ok(Value::list(keys.into_iter().map(Value::str).collect()))
    });
    r.add("values", &[Map], |_, a| {
        Ok(Value::list(with_map(&a[0], |m| {
            m.values().cloned().collect()
        })))
    });
    r.variadic("pick", &[Map], Str, |_, a| {
        let wanted: Vec<&str> = a[1..].iter().filter_map(Value::as_str).collect();
        let picked = with_map(&a[0], |m| {
            m.iter()
                .filter(|(k, _)| wanted.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        });
        Ok(Value::map(picked))
    });
    r.variadic("omit", &[Map], Str, |_, a| {
        let omitted: Vec<&str> = a[1..].iter().filter_map(Value::as_str).collect();
        let kept = with_map(&a[0], |m| {
            m.iter()
                .filter(|(k, _)| !omitted.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        });
        Ok(Value::map(kept))
    });
    for name in ["merge", "mustMerge"] {
        r.variadic(name, &[Map], Map, |_, a| merge_all(&a, false));
    }
    for name in ["mergeOverwrite", "mustMergeOverwrite"] {
        r.variadic(name, &[Map], Map, |_, a| merge_all(&a, true));
    }
    for name in ["deepCopy", "mustDeepCopy"] {
        r.add(name, &[Any], |_, a| match &a[0] {
            Value::Nil => Err("reflect: call of reflect.Value.Type on zero Value".into()),
            value => Ok(value.deep_copy()),
        });
    }
    r.variadic("dig", &[Any], Any, |_, a| dig(&a));
}

fn with_map<T: Default>(value: &Value, f: impl FnOnce(&BTreeMap<String, Value>) -> T) -> T {
    match value {
        Value::Map(map) => f(&map.borrow()),
        _ => T::default(),
    }
}

fn writable(value: &Value) -> Result<&MapRef, CallError> {
    match value {
        Value::Map(map) => Ok(map),
        _ => Err("assignment to entry in nil map".into()),
    }
}

fn merge_all(args: &[Value], overwrite: bool) -> Result<Value, CallError> {
    let dst = writable(&args[0])?;
    for src in &args[1..] {
        if let Value::Map(src) = src {
            if std::rc::Rc::ptr_eq(dst, src) {
                continue;
            }
            let src = src.borrow().clone();
            mergo(dst, &src, overwrite);
        }
    }
    Ok(args[0].clone())
}

/// `mergo.Merge` (and `MergeWithOverwrite`) on `map[string]interface{}`: maps merge
/// recursively; other values fill keys that are missing or hold an empty value, or with
/// `overwrite`, replace what is there.
pub fn mergo(dst: &MapRef, src: &BTreeMap<String, Value>, overwrite: bool) {
    for (key, value) in src {
        let existing = dst.borrow().get(key).cloned();
        match value {
            Value::Nil => {
                if overwrite {
                    dst.borrow_mut().insert(key.clone(), Value::Nil);
                }
                continue;
            }
            Value::Map(src_map) => {
                if let Some(Value::Map(dst_map)) = &existing
                    && !std::rc::Rc::ptr_eq(dst_map, src_map)
                {
                    let src_entries = src_map.borrow().clone();
                    mergo(dst_map, &src_entries, overwrite);
                }
            }
            _ => {}
        }
        let dst_empty = existing.as_ref().is_none_or(Value::is_empty);
        let is_composite = matches!(value, Value::Map(_) | Value::List(_));
        if is_composite && !dst_empty {
            continue;
        }
        if overwrite || dst_empty {
            dst.borrow_mut().insert(key.clone(), value.clone());
        }
    }
}

/// `dig "a" "b" default dict`: the nested value, or the default where a key is missing.
fn dig(args: &[Value]) -> Result<Value, CallError> {
    if args.len() < 3 {
        return Err("dig needs at least three arguments".into());
    }
    let dict = &args[args.len() - 1];
    let default = &args[args.len() - 2];
    let mut current = dict.clone();
    for key in &args[..args.len() - 2] {
        let key = key.as_str().ok_or("dig keys must be strings")?;
        let next = match &current {
            Value::Map(map) => map.borrow().get(key).cloned(),
            _ => return Err(format!("dig: {} is not a map", current.type_name()).into()),
        };
        match next {
            Some(value) => current = value,
            None => return Ok(default.clone()),
        }
    }
    Ok(current)
}
