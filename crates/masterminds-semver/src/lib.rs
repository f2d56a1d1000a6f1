//! Semantic versions and constraints as Masterminds/semver v3 reads them, which is what Helm
//! uses for chart versions, repository lookups and Sprig's `semverCompare`: lenient versions
//! (`v1.2`, `1.27.3-gke.100`) and constraints with `||`, `,`, wildcards, `~` and `^`. A
//! pre-release version only satisfies constraints that themselves name a pre-release, which
//! is why charts write `>=1.19-0`.

use std::cmp::Ordering;
use std::fmt;

/// Whether `version` satisfies `constraint`; false when either does not parse.
pub fn satisfies(constraint: &str, version: &str) -> bool {
    match (Constraints::parse(constraint), Version::parse(version)) {
        (Ok(c), Ok(v)) => c.check(&v),
        _ => false,
    }
}

/// A semantic version as Masterminds/semver parses it.
#[derive(Debug, Clone)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
    pub metadata: String,
    pub original: String,
}

impl Version {
    pub fn parse(text: &str) -> Result<Version, String> {
        let invalid = || "Invalid Semantic Version".to_string();
        let body = text.strip_prefix('v').unwrap_or(text);
        let (body, metadata) = match body.split_once('+') {
            Some((b, m)) => (b, m.to_string()),
            None => (body, String::new()),
        };
        let (core, pre) = match body.split_once('-') {
            Some((c, p)) => (c, p.to_string()),
            None => (body, String::new()),
        };
        let valid_ident = |s: &str| {
            s.split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        };
        if (!pre.is_empty() && !valid_ident(&pre))
            || (!metadata.is_empty() && !valid_ident(&metadata))
        {
            return Err(invalid());
        }
        if body.ends_with('-') || text.ends_with('+') {
            return Err(invalid());
        }
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return Err(invalid());
        }
        let mut numbers = [0u64; 3];
        for (i, part) in parts.iter().enumerate() {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            numbers[i] = part.parse().map_err(|_| invalid())?;
        }
        Ok(Version {
            major: numbers[0],
            minor: numbers[1],
            patch: numbers[2],
            pre,
            metadata,
            original: text.to_string(),
        })
    }

    pub fn compare(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| compare_pre(&self.pre, &other.pre))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

fn compare_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let (xs, ys): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for (x, y) in xs.iter().zip(ys.iter()) {
        let ordering = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(p), Ok(q)) => p.cmp(&q),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            _ => x.cmp(y),
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    xs.len().cmp(&ys.len())
}

/// `a || b` of `x, y` groups.
pub struct Constraints {
    groups: Vec<Vec<Constraint>>,
}

#[derive(Debug)]
struct Constraint {
    op: String,
    version: Version,
    /// Which parts were wildcards or missing: major, minor, patch.
    minor_dirty: bool,
    patch_dirty: bool,
    dirty: bool,
}

impl Constraints {
    pub fn parse(text: &str) -> Result<Constraints, String> {
        let mut groups = Vec::new();
        for group in text.split("||") {
            let mut constraints = Vec::new();
            for piece in split_and(group) {
                constraints.push(Constraint::parse(&piece)?);
            }
            if constraints.is_empty() {
                return Err(format!("improper constraint: {text}"));
            }
            groups.push(constraints);
        }
        Ok(Constraints { groups })
    }

    pub fn check(&self, version: &Version) -> bool {
        self.groups
            .iter()
            .any(|group| group.iter().all(|c| c.check(version)))
    }
}

/// Splits an AND group at commas and at spaces between complete constraints (`>= 1.2 <2`
/// keeps the operator with its version).
fn split_and(group: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    for part in group.split(',') {
        let mut pending = String::new();
        for token in part.split_whitespace() {
            pending.push_str(token);
            if token.chars().any(|c| c.is_ascii_alphanumeric() || c == '*') {
                pieces.push(std::mem::take(&mut pending));
            }
        }
        if !pending.is_empty() {
            pieces.push(pending);
        }
    }
    pieces
}

impl Constraint {
    fn parse(text: &str) -> Result<Constraint, String> {
        let improper = || format!("improper constraint: {text}");
        let op_len = text
            .find(|c: char| c.is_ascii_alphanumeric() || c == '*')
            .ok_or_else(improper)?;
        let op = text[..op_len].trim().to_string();
        if !matches!(
            op.as_str(),
            "" | "=" | "!=" | ">" | "<" | ">=" | "=>" | "<=" | "=<" | "~" | "~>" | "^"
        ) {
            return Err(improper());
        }
        let body = text[op_len..].trim();
        let body = body.strip_prefix('v').unwrap_or(body);
        let (core, rest) = match body.find(['-', '+']) {
            Some(i) => (&body[..i], &body[i..]),
            None => (body, ""),
        };
        let is_wild = |p: &str| matches!(p, "x" | "X" | "*");
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() > 3 {
            return Err(improper());
        }
        let major_wild = is_wild(parts[0]);
        let minor_dirty = major_wild || parts.get(1).is_none_or(|p| is_wild(p));
        let patch_dirty = minor_dirty || parts.get(2).is_none_or(|p| is_wild(p));
        let number = |i: usize, dirty: bool| if dirty { "0" } else { parts[i] };
        let normalized = format!(
            "{}.{}.{}{rest}",
            if major_wild { "0" } else { parts[0] },
            number(1, minor_dirty),
            number(2, patch_dirty)
        );
        let version = Version::parse(&normalized).map_err(|_| improper())?;
        Ok(Constraint {
            op,
            version,
            minor_dirty,
            patch_dirty,
            dirty: patch_dirty,
        })
    }

    fn check(&self, v: &Version) -> bool {
        let c = &self.version;
        if !v.pre.is_empty() && c.pre.is_empty() {
            return false;
        }
        let cmp = v.compare(c);
        match self.op.as_str() {
            "" | "=" => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    cmp == Ordering::Equal
                }
            }
            "!=" => {
                if self.dirty {
                    !self.tilde(v)
                } else {
                    cmp != Ordering::Equal
                }
            }
            ">" => {
                if !self.dirty {
                    return cmp == Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                v.minor > c.minor
            }
            "<" => cmp == Ordering::Less,
            ">=" | "=>" => cmp != Ordering::Less,
            "<=" | "=<" => {
                if !self.dirty {
                    return cmp != Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major < c.major;
                }
                if self.minor_dirty {
                    return true;
                }
                v.minor <= c.minor
            }
            "~" | "~>" => self.tilde(v),
            "^" => self.caret(v),
            _ => false,
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.version;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && self.minor_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        v.minor == c.minor || self.minor_dirty
    }

    fn caret(&self, v: &Version) -> bool {
        let c = &self.version;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major > 0 || self.minor_dirty {
            return v.major == c.major;
        }
        if c.minor > 0 || self.patch_dirty {
            return v.major == 0 && v.minor == c.minor;
        }
        v.major == 0 && v.minor == 0 && v.patch == c.patch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(constraint: &str, version: &str) -> bool {
        Constraints::parse(constraint)
            .unwrap()
            .check(&Version::parse(version).unwrap())
    }

    #[test]
    fn kube_version_gates() {
        assert!(check(">=1.19-0", "v1.27.3-gke.100"));
        assert!(!check(">=1.19", "v1.27.3-gke.100"));
        assert!(check(">=1.19", "v1.30.0"));
        assert!(check("<1.25", "1.24.9"));
        assert!(check(">= 1.2, < 2", "1.5.0"));
        assert!(check("~1.2", "1.2.9") && !check("~1.2", "1.3.0"));
        assert!(check("^1.2", "1.9.0") && !check("^1.2", "2.0.0"));
        assert!(check("1.x || 3.0", "3.0.0") && check("1.x", "1.4.0"));
        assert!(!check("<=1.x", "2.0.0"));
    }

    #[test]
    fn caret_on_zero_versions_pins_the_first_non_zero_part() {
        assert!(check("^0.2.3", "0.2.9") && !check("^0.2.3", "0.3.0"));
        assert!(check("^0.0.3", "0.0.3") && !check("^0.0.3", "0.0.4"));
    }

    #[test]
    fn lenient_versions_and_ordering() {
        let v = Version::parse("v1.2").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (1, 2, 0));
        assert_eq!(v.original, "v1.2");
        let ordered = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-beta",
            "1.0.0",
            "1.0.1",
        ];
        for pair in ordered.windows(2) {
            let (a, b) = (
                Version::parse(pair[0]).unwrap(),
                Version::parse(pair[1]).unwrap(),
            );
            assert_eq!(a.compare(&b), Ordering::Less, "{} < {}", pair[0], pair[1]);
        }
        // Build metadata does not order.
        let (a, b) = (
            Version::parse("1.0.0+a").unwrap(),
            Version::parse("1.0.0+b").unwrap(),
        );
        assert_eq!(a.compare(&b), Ordering::Equal);
        assert!(Version::parse("1.2.3.4").is_err() && Version::parse("x").is_err());
    }

    #[test]
    fn satisfies_is_false_for_what_does_not_parse() {
        assert!(satisfies(">=1.0", "1.2.0"));
        assert!(!satisfies(">=1.0", "not-a-version"));
        assert!(!satisfies(">=one", "1.2.0"));
    }
}
