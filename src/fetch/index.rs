//! A Helm repository's index.yaml, and choosing a chart version as Helm does: an exact
//! version string wins, else the highest version satisfying the constraint (Masterminds
//! semver; no constraint means the highest release that is not a pre-release).

use std::collections::BTreeMap;

use serde::Deserialize;

use masterminds_semver::{Constraints, Version};

#[derive(Debug, Deserialize)]
pub struct Index {
    #[serde(default)]
    entries: BTreeMap<String, Vec<Entry>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Entry {
    pub version: String,
    #[serde(default)]
    pub urls: Vec<String>,
    /// sha256 of the archive, hex; `helm repo index` always writes it.
    #[serde(default)]
    pub digest: Option<String>,
}

impl Index {
    pub fn parse(bytes: &[u8]) -> Result<Index, String> {
        serde_yaml_ng::from_slice(bytes).map_err(|e| format!("its index.yaml is not valid: {e}"))
    }

    /// The entry of chart `name` that `constraint` picks.
    pub fn find(&self, name: &str, constraint: Option<&str>) -> Result<&Entry, String> {
        let Some(entries) = self.entries.get(name) else {
            let mut similar: Vec<&str> = self
                .entries
                .keys()
                .map(String::as_str)
                .filter(|known| strsim::jaro_winkler(known, name) > 0.8)
                .collect();
            similar.truncate(3);
            return Err(if similar.is_empty() {
                format!("it has no chart `{name}`")
            } else {
                format!(
                    "it has no chart `{name}` (did you mean {}?)",
                    similar.join(", ")
                )
            });
        };
        let versions: Vec<&str> = entries.iter().map(|e| e.version.as_str()).collect();
        let chosen = choose(&versions, constraint)?;
        Ok(&entries[chosen])
    }
}

/// The index in `versions` that `constraint` picks (see the module comment).
pub fn choose(versions: &[&str], constraint: Option<&str>) -> Result<usize, String> {
    let constraint = constraint.map(str::trim).filter(|c| !c.is_empty());
    if let Some(exact) = constraint
        && let Some(found) = versions.iter().position(|v| *v == exact)
    {
        return Ok(found);
    }
    let wanted = Constraints::parse(constraint.unwrap_or("*"))
        .map_err(|e| format!("version `{}`: {e}", constraint.unwrap_or_default()))?;
    let mut parsed: Vec<(usize, Version)> = versions
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Version::parse(v).ok().map(|v| (i, v)))
        .collect();
    parsed.sort_by(|a, b| b.1.compare(&a.1));
    if let Some((found, _)) = parsed.iter().find(|(_, v)| wanted.check(v)) {
        return Ok(*found);
    }
    const SHOWN: usize = 8;
    let mut existing: Vec<String> = parsed
        .iter()
        .take(SHOWN)
        .map(|(i, _)| versions[*i].to_string())
        .collect();
    if parsed.len() > SHOWN {
        existing.push(format!("and {} more", parsed.len() - SHOWN));
    }
    Err(match constraint {
        Some(c) => format!(
            "no version matches `{c}` (there are: {})",
            if existing.is_empty() {
                "none".to_string()
            } else {
                existing.join(", ")
            }
        ),
        None => format!(
            "it has no release version, only pre-releases ({}); name one in `version:`",
            existing.join(", ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSIONS: &[&str] = &["1.0.0", "2.0.0", "1.2.0-rc.1", "1.1.0", "v1.1.5"];

    fn pick(constraint: Option<&str>) -> Result<&'static str, String> {
        choose(VERSIONS, constraint).map(|i| VERSIONS[i])
    }

    #[test]
    fn chooses_as_helm_does() {
        assert_eq!(pick(None).unwrap(), "2.0.0");
        assert_eq!(pick(Some("")).unwrap(), "2.0.0");
        assert_eq!(pick(Some("1.0.0")).unwrap(), "1.0.0");
        assert_eq!(pick(Some("~1.1")).unwrap(), "v1.1.5");
        assert_eq!(pick(Some("^1")).unwrap(), "v1.1.5");
        // Masterminds checks pre-releases per constraint: `<2` alone would refuse them.
        assert_eq!(pick(Some("~1.2.0-0")).unwrap(), "1.2.0-rc.1");
        assert_eq!(pick(Some(">=1.2.0-0 <3")).unwrap(), "2.0.0");
        assert_eq!(pick(Some(">=1.1.0-0 <2")).unwrap(), "v1.1.5");
        assert_eq!(pick(Some("1.2.0-rc.1")).unwrap(), "1.2.0-rc.1");
        assert_eq!(pick(Some("v1.1.5")).unwrap(), "v1.1.5");
        // What `devel: true` asks for (helm's --devel): the highest, pre-releases too.
        let devel = ["1.0.0", "2.0.0-rc.1"];
        assert_eq!(
            devel[choose(&devel, Some(">0.0.0-0")).unwrap()],
            "2.0.0-rc.1"
        );
    }

    #[test]
    fn explains_what_exists_when_nothing_matches() {
        let err = pick(Some("~3.0")).unwrap_err();
        assert!(
            err.contains("`~3.0`") && err.contains("2.0.0, 1.2.0-rc.1, v1.1.5"),
            "{err}"
        );
        assert!(
            pick(Some("not a version"))
                .unwrap_err()
                .contains("constraint")
        );
        let err = choose(&["1.0.0-alpha"], None).unwrap_err();
        assert!(err.contains("pre-releases"), "{err}");
    }

    #[test]
    fn finds_charts_by_name() {
        let index = Index::parse(
            b"apiVersion: v1\nentries:\n  app:\n  - version: 1.0.0\n    urls: [app-1.0.0.tgz]\n    digest: abc\n",
        )
        .unwrap();
        assert_eq!(index.find("app", None).unwrap().urls, ["app-1.0.0.tgz"]);
        assert!(
            index
                .find("ap", None)
                .unwrap_err()
                .contains("did you mean app")
        );
    }
}
