//! `orch graph`: the DAG as a table of run groups (like `helmfile show-dag`), DOT or Mermaid.

use crate::config::Spec;
use crate::plan::Plan;

/// Each selected release with the selected releases it waits for.
fn edges(plan: &Plan) -> Vec<(usize, Vec<usize>)> {
    plan.ordered()
        .into_iter()
        .map(|i| (i, plan.graph.needs_within(i, &plan.selected)))
        .collect()
}

pub fn table(spec: &Spec, plan: &Plan) -> String {
    let id = |i: usize| spec.releases[i].id.to_string();
    let mut rows = Vec::new();
    for (group, members) in plan.graph.groups(&plan.selected).iter().enumerate() {
        for &release in members {
            let needs = plan.graph.needs_within(release, &plan.selected);
            rows.push(vec![
                (group + 1).to_string(),
                id(release),
                needs.into_iter().map(id).collect::<Vec<_>>().join(", "),
            ]);
        }
    }
    super::table(&["GROUP", "RELEASE", "NEEDS"], &rows)
}

pub fn dot(spec: &Spec, plan: &Plan) -> String {
    let id = |i: usize| spec.releases[i].id.to_string();
    let mut out = String::from("digraph releases {\n  rankdir=LR;\n");
    for (release, needs) in edges(plan) {
        out.push_str(&format!("  \"{}\";\n", id(release)));
        for need in needs {
            out.push_str(&format!("  \"{}\" -> \"{}\";\n", id(release), id(need)));
        }
    }
    out.push_str("}\n");
    out
}

pub fn mermaid(spec: &Spec, plan: &Plan) -> String {
    // Mermaid node ids may not contain `/`; the label keeps the real id.
    let node = |i: usize| format!("r{i}[\"{}\"]", spec.releases[i].id);
    let mut out = String::from("flowchart LR\n");
    for (release, needs) in edges(plan) {
        if needs.is_empty() {
            out.push_str(&format!("  {}\n", node(release)));
        }
        for need in needs {
            out.push_str(&format!("  {} --> {}\n", node(release), node(need)));
        }
    }
    out
}
