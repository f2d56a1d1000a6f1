use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::cli::GlobalArgs;
use crate::cli::session::Session;
use crate::render::checks;

pub fn run(global: &GlobalArgs) -> Result<ExitCode> {
    let session = Session::load(global)?;
    let rendered = session.render(global, None)?;
    let problems = checks::problems(&session.spec, &rendered);
    if !problems.is_empty() {
        bail!("{} problems:\n{}", problems.len(), problems.join("\n"));
    }
    let objects: usize = rendered.iter().map(|r| r.manifests.len()).sum();
    println!("ok: {} releases, {objects} objects", rendered.len());
    Ok(ExitCode::SUCCESS)
}
