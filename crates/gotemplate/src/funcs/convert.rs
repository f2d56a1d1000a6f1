//! Type conversion (`int`, `float64`, `toString` lives with strings), defaults and type
//! tests. Conversions follow spf13/cast as Sprig uses it: bad input becomes 0, not an error.

use super::{Funcs, Param, str_arg};
use crate::value::Value;

use Param::{Any, Bool, Str};

pub fn register(r: &mut Funcs) {
    r.add("int", &[Any], |_, a| Ok(Value::Int(to_int64(&a[0]))));
    r.add("int64", &[Any], |_, a| Ok(Value::Int64(to_int64(&a[0]))));
    r.add("float64", &[Any], |_, a| {
        Ok(Value::Float(to_float64(&a[0])))
    });
    // Sprig reads the value's text as an octal number, 0 when it is not one.
    r.add("toDecimal", &[Any], |_, a| {
        let text = crate::gofmt::sprint_value(&a[0]);
        Ok(Value::Int64(i64::from_str_radix(&text, 8).unwrap_or(0)))
    });
    r.add("atoi", &[Str], |_, a| {
        Ok(Value::Int(str_arg(&a, 0).parse().unwrap_or(0)))
    });
    r.variadic("default", &[Any], Any, |_, a| {
        Ok(match a.get(1) {
            Some(given) if given.truthy() => given.clone(),
            _ => a[0].clone(),
        })
    });
    r.add("empty", &[Any], |_, a| Ok(Value::Bool(a[0].is_empty())));
    r.variadic("coalesce", &[], Any, |_, a| {
        Ok(a.into_iter().find(Value::truthy).unwrap_or(Value::Nil))
    });
    r.variadic("all", &[], Any, |_, a| {
        Ok(Value::Bool(a.iter().all(Value::truthy)))
    });
    r.variadic("any", &[], Any, |_, a| {
        Ok(Value::Bool(a.iter().any(Value::truthy)))
    });
    r.add("ternary", &[Any, Any, Bool], |_, a| {
        Ok(if matches!(a[2], Value::Bool(true)) {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    r.add("typeOf", &[Any], |_, a| Ok(Value::str(a[0].type_name())));
    r.add("kindOf", &[Any], |_, a| Ok(Value::str(a[0].kind_name())));
    r.add("typeIs", &[Str, Any], |_, a| {
        Ok(Value::Bool(str_arg(&a, 0) == a[1].type_name()))
    });
    r.add("typeIsLike", &[Str, Any], |_, a| {
        let t = a[1].type_name();
        let wanted = str_arg(&a, 0);
        Ok(Value::Bool(wanted == t || wanted == format!("*{t}")))
    });
    r.add("kindIs", &[Str, Any], |_, a| {
        Ok(Value::Bool(str_arg(&a, 0) == a[1].kind_name()))
    });
    r.add("deepEqual", &[Any, Any], |_, a| {
        Ok(Value::Bool(super::lists::deep_equal(&a[0], &a[1])))
    });
    r.add("fail", &[Str], |_, a| {
        Err(str_arg(&a, 0).to_string().into())
    });
}

/// `cast.ToInt64`: numbers truncate, strings parse with Go's base prefixes, bools are 0/1,
/// anything else is 0.
pub fn to_int64(value: &Value) -> i64 {
    match value {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::Str(s) => parse_int_base0(trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// `cast.ToFloat64`.
pub fn to_float64(value: &Value) -> f64 {
    match value {
        Value::Int(i) | Value::Int64(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Str(s) => s.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// cast strips a decimal point followed only by zeros before parsing an integer.
fn trim_zero_decimal(s: &str) -> &str {
    let mut found_zero = false;
    for (i, c) in s.char_indices().rev() {
        match c {
            '.' if found_zero => return &s[..i],
            '0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

fn parse_int_base0(s: &str) -> Option<i64> {
    crate::template::parse_number(s)
        .filter(|n| !n.looks_float)
        .and_then(|n| n.int)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_like_spf13_cast() {
        assert_eq!(to_int64(&Value::str("3.0")), 3);
        assert_eq!(to_int64(&Value::str("0x10")), 16);
        assert_eq!(to_int64(&Value::str("abc")), 0);
        assert_eq!(to_int64(&Value::Float(2.9)), 2);
    }
}
