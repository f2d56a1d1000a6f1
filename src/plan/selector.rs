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

/// Properties of selector parsing and matching, on generated selectors and labels.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A selector term as (key, negated, value), from helmfile's label characters.
    fn term() -> impl Strategy<Value = (String, bool, String)> {
        ("[a-z0-9_./+-]{1,8}", any::<bool>(), "[a-zA-Z0-9_./+-]{1,8}")
    }

    /// Terms over a tiny alphabet, so they often hit the labels of `labels()`.
    fn close_term() -> impl Strategy<Value = (String, bool, String)> {
        ("[a-c]", any::<bool>(), "[xy]")
    }

    fn labels() -> impl Strategy<Value = BTreeMap<String, String>> {
        prop::collection::btree_map("[a-c]", "[xy]", 0..3)
    }

    fn text(terms: &[(String, bool, String)]) -> String {
        terms
            .iter()
            .map(|(key, negated, value)| {
                format!("{key}{}{value}", if *negated { "!=" } else { "=" })
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// helmfile's meaning, written out: every term holds; `k!=v` holds when `k` is not `v`,
    /// also when the release has no label `k`.
    fn model(terms: &[(String, bool, String)], labels: &BTreeMap<String, String>) -> bool {
        terms
            .iter()
            .all(|(key, negated, value)| match labels.get(key) {
                Some(actual) if *negated => actual != value,
                Some(actual) => actual == value,
                None => *negated,
            })
    }

    proptest! {
        #[test]
        fn any_text_parses_or_fails_without_panicking(text in "\\PC{0,30}") {
            let _ = text.parse::<Selector>();
        }

        #[test]
        fn generated_selectors_parse_and_keep_their_text(
            terms in prop::collection::vec(term(), 1..5)
        ) {
            let text = text(&terms);
            let selector: Selector = text.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(selector.as_str(), text.as_str());
        }

        #[test]
        fn matching_agrees_with_the_model(
            terms in prop::collection::vec(close_term(), 1..4), labels in labels()
        ) {
            let selector: Selector = text(&terms).parse().unwrap();
            prop_assert_eq!(selector.matches(&labels), model(&terms, &labels));
        }

        #[test]
        fn one_bad_term_fails_the_selector_and_is_named(
            terms in prop::collection::vec(term(), 1..4),
            which in any::<prop::sample::Index>(),
            damage in 0..4usize,
        ) {
            let texts: Vec<String> = terms.iter().map(|t| text(std::slice::from_ref(t))).collect();
            let index = which.index(texts.len());
            let (key, _, value) = &terms[index];
            let bad = match damage {
                0 => key.clone(),
                1 => format!("{key}="),
                2 => format!("={value}"),
                _ => format!("{key}=a b"),
            };
            let mut damaged = texts;
            damaged[index] = bad.clone();
            let selector = damaged.join(",");
            let error = selector.parse::<Selector>().unwrap_err().to_string();
            prop_assert!(error.contains(&format!("`{bad}` is not key=value")), "{}", error);
        }
    }
}
