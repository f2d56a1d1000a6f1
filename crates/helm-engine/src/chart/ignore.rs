//! `.helmignore` rules, as Helm's `ignore` package applies them while loading a chart.

use std::path::Path;

use super::glob::matches;

struct Pattern {
    rule: String,
    negate: bool,
    must_dir: bool,
}

pub struct Rules {
    patterns: Vec<Pattern>,
}

impl Rules {
    /// The chart's `.helmignore`, plus Helm's default: hidden files under templates/.
    pub fn for_chart(root: &Path) -> Result<Rules, String> {
        let mut rules = Rules {
            patterns: Vec::new(),
        };
        let file = root.join(".helmignore");
        if file.is_file() {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            for line in text.lines() {
                rules.add(line);
            }
        }
        rules.add("templates/.?*");
        Ok(rules)
    }

    fn add(&mut self, line: &str) {
        let mut rule = line.trim();
        if rule.is_empty() || rule.starts_with('#') || rule.contains("**") {
            return;
        }
        let negate = rule.starts_with('!');
        if negate {
            rule = &rule[1..];
        }
        let must_dir = rule.ends_with('/');
        let rule = rule.trim_end_matches('/');
        self.patterns.push(Pattern {
            rule: rule.to_string(),
            negate,
            must_dir,
        });
    }

    pub fn ignores(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." {
            return false;
        }
        for pattern in &self.patterns {
            let matched = pattern.matches(path);
            if pattern.negate {
                if pattern.must_dir && !is_dir {
                    return true;
                }
                if !matched {
                    return true;
                }
                continue;
            }
            if pattern.must_dir && !is_dir {
                continue;
            }
            if matched {
                return true;
            }
        }
        false
    }
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        if let Some(rooted) = self.rule.strip_prefix('/') {
            return matches(rooted, path, false);
        }
        if self.rule.contains('/') {
            return matches(&self.rule, path, false);
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        matches(&self.rule, base, false)
    }
}
