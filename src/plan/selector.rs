//! Label selectors with helmfile's semantics: `-l a=b,c!=d` ANDs its terms; several `-l`
//! flags OR. A `!=` term also matches releases that lack the label.

use std::collections::BTreeMap;
use std::str::FromStr;

use super::PlanError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    text: String,
    terms: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    key: String,
    value: String,
    negated: bool,
}

impl FromStr for Selector {
    type Err = PlanError;

    fn from_str(text: &str) -> Result<Self, PlanError> {
        let terms = text
            .split(',')
            .map(|term| {
                parse_term(term).ok_or_else(|| PlanError::BadSelector {
                    selector: text.to_string(),
                    term: term.to_string(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Selector {
            text: text.to_string(),
            terms,
        })
    }
}

fn parse_term(term: &str) -> Option<Term> {
    let (key, value, negated) = match term.split_once("!=") {
        Some((key, value)) => (key, value, true),
        None => {
            let (key, value) = term.split_once('=')?;
            (key, value, false)
        }
    };
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '+' | '-'))
    };
    (valid(key) && valid(value)).then(|| Term {
        key: key.to_string(),
        value: value.to_string(),
        negated,
    })
}

impl Selector {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.terms.iter().all(|term| {
            let equal = labels.get(&term.key) == Some(&term.value);
            equal != term.negated
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn terms_and_together() {
        let s: Selector = "tier=apps,name!=server".parse().unwrap();
        assert!(s.matches(&labels(&[("tier", "apps"), ("name", "orders")])));
        assert!(!s.matches(&labels(&[("tier", "apps"), ("name", "server")])));
        assert!(!s.matches(&labels(&[("tier", "infra"), ("name", "orders")])));
    }

    #[test]
    fn negation_matches_a_missing_label() {
        let s: Selector = "team!=core".parse().unwrap();
        assert!(s.matches(&labels(&[])));
    }

    #[test]
    fn malformed_selectors_are_errors_naming_the_term() {
        for bad in [
            "tier",
            "tier=",
            "=apps",
            "tier==apps",
            "a=b,,c=d",
            "ti er=x",
            "a=b=c",
        ] {
            let err = bad.parse::<Selector>().unwrap_err().to_string();
            assert!(err.contains("malformed"), "{bad}: {err}");
        }
    }

    #[test]
    fn allows_helmfile_characters() {
        assert!("app.kubernetes.io/name=x-y_z+1".parse::<Selector>().is_ok());
    }
}
