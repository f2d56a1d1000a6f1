//! The release DAG: an edge from each release to each release it `needs`.

use std::collections::{HashMap, VecDeque};

use petgraph::Direction;
use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::config::{ReleaseSpec, yaml::did_you_mean};

use super::PlanError;

/// Releases (by index into the spec's list) and their resolved needs.
#[derive(Debug)]
pub struct ReleaseGraph {
    /// Edge `a -> b`: release `a` needs release `b`. Node weights are release indices,
    /// equal to node indices.
    graph: DiGraph<usize, ()>,
    /// Longest chain of needs below each release: 0 for releases that need nothing.
    depth: Vec<usize>,
}

impl ReleaseGraph {
    pub fn build(releases: &[ReleaseSpec]) -> Result<Self, PlanError> {
        let mut graph = DiGraph::with_capacity(releases.len(), releases.len());
        let mut by_key: HashMap<(Option<&str>, &str, &str), usize> = HashMap::new();
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        for (index, release) in releases.iter().enumerate() {
            graph.add_node(index);
            let key = (
                release.kube_context.as_deref(),
                release.id.namespace.as_str(),
                release.id.name.as_str(),
            );
            if let Some(first) = by_key.insert(key, index) {
                return Err(PlanError::DuplicateRelease {
                    release: release.id.to_string(),
                    first: releases[first].defined_at.clone(),
                    second: release.defined_at.clone(),
                });
            }
            by_name
                .entry(release.id.name.as_str())
                .or_default()
                .push(index);
        }
        for (index, release) in releases.iter().enumerate() {
            for need in &release.needs {
                let target = resolve_need(need, release, &by_key, &by_name, releases)?;
                graph.add_edge(NodeIndex::new(index), NodeIndex::new(target), ());
            }
        }
        let order = toposort(&graph, None).map_err(|cycle| {
            let path = cycle_path(&graph, cycle.node_id());
            PlanError::Cycle {
                at: releases[path[0]].defined_at.clone(),
                path: path
                    .into_iter()
                    .map(|i| releases[i].id.to_string())
                    .collect(),
            }
        })?;
        // toposort puts a release before what it needs; walk it backwards so needs come first.
        let mut depth = vec![0; releases.len()];
        for node in order.into_iter().rev() {
            depth[node.index()] = graph
                .neighbors_directed(node, Direction::Outgoing)
                .map(|need| depth[need.index()] + 1)
                .max()
                .unwrap_or(0);
        }
        Ok(ReleaseGraph { graph, depth })
    }

    /// The releases `release` needs directly.
    pub fn needs(&self, release: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph
            .edges_directed(NodeIndex::new(release), Direction::Outgoing)
            .map(|edge| edge.target().index())
    }

    /// The members of `subset` that must finish before `release` starts: its needs, and
    /// through needs outside the subset, theirs, as unselected needs still order the
    /// selected releases.
    pub fn needs_within(&self, release: usize, subset: &[bool]) -> Vec<usize> {
        let mut found = Vec::new();
        let mut seen = vec![false; subset.len()];
        let mut stack: Vec<usize> = self.needs(release).collect();
        while let Some(next) = stack.pop() {
            if std::mem::replace(&mut seen[next], true) {
                continue;
            }
            if subset[next] {
                found.push(next);
            } else {
                stack.extend(self.needs(next));
            }
        }
        found.sort_unstable();
        found
    }

    /// Every release `release` needs, directly or through others.
    pub fn transitive_needs(&self, release: usize) -> Vec<usize> {
        let mut seen = vec![false; self.depth.len()];
        let mut stack: Vec<usize> = self.needs(release).collect();
        while let Some(next) = stack.pop() {
            if !std::mem::replace(&mut seen[next], true) {
                stack.extend(self.needs(next));
            }
        }
        (0..seen.len()).filter(|&i| seen[i]).collect()
    }

    /// The members of `subset` in groups that can run together: each group only needs
    /// releases of earlier groups. Within a group, releases keep their file order.
    pub fn groups(&self, subset: &[bool]) -> Vec<Vec<usize>> {
        let mut by_depth: Vec<Vec<usize>> = Vec::new();
        for (release, &depth) in self.depth.iter().enumerate() {
            if subset[release] {
                if by_depth.len() <= depth {
                    by_depth.resize(depth + 1, Vec::new());
                }
                by_depth[depth].push(release);
            }
        }
        by_depth.retain(|group| !group.is_empty());
        by_depth
    }
}

fn resolve_need(
    need: &str,
    release: &ReleaseSpec,
    by_key: &HashMap<(Option<&str>, &str, &str), usize>,
    by_name: &HashMap<&str, Vec<usize>>,
    releases: &[ReleaseSpec],
) -> Result<usize, PlanError> {
    let context = release.kube_context.as_deref();
    let parts: Vec<&str> = need.split('/').collect();
    let found = match parts.as_slice() {
        [name] => by_key
            .get(&(context, release.id.namespace.as_str(), name))
            .copied()
            .or_else(|| match by_name.get(name).map(Vec::as_slice) {
                // A bare name from another namespace is accepted when it is unambiguous.
                Some([only]) => Some(*only),
                _ => None,
            }),
        [namespace, name] => by_key.get(&(context, namespace, name)).copied(),
        [kube_context, namespace, name] => {
            by_key.get(&(Some(*kube_context), namespace, name)).copied()
        }
        _ => None,
    };
    found.ok_or_else(|| {
        let candidates: Vec<String> = releases.iter().map(|r| r.id.to_string()).collect();
        let ambiguous = parts.len() == 1 && by_name.get(need).is_some_and(|all| all.len() > 1);
        PlanError::UnknownNeed {
            at: release.defined_at.clone(),
            release: release.id.to_string(),
            need: need.to_string(),
            hint: if ambiguous {
                format!(
                    "; several namespaces have a release `{need}`: write it as namespace/{need} ({})",
                    by_name[need].iter().map(|&i| releases[i].id.to_string()).collect::<Vec<_>>().join(", ")
                )
            } else {
                let qualified = if parts.len() == 1 {
                    format!("{}/{need}", release.id.namespace)
                } else {
                    need.to_string()
                };
                did_you_mean(&qualified, &candidates)
                    .map(|close| format!(" (did you mean `{close}`?)"))
                    .unwrap_or_default()
            },
        }
    })
}

/// A cycle through `start`, as release indices from `start` back to it.
fn cycle_path(graph: &DiGraph<usize, ()>, start: NodeIndex) -> Vec<usize> {
    // Breadth-first from start's needs until start is reached again, remembering parents.
    let mut parent: HashMap<NodeIndex, NodeIndex> = HashMap::new();
    let mut queue: VecDeque<NodeIndex> = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for next in graph.neighbors_directed(node, Direction::Outgoing) {
            if next == start {
                let mut middle = Vec::new();
                let mut at = node;
                while at != start {
                    middle.push(at.index());
                    at = parent[&at];
                }
                middle.reverse();
                let mut cycle = vec![start.index()];
                cycle.extend(middle);
                // Start from the release defined first, so the same cycle always reads the same.
                let first = (0..cycle.len()).min_by_key(|&i| cycle[i]).unwrap_or(0);
                cycle.rotate_left(first);
                cycle.push(cycle[0]);
                return cycle;
            }
            if let std::collections::hash_map::Entry::Vacant(entry) = parent.entry(next) {
                entry.insert(node);
                queue.push_back(next);
            }
        }
    }
    vec![start.index(), start.index()]
}
