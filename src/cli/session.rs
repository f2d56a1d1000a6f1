//! What every command starts from: the loaded releases files, the selection, the
//! command-line values.

use anyhow::Result;

use crate::config::{self, LoadOptions, Overrides, Spec};
use crate::plan::{IncludeNeeds, Plan, SelectOptions, Selector};
use crate::render::{RenderOptions, RenderedRelease, Renderer};

use super::GlobalArgs;

pub struct Session {
    pub spec: Spec,
    pub plan: Plan,
    pub overrides: Overrides,
}

impl Session {
    pub fn load(global: &GlobalArgs) -> Result<Session> {
        // Parse what is cheap to get wrong first, so a typo in a flag reports before file errors.
        let selectors = global
            .selectors
            .iter()
            .map(|s| s.parse::<Selector>())
            .collect::<Result<Vec<_>, _>>()?;
        let overrides = Overrides::from_args(&global.values, &global.set)?;
        let spec = config::load(&LoadOptions {
            file: global.file.clone(),
            environment: global.environment.clone(),
        })?;
        let include_needs = if global.include_transitive_needs {
            IncludeNeeds::Transitive
        } else if global.include_needs {
            IncludeNeeds::Direct
        } else {
            IncludeNeeds::None
        };
        let plan = Plan::new(
            &spec,
            &SelectOptions {
                selectors,
                include_needs,
                allow_no_matching_release: global.allow_no_matching_release,
            },
        )?;
        Ok(Session {
            spec,
            plan,
            overrides,
        })
    }

    /// Renders the selected releases that are to exist, in DAG order. Every failure is
    /// reported, not just the first; any failure fails the whole render.
    pub fn render(&self, global: &GlobalArgs) -> Result<Vec<RenderedRelease>> {
        let renderer = Renderer::new(&RenderOptions {
            helm_binary: global.helm_binary.clone(),
            concurrency: global.concurrency,
            capabilities: None,
        })?;
        let releases: Vec<usize> = self
            .plan
            .ordered()
            .into_iter()
            .filter(|&i| self.spec.releases[i].desired())
            .collect();
        let mut rendered = Vec::with_capacity(releases.len());
        let mut failures = Vec::new();
        for result in renderer.render_all(&self.spec, &releases, &self.overrides) {
            match result {
                Ok(release) => rendered.push(release),
                Err(err) => failures.push(err.to_string()),
            }
        }
        match failures.len() {
            0 => Ok(rendered),
            1 => anyhow::bail!("{}", failures[0]),
            n => anyhow::bail!("{n} releases failed to render:\n{}", failures.join("\n")),
        }
    }
}
