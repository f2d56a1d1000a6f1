//! Sprig's slash-path functions (Go's `path` package): `base`, `dir`, `clean`, `ext`, `isAbs`.

use super::{Param, Registry, str_arg};
use crate::render::native::value::Value;

pub fn register(r: &mut Registry) {
    r.add("base", &[Param::Str], |_, a| {
        Ok(Value::str(base(str_arg(&a, 0))))
    });
    r.add("dir", &[Param::Str], |_, a| {
        Ok(Value::str(dir(str_arg(&a, 0))))
    });
    r.add("clean", &[Param::Str], |_, a| {
        Ok(Value::str(clean(str_arg(&a, 0))))
    });
    r.add("ext", &[Param::Str], |_, a| {
        Ok(Value::str(ext(str_arg(&a, 0))))
    });
    r.add("isAbs", &[Param::Str], |_, a| {
        Ok(Value::Bool(str_arg(&a, 0).starts_with('/')))
    });
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
