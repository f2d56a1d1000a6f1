//! Sprig's string functions. Argument order follows Sprig (the string last, so it pipes).

use super::{Funcs, Param, int_arg, str_arg, strval};
use crate::gofmt::quote;
use crate::value::Value;

use Param::{Any, Int, Str};

pub fn register(r: &mut Funcs) {
    r.add("upper", &[Str], |_, a| {
        Ok(Value::str(str_arg(&a, 0).to_uppercase()))
    });
    r.add("lower", &[Str], |_, a| {
        Ok(Value::str(str_arg(&a, 0).to_lowercase()))
    });
    r.add("title", &[Str], |_, a| {
        Ok(Value::str(title(str_arg(&a, 0))))
    });
    r.add("untitle", &[Str], |_, a| {
        Ok(Value::str(untitle(str_arg(&a, 0))))
    });
    r.add("swapcase", &[Str], |_, a| {
        Ok(Value::str(swapcase(str_arg(&a, 0))))
    });
    r.add("trim", &[Str], |_, a| {
        Ok(Value::str(str_arg(&a, 0).trim_matches(is_go_space)))
    });
    r.add("trimAll", &[Str, Str], |_, a| {
        Ok(Value::str(trim_set(str_arg(&a, 1), str_arg(&a, 0))))
    });
    r.add("trimall", &[Str, Str], |_, a| {
        Ok(Value::str(trim_set(str_arg(&a, 1), str_arg(&a, 0))))
    });
    r.add("trimPrefix", &[Str, Str], |_, a| {
        let (prefix, s) = (str_arg(&a, 0), str_arg(&a, 1));
        Ok(Value::str(s.strip_prefix(prefix).unwrap_or(s)))
    });
    r.add("trimSuffix", &[Str, Str], |_, a| {
        let (suffix, s) = (str_arg(&a, 0), str_arg(&a, 1));
        Ok(Value::str(s.strip_suffix(suffix).unwrap_or(s)))
    });
    r.add("contains", &[Str, Str], |_, a| {
        Ok(Value::Bool(str_arg(&a, 1).contains(str_arg(&a, 0))))
    });
    r.add("hasPrefix", &[Str, Str], |_, a| {
        Ok(Value::Bool(str_arg(&a, 1).starts_with(str_arg(&a, 0))))
    });
    r.add("hasSuffix", &[Str, Str], |_, a| {
        Ok(Value::Bool(str_arg(&a, 1).ends_with(str_arg(&a, 0))))
    });
    r.add("replace", &[Str, Str, Str], |_, a| {
        Ok(Value::str(go_replace(
            str_arg(&a, 2),
            str_arg(&a, 0),
            str_arg(&a, 1),
        )))
    });
    r.add("repeat", &[Int, Str], |_, a| {
        let count =
            usize::try_from(int_arg(&a, 0)).map_err(|_| "strings: negative Repeat count")?;
        Ok(Value::str(str_arg(&a, 1).repeat(count)))
    });
    r.add("substr", &[Int, Int, Str], |_, a| {
        substr(int_arg(&a, 0), int_arg(&a, 1), str_arg(&a, 2))
    });
    r.add("trunc", &[Int, Str], |_, a| {
        Ok(Value::str(trunc(int_arg(&a, 0), str_arg(&a, 1))))
    });
    r.add("hello", &[], |_, _| Ok(Value::str("Hello!")));
    r.add("abbrevboth", &[Int, Int, Str], |_, a| {
        Ok(Value::str(abbrev_both(
            int_arg(&a, 0),
            int_arg(&a, 1),
            str_arg(&a, 2),
        )))
    });
    r.add("abbrev", &[Int, Str], |_, a| {
        Ok(Value::str(abbrev(int_arg(&a, 0), str_arg(&a, 1))))
    });
    r.add("nospace", &[Str], |_, a| {
        Ok(Value::str(
            str_arg(&a, 0)
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>(),
        ))
    });
    r.add("initials", &[Str], |_, a| {
        Ok(Value::str(
            str_arg(&a, 0)
                .split_whitespace()
                .filter_map(|w| w.chars().next())
                .collect::<String>(),
        ))
    });
    r.add("indent", &[Int, Str], |_, a| {
        Ok(Value::str(indent(int_arg(&a, 0), str_arg(&a, 1))))
    });
    r.add("nindent", &[Int, Str], |_, a| {
        Ok(Value::str(format!(
            "\n{}",
            indent(int_arg(&a, 0), str_arg(&a, 1))
        )))
    });
    r.variadic("quote", &[], Any, |_, a| {
        let quoted: Vec<String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(|v| quote(&strval(v)))
            .collect();
        Ok(Value::str(quoted.join(" ")))
    });
    r.variadic("squote", &[], Any, |_, a| {
        let quoted: Vec<String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(|v| format!("'{}'", strval(v)))
            .collect();
        Ok(Value::str(quoted.join(" ")))
    });
    r.variadic("cat", &[], Any, |_, a| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(crate::gofmt::sprint_value)
            .collect();
        Ok(Value::str(parts.join(" ")))
    });
    r.add("plural", &[Str, Str, Int], |_, a| {
        Ok(Value::str(if int_arg(&a, 2) == 1 {
            str_arg(&a, 0)
        } else {
            str_arg(&a, 1)
        }))
    });
    r.add("snakecase", &[Str], |_, a| {
        Ok(Value::str(join_words(str_arg(&a, 0), "_")))
    });
    r.add("kebabcase", &[Str], |_, a| {
        Ok(Value::str(join_words(str_arg(&a, 0), "-")))
    });
    r.add("camelcase", &[Str], |_, a| {
        Ok(Value::str(camelcase(str_arg(&a, 0))))
    });
    r.add("wrap", &[Int, Str], |_, a| {
        Ok(Value::str(wrap(int_arg(&a, 0), "\n", str_arg(&a, 1))))
    });
    r.add("wrapWith", &[Int, Str, Str], |_, a| {
        Ok(Value::str(wrap(
            int_arg(&a, 0),
            str_arg(&a, 1),
            str_arg(&a, 2),
        )))
    });
    r.add("toString", &[Any], |_, a| {
        Ok(match &a[0] {
            // Go's string([]byte) keeps the bytes, text or not.
            Value::Bytes(bytes) | Value::BinaryStr(bytes) => Value::go_string(bytes),
            other => Value::str(strval(other)),
        })
    });
    r.add("toStrings", &[Any], |_, a| {
        Ok(Value::list(
            strslice(&a[0]).into_iter().map(Value::str).collect(),
        ))
    });
    r.add("join", &[Str, Any], |_, a| {
        Ok(Value::str(strslice(&a[1]).join(str_arg(&a, 0))))
    });
    r.add("splitList", &[Str, Str], |_, a| {
        Ok(Value::list(
            go_split(str_arg(&a, 1), str_arg(&a, 0), -1)
                .into_iter()
                .map(Value::str)
                .collect(),
        ))
    });
    r.add("split", &[Str, Str], |_, a| {
        Ok(indexed_map(go_split(str_arg(&a, 1), str_arg(&a, 0), -1)))
    });
    r.add("splitn", &[Str, Int, Str], |_, a| {
        Ok(indexed_map(go_split(
            str_arg(&a, 2),
            str_arg(&a, 0),
            int_arg(&a, 1),
        )))
    });
    r.add("sortAlpha", &[Any], |_, a| {
        // Unlike strslice, anything but a list (nil too) is one string.
        let mut items = match &a[0] {
            Value::List(_) => strslice(&a[0]),
            other => vec![strval(other)],
        };
        items.sort();
        Ok(Value::list(items.into_iter().map(Value::str).collect()))
    });
}

fn is_go_space(c: char) -> bool {
    c.is_whitespace()
}

fn trim_set<'s>(s: &'s str, cutset: &str) -> &'s str {
    s.trim_matches(|c| cutset.contains(c))
}

/// Go's `strings.Replace(s, old, new, -1)`: an empty `old` inserts between every char.
fn go_replace(s: &str, old: &str, new: &str) -> String {
    if !old.is_empty() {
        return s.replace(old, new);
    }
    let mut out = String::from(new);
    for c in s.chars() {
        out.push(c);
        out.push_str(new);
    }
    out
}

/// Go's `strings.Split`/`SplitN`: an empty separator splits into characters.
pub fn go_split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    let parts: Vec<String> = if sep.is_empty() {
        s.chars().map(String::from).collect()
    } else if n > 0 {
        s.splitn(n as usize, sep).map(String::from).collect()
    } else {
        s.split(sep).map(String::from).collect()
    };
    if sep.is_empty() && n > 0 && parts.len() > n as usize {
        let mut head: Vec<String> = parts[..n as usize - 1].to_vec();
        head.push(parts[n as usize - 1..].concat());
        return head;
    }
    parts
}

fn indexed_map(parts: Vec<String>) -> Value {
    Value::map(
        parts
            .into_iter()
            .enumerate()
            .map(|(i, p)| (format!("_{i}"), Value::str(p)))
            .collect(),
    )
}

/// Sprig's `strslice`: a list's elements as strings (nils dropped), a scalar as one.
pub fn strslice(value: &Value) -> Vec<String> {
    match value {
        Value::List(items) => items.iter().filter(|v| !v.is_nil()).map(strval).collect(),
        Value::Nil => Vec::new(),
        other => vec![strval(other)],
    }
}

/// Byte-indexed, as Go slices strings; a cut inside a character keeps what is valid.
fn byte_slice(s: &str, start: usize, end: usize) -> String {
    String::from_utf8_lossy(&s.as_bytes()[start..end]).into_owned()
}

fn trunc(c: i64, s: &str) -> String {
    let len = s.len() as i64;
    if c < 0 && len + c > 0 {
        return byte_slice(s, (len + c) as usize, s.len());
    }
    if c >= 0 && len > c {
        return byte_slice(s, 0, c as usize);
    }
    s.to_string()
}

fn substr(start: i64, end: i64, s: &str) -> Result<Value, super::CallError> {
    let len = s.len() as i64;
    let out_of_range = || format!("runtime error: slice bounds out of range [{start}:{end}]");
    if start < 0 {
        if end < 0 || end > len {
            return Err(out_of_range().into());
        }
        return Ok(Value::str(byte_slice(s, 0, end as usize)));
    }
    if end < 0 || end > len {
        if start > len {
            return Err(out_of_range().into());
        }
        return Ok(Value::str(byte_slice(s, start as usize, s.len())));
    }
    if start > end {
        return Err(out_of_range().into());
    }
    Ok(Value::str(byte_slice(s, start as usize, end as usize)))
}

fn abbrev(width: i64, s: &str) -> String {
    if width < 4 || s.len() as i64 <= width {
        return s.to_string();
    }
    format!("{}...", byte_slice(s, 0, (width - 3) as usize))
}

/// goutils' `AbbreviateFull`: "..." on the left when the offset is past 4, then on the right.
fn abbrev_both(offset: i64, width: i64, s: &str) -> String {
    let len = s.len() as i64;
    if width < 4 || len <= width {
        return s.to_string();
    }
    let offset = offset.clamp(0, len);
    if offset <= 4 {
        return abbrev(width, s);
    }
    if width < 7 {
        return s.to_string();
    }
    let offset = if len - offset < width - 3 {
        len - (width - 3)
    } else {
        offset
    };
    if offset + width - 3 < len {
        return format!(
            "...{}",
            abbrev(width - 3, &byte_slice(s, offset as usize, s.len()))
        );
    }
    format!(
        "...{}",
        byte_slice(s, (len - (width - 3)) as usize, s.len())
    )
}

fn indent(spaces: i64, s: &str) -> String {
    let pad = " ".repeat(spaces.max(0) as usize);
    format!("{pad}{}", s.replace('\n', &format!("\n{pad}")))
}

/// Go's `strings.Title`: upper-cases the first letter of each word.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev = ' ';
    for c in s.chars() {
        if is_separator(prev) {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

fn untitle(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev = ' ';
    for c in s.chars() {
        if is_separator(prev) {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphanumeric() {
        return false;
    }
    c.is_whitespace()
}

fn swapcase(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_uppercase() {
                c.to_lowercase().collect::<Vec<_>>()
            } else {
                c.to_uppercase().collect::<Vec<_>>()
            }
        })
        .collect()
}

/// Words of an identifier: split at non-alphanumerics and lower-to-upper transitions.
fn words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev: Option<char> = None;
    for c in s.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
        } else {
            if c.is_uppercase()
                && prev.is_some_and(|p| p.is_lowercase() || p.is_numeric())
                && !current.is_empty()
            {
                words.push(std::mem::take(&mut current));
            }
            current.push(c);
        }
        prev = Some(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn join_words(s: &str, sep: &str) -> String {
    words(s)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join(sep)
}

/// `xstrings.ToCamelCase`: `foo_bar` -> `FooBar`.
fn camelcase(s: &str) -> String {
    s.split('_')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// Word wrap at `width` columns, breaking only at spaces.
fn wrap(width: i64, sep: &str, s: &str) -> String {
    let width = width.max(1) as usize;
    let mut lines = Vec::new();
    for line in s.split('\n') {
        let mut current = String::new();
        for word in line.split(' ') {
            if !current.is_empty() && current.len() + 1 + word.len() > width {
                lines.push(std::mem::take(&mut current));
            } else if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
        lines.push(current);
    }
    lines.join(sep)
}
