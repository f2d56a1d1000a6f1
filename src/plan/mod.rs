//! The plan stage: the release DAG, label selection, and the order releases run in.

mod graph;
mod selector;

use std::collections::BTreeMap;

pub use graph::ReleaseGraph;
pub use selector::Selector;

use crate::config::{Location, ReleaseSpec, Spec};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{second}: release {release} is defined twice (first at {first})")]
    DuplicateRelease {
        release: String,
        first: Location,
        second: Location,
    },
    #[error("{at}: release {release} needs `{need}`, which is not a release{hint}")]
    UnknownNeed {
        at: Location,
        release: String,
        need: String,
        hint: String,
    },
    /// `at` is where the first release of the cycle is defined.
    #[error("{at}: releases need each other in a cycle: {}", path.join(" -> "))]
    Cycle { at: Location, path: Vec<String> },
    #[error("malformed selector `{selector}`: `{term}` is not key=value or key!=value")]
    BadSelector { selector: String, term: String },
    /// A sub-helmfile entry's own `selectors` are wrong.
    #[error("{at}: helmfiles: selectors: {error}")]
    InSubHelmfileEntry { at: Location, error: Box<PlanError> },
    #[error(
        "no release matches {}; pass --allow-no-matching-release if that is expected",
        describe(selectors)
    )]
    NoMatchingRelease { selectors: Vec<String> },
}

fn describe(selectors: &[String]) -> String {
    selectors
        .iter()
        .map(|s| format!("-l {s}"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Which needs of the selected releases join the selection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IncludeNeeds {
    /// Needs outside the selection are not run, but still order the selected releases.
    #[default]
    None,
    Direct,
    Transitive,
}

#[derive(Debug, Default)]
pub struct SelectOptions {
    pub selectors: Vec<Selector>,
    pub include_needs: IncludeNeeds,
    pub allow_no_matching_release: bool,
}

/// The releases to act on, ordered by the DAG.
#[derive(Debug)]
pub struct Plan {
    pub graph: ReleaseGraph,
    /// `selected[i]`: release `i` of the spec is acted on.
    pub selected: Vec<bool>,
}

impl Plan {
    pub fn new(spec: &Spec, options: &SelectOptions) -> Result<Plan, PlanError> {
        let graph = ReleaseGraph::build(&spec.releases)?;
        let mut selected = Vec::with_capacity(spec.releases.len());
        for release in &spec.releases {
            // As in helmfile, a selector never matches a release its condition disables.
            let labels = selection_labels(release);
            let matches = |selectors: &[Selector]| {
                release.enabled && selectors.iter().any(|s| s.matches(&labels))
            };
            // A sub-helmfile's own selectors replace the command line's for its releases.
            let chosen = match &release.file_selectors {
                None => options.selectors.is_empty() || matches(&options.selectors),
                Some(own) => {
                    let parsed = own
                        .selectors
                        .iter()
                        .map(|s| s.parse::<Selector>())
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|error| PlanError::InSubHelmfileEntry {
                            at: own.at.clone(),
                            error: Box::new(error),
                        })?;
                    matches(&parsed)
                }
            };
            selected.push(chosen);
        }
        if !options.selectors.is_empty() {
            let chosen: Vec<usize> = (0..selected.len()).filter(|&i| selected[i]).collect();
            for release in chosen {
                let needs: Vec<usize> = match options.include_needs {
                    IncludeNeeds::None => Vec::new(),
                    IncludeNeeds::Direct => graph.needs(release).collect(),
                    IncludeNeeds::Transitive => graph.transitive_needs(release),
                };
                for need in needs {
                    selected[need] = true;
                }
            }
            if !selected.contains(&true) && !options.allow_no_matching_release {
                return Err(PlanError::NoMatchingRelease {
                    selectors: options
                        .selectors
                        .iter()
                        .map(|s| s.as_str().to_string())
                        .collect(),
                });
            }
        }
        Ok(Plan { graph, selected })
    }

    /// Selected releases, needs before the releases that need them.
    pub fn ordered(&self) -> Vec<usize> {
        self.graph
            .groups(&self.selected)
            .into_iter()
            .flatten()
            .collect()
    }

    /// Selected releases that are to exist (installed and enabled), in DAG order.
    pub fn desired<'s>(&self, spec: &'s Spec) -> Vec<&'s ReleaseSpec> {
        self.ordered()
            .into_iter()
            .map(|i| &spec.releases[i])
            .filter(|release| release.desired())
            .collect()
    }
}

/// A release's labels as selectors see them: its own, plus helmfile's implicit `name`,
/// `namespace` and `chart`.
pub fn selection_labels(release: &ReleaseSpec) -> BTreeMap<String, String> {
    let mut labels = release.labels.clone();
    labels.insert("name".into(), release.id.name.clone());
    labels.insert("namespace".into(), release.id.namespace.clone());
    labels.insert("chart".into(), release.chart_name().to_string());
    labels
}

/// A release's labels as helmfile lists (and builds) them: as selecting left them, with the
/// implicit `name`, `namespace` and `chart`, wherever selectors were matched against its
/// state (given on the command line, or by its sub-helmfile entry).
pub fn labels_as_listed(release: &ReleaseSpec, selected: bool) -> BTreeMap<String, String> {
    if selected || release.file_selectors.is_some() {
        selection_labels(release)
    } else {
        release.labels.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LoadOptions, load};

    /// Loads a releases file whose releases are `name:needs` pairs in namespace `ns`
    /// (a need may be `other/name`); the first one also gets label `tier=db`.
    fn spec(releases: &[(&str, &[&str])]) -> Spec {
        let owned: Vec<(String, Vec<String>)> = releases
            .iter()
            .map(|(name, needs)| {
                (
                    name.to_string(),
                    needs.iter().map(|n| n.to_string()).collect(),
                )
            })
            .collect();
        spec_of(&owned)
    }

    fn spec_of(releases: &[(String, Vec<String>)]) -> Spec {
        let mut text = String::from("releases:\n");
        for (i, (name, needs)) in releases.iter().enumerate() {
            let (namespace, name) = name.split_once('/').unwrap_or(("ns", name));
            text.push_str(&format!(
                "  - name: {name}\n    namespace: {namespace}\n    chart: ./c\n    needs: [{}]\n",
                needs.join(", ")
            ));
            if i == 0 {
                text.push_str("    labels: {tier: db}\n");
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("helmfile.yaml");
        std::fs::write(&file, text).unwrap();
        load(&LoadOptions {
            file: Some(file),
            environment: "default".into(),
            sops_binary: "sops".into(),
            keep_as_read: false,
        })
        .unwrap()
    }

    /// Properties of the DAG, on generated needs graphs. Release `r{i}` is the file's i-th;
    /// a random order of the releases decides which may need which, so the file order is no
    /// help to the planner.
    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// `needs[i]`: the releases release i needs. Acyclic: i may need j only when j comes
        /// before i in `order`.
        fn acyclic_needs() -> impl Strategy<Value = Vec<Vec<usize>>> {
            (1usize..10)
                .prop_flat_map(|n| {
                    let order = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
                    (order, prop::collection::vec(any::<bool>(), n * n))
                })
                .prop_map(|(order, edges)| {
                    let n = order.len();
                    let mut needs = vec![Vec::new(); n];
                    for later in 0..n {
                        for earlier in 0..later {
                            if edges[later * n + earlier] {
                                needs[order[later]].push(order[earlier]);
                            }
                        }
                    }
                    needs
                })
        }

        fn load(needs: &[Vec<usize>]) -> Spec {
            let releases: Vec<(String, Vec<String>)> = needs
                .iter()
                .enumerate()
                .map(|(i, needs)| {
                    (
                        format!("r{i}"),
                        needs.iter().map(|j| format!("r{j}")).collect(),
                    )
                })
                .collect();
            spec_of(&releases)
        }

        /// Everything `from` needs, directly or not.
        fn reachable(needs: &[Vec<usize>], from: usize) -> Vec<usize> {
            let mut seen = vec![false; needs.len()];
            let mut stack = needs[from].clone();
            while let Some(next) = stack.pop() {
                if !std::mem::replace(&mut seen[next], true) {
                    stack.extend(&needs[next]);
                }
            }
            (0..needs.len()).filter(|&i| seen[i]).collect()
        }

        proptest! {
            #[test]
            fn acyclic_needs_always_plan_needs_first(needs in acyclic_needs()) {
                let s = load(&needs);
                let plan = Plan::new(&s, &SelectOptions::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let order = plan.ordered();
                let mut sorted = order.clone();
                sorted.sort_unstable();
                prop_assert_eq!(sorted, (0..needs.len()).collect::<Vec<_>>(), "each release once");
                let position = |r: usize| order.iter().position(|&x| x == r).unwrap();
                let groups = plan.graph.groups(&plan.selected);
                let group = |r: usize| groups.iter().position(|g| g.contains(&r)).unwrap();
                for (release, needs) in needs.iter().enumerate() {
                    for &need in needs {
                        prop_assert!(position(need) < position(release));
                        prop_assert!(group(need) < group(release));
                    }
                }
            }

            #[test]
            fn a_back_edge_is_a_cycle_whose_path_is_real(
                mut needs in acyclic_needs(),
                from in any::<prop::sample::Index>(),
                to in any::<prop::sample::Index>(),
            ) {
                // `from` already reaches `back_to` (or is it: a release needing itself);
                // `back_to` needing `from` closes a cycle.
                let from = from.index(needs.len());
                let mut targets = reachable(&needs, from);
                targets.push(from);
                let back_to = targets[to.index(targets.len())];
                needs[back_to].push(from);
                let error = Plan::new(&load(&needs), &SelectOptions::default()).unwrap_err();
                let PlanError::Cycle { path, .. } = error else {
                    return Err(TestCaseError::fail(format!("not a cycle: {error}")));
                };
                let path: Vec<usize> = path
                    .iter()
                    .map(|id| id.strip_prefix("ns/r").and_then(|i| i.parse().ok()).unwrap())
                    .collect();
                prop_assert!(path.len() >= 2 && path.first() == path.last(), "{:?}", path);
                for step in path.windows(2) {
                    prop_assert!(needs[step[0]].contains(&step[1]), "{:?} in {:?}", step, path);
                }
            }
        }
    }

    fn names(spec: &Spec, indices: &[usize]) -> Vec<String> {
        indices
            .iter()
            .map(|&i| spec.releases[i].id.name.clone())
            .collect()
    }

    fn select(
        spec: &Spec,
        selector: &str,
        include_needs: IncludeNeeds,
    ) -> Result<Vec<String>, PlanError> {
        let plan = Plan::new(
            spec,
            &SelectOptions {
                selectors: vec![selector.parse()?],
                include_needs,
                allow_no_matching_release: false,
            },
        )?;
        Ok(names(spec, &plan.ordered()))
    }

    #[test]
    fn needs_come_first_and_independent_releases_share_a_group() {
        let s = spec(&[
            ("app", &["db", "cache"]),
            ("db", &[]),
            ("cache", &[]),
            ("web", &["app"]),
        ]);
        let plan = Plan::new(&s, &SelectOptions::default()).unwrap();
        let groups: Vec<Vec<String>> = plan
            .graph
            .groups(&plan.selected)
            .iter()
            .map(|g| names(&s, g))
            .collect();
        assert_eq!(groups, vec![vec!["db", "cache"], vec!["app"], vec!["web"]]);
    }

    #[test]
    fn a_cycle_prints_its_path() {
        let text = {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("h.yaml");
            std::fs::write(
                &file,
                "releases:\n- {name: a, chart: ./c, needs: [b]}\n- {name: b, chart: ./c, needs: [c]}\n- {name: c, chart: ./c, needs: [a]}\n- {name: d, chart: ./c, needs: [a]}\n",
            )
            .unwrap();
            let spec = load(&LoadOptions {
                file: Some(file),
                environment: "default".into(),
                sops_binary: "sops".into(),
                keep_as_read: false,
            })
            .unwrap();
            Plan::new(&spec, &SelectOptions::default())
                .unwrap_err()
                .to_string()
        };
        assert!(
            [
                "default/a -> default/b -> default/c -> default/a",
                "default/b -> default/c -> default/a -> default/b",
                "default/c -> default/a -> default/b -> default/c"
            ]
            .iter()
            .any(|cycle| text.ends_with(cycle)),
            "{text}"
        );
    }

    #[test]
    fn a_release_needing_itself_is_a_cycle() {
        let s = spec(&[("a", &["a"])]);
        let err = Plan::new(&s, &SelectOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.ends_with("ns/a -> ns/a"), "{err}");
        assert!(
            err.contains("helmfile.yaml:2: releases need each other in a cycle"),
            "{err}"
        );
    }

    #[test]
    fn unknown_needs_suggest_the_close_one() {
        let s = spec(&[("postgres", &[]), ("app", &["postgre"])]);
        let err = Plan::new(&s, &SelectOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("needs `postgre`, which is not a release (did you mean `ns/postgres`?)"),
            "{err}"
        );
        assert!(err.contains("helmfile.yaml:"), "{err}");
    }

    #[test]
    fn needs_resolve_by_namespace_and_bare_names_when_unique() {
        let s = spec(&[
            ("infra/db", &[]),
            ("apps/api", &["infra/db"]),
            ("apps/web", &["api", "db"]),
        ]);
        let plan = Plan::new(&s, &SelectOptions::default()).unwrap();
        assert_eq!(names(&s, &plan.graph.needs(2).collect::<Vec<_>>()).len(), 2);
    }

    #[test]
    fn ambiguous_bare_names_are_errors() {
        let s = spec(&[("a/db", &[]), ("b/db", &[]), ("c/app", &["db"])]);
        let err = Plan::new(&s, &SelectOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("several namespaces"), "{err}");
    }

    #[test]
    fn duplicates_are_errors_with_both_places() {
        let s = spec(&[("a", &[]), ("a", &[])]);
        let err = Plan::new(&s, &SelectOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("defined twice (first at"), "{err}");
    }

    #[test]
    fn selection_with_and_without_needs() {
        let s = spec(&[
            ("db", &[]),
            ("app", &["db"]),
            ("web", &["app"]),
            ("other", &[]),
        ]);
        assert_eq!(
            select(&s, "name=web", IncludeNeeds::None).unwrap(),
            vec!["web"]
        );
        assert_eq!(
            select(&s, "name=web", IncludeNeeds::Direct).unwrap(),
            vec!["app", "web"]
        );
        assert_eq!(
            select(&s, "name=web", IncludeNeeds::Transitive).unwrap(),
            vec!["db", "app", "web"]
        );
        assert_eq!(
            select(&s, "tier=db", IncludeNeeds::None).unwrap(),
            vec!["db"]
        );
        assert_eq!(
            select(
                &s,
                "chart=c,name!=db,name!=app,name!=web",
                IncludeNeeds::None
            )
            .unwrap(),
            vec!["other"]
        );
    }

    #[test]
    fn unselected_needs_still_order_selected_releases() {
        let s = spec(&[("db", &[]), ("app", &["db"]), ("web", &["app"])]);
        let plan = Plan::new(
            &s,
            &SelectOptions {
                selectors: vec!["name=web".parse().unwrap(), "name=db".parse().unwrap()],
                ..SelectOptions::default()
            },
        )
        .unwrap();
        assert_eq!(names(&s, &plan.ordered()), vec!["db", "web"]);
        assert_eq!(
            names(&s, &plan.graph.needs_within(2, &plan.selected)),
            vec!["db"]
        );
    }

    #[test]
    fn selecting_nothing_is_an_error_unless_allowed() {
        let s = spec(&[("db", &[])]);
        let err = select(&s, "name=nope", IncludeNeeds::None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no release matches -l name=nope"), "{err}");
        let plan = Plan::new(
            &s,
            &SelectOptions {
                selectors: vec!["name=nope".parse().unwrap()],
                allow_no_matching_release: true,
                ..SelectOptions::default()
            },
        )
        .unwrap();
        assert!(plan.ordered().is_empty());
    }
}
