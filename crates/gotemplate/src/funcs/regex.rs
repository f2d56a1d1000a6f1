//! Sprig's regular expression functions, in Go's RE2 dialect. The `regex` crate's syntax is
//! nearly Go's, and its `$1`/`${name}` expansion is Go's; where the dialects differ, a Go
//! pattern is rewritten into the Rust pattern that matches the same ([`go_pattern`]), and
//! splitting and quoting follow Go's code.

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
            let parts = go_split(&re, s, int_arg(&a, 2));
            Ok(Value::list(parts.into_iter().map(Value::str).collect()))
        });
    }
    r.add("regexQuoteMeta", &[Str], |_, a| {
        Ok(Value::str(quote_meta(str_arg(&a, 0))))
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
        let re = Regex::new(&go_pattern(pattern))
            .map_err(|e| CallError::Message(format!("error parsing regexp: {e}")))?;
        cache.borrow_mut().insert(pattern.to_string(), re.clone());
        Ok(re)
    })
}

/// Go's `regexp.Split`: at most `n` pieces (all when `n < 0`, none when 0); an empty match
/// at the very start does not split.
fn go_split<'s>(re: &Regex, s: &'s str, n: i64) -> Vec<&'s str> {
    if n == 0 {
        return Vec::new();
    }
    if !re.as_str().is_empty() && s.is_empty() {
        return vec![""];
    }
    let mut pieces = Vec::new();
    let (mut begin, mut end) = (0, 0);
    for found in re.find_iter(s) {
        if n > 0 && pieces.len() as i64 == n - 1 {
            break;
        }
        end = found.start();
        if found.end() != 0 {
            pieces.push(&s[begin..end]);
        }
        begin = found.end();
    }
    if end != s.len() {
        pieces.push(&s[begin..]);
    }
    pieces
}

/// Go's `regexp.QuoteMeta`: only RE2's own metacharacters are escaped.
fn quote_meta(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Go's `\w`, `\d`, `\s` and their negations are ASCII classes; Rust's are Unicode.
fn perl_class(c: char) -> Option<&'static str> {
    Some(match c {
        'w' => "[0-9A-Za-z_]",
        'W' => "[^0-9A-Za-z_]",
        'd' => "[0-9]",
        'D' => "[^0-9]",
        's' => "[\\t\\n\\f\\r ]",
        'S' => "[^\\t\\n\\f\\r ]",
        _ => return None,
    })
}

/// Rewrites a Go (RE2) pattern into the Rust pattern that matches the same strings:
/// - `\w \d \s \b` and their negations are ASCII in Go, Unicode in Rust;
/// - in a class Go reads `[`, `&&` and `~~` literally, where Rust nests classes and reads set
///   operations, and a `-` after a class escape (`[\w-.]`) is a literal `-` in Go, an error in
///   Rust;
/// - `\Q...\E` quotes literally in Go; Rust has no such escape.
///
/// Anything else is the same in both and is copied.
pub fn go_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('Q') => {
                    let mut quoted = String::new();
                    while let Some(q) = chars.next() {
                        if q == '\\' && chars.peek() == Some(&'E') {
                            chars.next();
                            break;
                        }
                        quoted.push(q);
                    }
                    out.push_str(&regex::escape(&quoted));
                }
                Some(class) if perl_class(class).is_some() => {
                    out.push_str(perl_class(class).unwrap_or_default());
                }
                Some(b @ ('b' | 'B')) => {
                    out.push_str("(?-u:\\");
                    out.push(b);
                    out.push(')');
                }
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '[' => class(&mut chars, &mut out),
            other => out.push(other),
        }
    }
    out
}

/// A character class, from just after its `[` to its `]` inclusive.
fn class(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String) {
    out.push('[');
    if chars.peek() == Some(&'^') {
        chars.next();
        out.push('^');
    }
    // A `]` first in the class is a literal.
    if chars.peek() == Some(&']') {
        chars.next();
        out.push_str("\\]");
    }
    // Whether the last item was a single character that a `-` may make a range from.
    let mut after_single = false;
    while let Some(c) = chars.next() {
        match c {
            ']' => {
                out.push(']');
                return;
            }
            '[' if chars.peek() == Some(&':') => {
                // A POSIX class, `[:alpha:]`, the same in both.
                out.push('[');
                for p in chars.by_ref() {
                    out.push(p);
                    if p == ']' {
                        break;
                    }
                }
                after_single = false;
            }
            '\\' => match chars.next() {
                Some(class) if perl_class(class).is_some() => {
                    out.push_str(perl_class(class).unwrap_or_default());
                    after_single = false;
                }
                Some(p @ ('p' | 'P')) => {
                    out.push('\\');
                    out.push(p);
                    if chars.peek() == Some(&'{') {
                        for q in chars.by_ref() {
                            out.push(q);
                            if q == '}' {
                                break;
                            }
                        }
                    } else if let Some(q) = chars.next() {
                        out.push(q);
                    }
                    after_single = false;
                }
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                    if other == 'x' {
                        copy_hex_escape(chars, out);
                    }
                    after_single = true;
                }
                None => out.push('\\'),
            },
            '-' if after_single && chars.peek().is_some_and(|&n| n != ']') => {
                // A range: its high end follows and cannot start another range.
                out.push('-');
                match chars.next() {
                    Some('\\') => {
                        out.push('\\');
                        if let Some(e) = chars.next() {
                            out.push(e);
                            if e == 'x' {
                                copy_hex_escape(chars, out);
                            }
                        }
                    }
                    Some(hi) => push_class_literal(out, hi),
                    None => {}
                }
                after_single = false;
            }
            other => {
                push_class_literal(out, other);
                after_single = true;
            }
        }
    }
}

/// The rest of a `\x` escape: `{...}` or two hex digits.
fn copy_hex_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String) {
    if chars.peek() == Some(&'{') {
        for q in chars.by_ref() {
            out.push(q);
            if q == '}' {
                break;
            }
        }
    } else {
        for _ in 0..2 {
            if let Some(q) = chars.next() {
                out.push(q);
            }
        }
    }
}

/// A character Go reads literally inside a class, escaped where Rust would not.
fn push_class_literal(out: &mut String, c: char) {
    if matches!(c, '[' | '&' | '~' | '-') {
        out.push('\\');
    }
    out.push(c);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_patterns_in_rust_syntax() {
        assert_eq!(go_pattern(r"^[\w-\.]+$"), r"^[[0-9A-Za-z_]\-\.]+$");
        assert_eq!(go_pattern(r"[a-z0-9-]"), r"[a-z0-9\-]");
        assert_eq!(go_pattern(r"[-a]"), r"[\-a]");
        assert_eq!(go_pattern(r"[]a]"), r"[\]a]");
        assert_eq!(go_pattern(r"[a&&b~~[]"), r"[a\&\&b\~\~\[]");
        assert_eq!(
            go_pattern(r"[\x41-\x{5A}[:digit:]]"),
            r"[\x41-\x{5A}[:digit:]]"
        );
        assert_eq!(go_pattern(r"\bx\d"), r"(?-u:\b)x[0-9]");
        assert_eq!(go_pattern(r"\Q.*\E+"), r"\.\*+");
        for pattern in [
            r"^[\w-\.]+$",
            r"[\pL\p{Greek}-]",
            r"(?i)a|b{2,3}",
            r"[^\s\]]",
        ] {
            assert!(Regex::new(&go_pattern(pattern)).is_ok(), "{pattern}");
        }
    }

    #[test]
    fn splits_as_go() {
        fn split(re: &str, s: &'static str, n: i64) -> Vec<&'static str> {
            go_split(&Regex::new(re).unwrap(), s, n)
        }
        assert_eq!(split("", "abc", -1), ["a", "b", "c"]);
        assert_eq!(split("", "abc", 2), ["a", "bc"]);
        assert_eq!(split("x*", "axxb", -1), ["a", "b"]);
        assert_eq!(split(",", "a,b,c", 2), ["a", "b,c"]);
        assert_eq!(split(",", "", -1), [""]);
        assert_eq!(split(",", "a,", -1), ["a", ""]);
    }
}
