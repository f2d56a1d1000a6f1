//! Sprig's regular expression functions. Go's RE2 syntax and `$1`/`${name}` expansion are
//! what the `regex` crate implements too.

use std::cell::RefCell;
use std::collections::HashMap;

use regex::Regex;

use super::{Funcs, Param, int_arg, str_arg};
use crate::exec::CallError;
use crate::value::Value;

use Param::{Int, Str};

pub fn register(r: &mut Funcs) {
    r.add("regexMatch", &[Str, Str], |_, a| {
        Ok(Value::Bool(
            compile(str_arg(&a, 0)).is_ok_and(|re| re.is_match(str_arg(&a, 1))),
        ))
    });
    r.add("mustRegexMatch", &[Str, Str], |_, a| {
        Ok(Value::Bool(
            compile(str_arg(&a, 0))?.is_match(str_arg(&a, 1)),
        ))
    });
    for name in ["regexFindAll", "mustRegexFindAll"] {
        r.add(name, &[Str, Str, Int], |_, a| {
            let re = compile(str_arg(&a, 0))?;
            let limit = usize::try_from(int_arg(&a, 2)).unwrap_or(usize::MAX);
            let found = re
                .find_iter(str_arg(&a, 1))
                .take(limit)
                .map(|m| Value::str(m.as_str()))
                .collect();
            Ok(Value::list(found))
        });
    }
    for name in ["regexFind", "mustRegexFind"] {
        r.add(name, &[Str, Str], |_, a| {
            let re = compile(str_arg(&a, 0))?;
            Ok(Value::str(
                re.find(str_arg(&a, 1)).map_or("", |m| m.as_str()),
            ))
        });
    }
    for name in ["regexReplaceAll", "mustRegexReplaceAll"] {
        r.add(name, &[Str, Str, Str], |_, a| {
            let re = compile(str_arg(&a, 0))?;
            Ok(Value::str(
                re.replace_all(str_arg(&a, 1), str_arg(&a, 2)).into_owned(),
            ))
        });
    }
    for name in ["regexReplaceAllLiteral", "mustRegexReplaceAllLiteral"] {
        r.add(name, &[Str, Str, Str], |_, a| {
            let re = compile(str_arg(&a, 0))?;
            Ok(Value::str(
                re.replace_all(str_arg(&a, 1), regex::NoExpand(str_arg(&a, 2)))
                    .into_owned(),
            ))
        });
    }
    for name in ["regexSplit", "mustRegexSplit"] {
        r.add(name, &[Str, Str, Int], |_, a| {
            let re = compile(str_arg(&a, 0))?;
            let s = str_arg(&a, 1);
            let parts: Vec<Value> = match int_arg(&a, 2) {
                0 => Vec::new(),
                n if n < 0 => re.split(s).map(Value::str).collect(),
                n => re.splitn(s, n as usize).map(Value::str).collect(),
            };
            Ok(Value::list(parts))
        });
    }
    r.add("regexQuoteMeta", &[Str], |_, a| {
        Ok(Value::str(regex::escape(str_arg(&a, 0))))
    });
}

thread_local! {
    static CACHE: RefCell<HashMap<String, Regex>> = RefCell::new(HashMap::new());
}

fn compile(pattern: &str) -> Result<Regex, CallError> {
    CACHE.with(|cache| {
        if let Some(re) = cache.borrow().get(pattern) {
            return Ok(re.clone());
        }
        let re = Regex::new(pattern)
            .map_err(|e| CallError::Message(format!("error parsing regexp: {e}")))?;
        cache.borrow_mut().insert(pattern.to_string(), re.clone());
        Ok(re)
    })
}
