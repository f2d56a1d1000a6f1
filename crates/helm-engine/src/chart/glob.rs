//! Glob matching for `.helmignore` (Go's `filepath.Match`) and `.Files.Glob` (gobwas/glob
//! with `/` as separator, so `**` crosses directories and `{a,b}` alternates).

/// Whether `name` matches `pattern`; `extended` enables `**` and `{a,b}`.
pub fn matches(pattern: &str, name: &str, extended: bool) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    match_from(&pattern, &name, extended)
}

fn match_from(p: &[char], n: &[char], extended: bool) -> bool {
    let Some(&first) = p.first() else {
        return n.is_empty();
    };
    match first {
        '*' if extended && p.get(1) == Some(&'*') => {
            let rest = &p[2..];
            (0..=n.len()).any(|i| match_from(rest, &n[i..], extended))
        }
        '*' => {
            let rest = &p[1..];
            for i in 0..=n.len() {
                if match_from(rest, &n[i..], extended) {
                    return true;
                }
                if i < n.len() && n[i] == '/' {
                    return false;
                }
            }
            false
        }
        '?' => !n.is_empty() && n[0] != '/' && match_from(&p[1..], &n[1..], extended),
        '[' => {
            let Some(close) = p.iter().skip(1).position(|&c| c == ']').map(|i| i + 1) else {
                return false;
            };
            if n.is_empty() || n[0] == '/' {
                return false;
            }
            class_matches(&p[1..close], n[0]) && match_from(&p[close + 1..], &n[1..], extended)
        }
        '{' if extended => {
            let Some(close) = p.iter().position(|&c| c == '}') else {
                return false;
            };
            let rest = &p[close + 1..];
            p[1..close].split(|&c| c == ',').any(|alt| {
                let mut candidate = alt.to_vec();
                candidate.extend_from_slice(rest);
                match_from(&candidate, n, extended)
            })
        }
        '\\' if p.len() > 1 => {
            !n.is_empty() && n[0] == p[1] && match_from(&p[2..], &n[1..], extended)
        }
        c => !n.is_empty() && n[0] == c && match_from(&p[1..], &n[1..], extended),
    }
}

fn class_matches(class: &[char], c: char) -> bool {
    let (negate, class) = match class.first() {
        Some('!' | '^') => (true, &class[1..]),
        _ => (false, class),
    };
    let mut found = false;
    let mut i = 0;
    while i < class.len() {
        if i + 2 < class.len() && class[i + 1] == '-' {
            if class[i] <= c && c <= class[i + 2] {
                found = true;
            }
            i += 3;
        } else {
            if class[i] == c {
                found = true;
            }
            i += 1;
        }
    }
    found != negate
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs() {
        assert!(matches("files/*.conf", "files/a.conf", true));
        assert!(!matches("files/*.conf", "files/sub/a.conf", true));
        assert!(matches("files/**.conf", "files/sub/a.conf", true));
        assert!(matches("files/{a,b}.txt", "files/b.txt", true));
        assert!(matches("*.tgz", "x.tgz", false));
        assert!(matches("[a-c]?", "bz", false));
    }
}
