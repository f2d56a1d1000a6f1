//! Sprig's path functions (Go's `path`, and `filepath`, the same on Linux) and its URL
//! functions (`urlParse`, `urlJoin`).

use super::{Funcs, Param, str_arg};
use crate::value::Value;

pub fn register(r: &mut Funcs) {
    for name in ["base", "osBase"] {
        r.add(name, &[Param::Str], |_, a| {
            Ok(Value::str(base(str_arg(&a, 0))))
        });
    }
    for name in ["dir", "osDir"] {
        r.add(name, &[Param::Str], |_, a| {
            Ok(Value::str(dir(str_arg(&a, 0))))
        });
    }
    for name in ["clean", "osClean"] {
        r.add(name, &[Param::Str], |_, a| {
            Ok(Value::str(clean(str_arg(&a, 0))))
        });
    }
    for name in ["ext", "osExt"] {
        r.add(name, &[Param::Str], |_, a| {
            Ok(Value::str(ext(str_arg(&a, 0))))
        });
    }
    for name in ["isAbs", "osIsAbs"] {
        r.add(name, &[Param::Str], |_, a| {
            Ok(Value::Bool(str_arg(&a, 0).starts_with('/')))
        });
    }
    r.add("urlParse", &[Param::Str], |_, a| {
        Ok(url_parse(str_arg(&a, 0)))
    });
    r.add("urlJoin", &[Param::Map], |_, a| {
        Ok(Value::str(url_join(&a[0])))
    });
}

/// Sprig's `urlParse`: the parts of a URL as a dict.
fn url_parse(url: &str) -> Value {
    let (url, fragment) = url.split_once('#').unwrap_or((url, ""));
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest))
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            (scheme, rest)
        }
        _ => ("", url),
    };
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = if scheme.is_empty() {
        ("", rest)
    } else {
        match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        }
    };
    let (userinfo, host) = authority.rsplit_once('@').unwrap_or(("", authority));
    let hostname = if host.starts_with('[') {
        host.split(']')
            .next()
            .unwrap_or_default()
            .trim_start_matches('[')
    } else {
        host.split(':').next().unwrap_or_default()
    };
    let entries = [
        ("scheme", scheme),
        ("host", host),
        ("hostname", hostname),
        ("path", path),
        ("query", query),
        ("opaque", ""),
        ("fragment", fragment),
        ("userinfo", userinfo),
    ];
    Value::map(
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), Value::str(*v)))
            .collect(),
    )
}

/// Sprig's `urlJoin`: a URL from the parts `urlParse` gives.
fn url_join(parts: &Value) -> String {
    let get = |key: &str| match parts {
        Value::Map(map) => map.borrow().get(key).map(super::strval).unwrap_or_default(),
        _ => String::new(),
    };
    let mut out = String::new();
    if !get("scheme").is_empty() {
        out.push_str(&format!("{}://", get("scheme")));
    }
    if !get("userinfo").is_empty() {
        out.push_str(&format!("{}@", get("userinfo")));
    }
    out.push_str(&get("host"));
    out.push_str(&get("path"));
    if !get("query").is_empty() {
        out.push_str(&format!("?{}", get("query")));
    }
    if !get("fragment").is_empty() {
        out.push_str(&format!("#{}", get("fragment")));
    }
    out
}

fn base(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}

fn dir(path: &str) -> String {
    let cut = path.rfind('/').map_or(0, |i| i + 1);
    clean(&path[..cut])
}

fn ext(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or(path);
    last.rfind('.')
        .map_or(String::new(), |i| last[i..].to_string())
}

/// Go's `path.Clean`: lexical `.`/`..` and slash cleanup.
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            part => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_as_go() {
        assert_eq!(base("a/b.txt"), "b.txt");
        assert_eq!(base("/"), "/");
        assert_eq!(dir("a/b/c"), "a/b");
        assert_eq!(dir("c"), ".");
        assert_eq!(clean("a/../../b/./c//"), "../b/c");
        assert_eq!(ext("x/y.tar.gz"), ".gz");
    }
}
