use std::process::ExitCode;

use anyhow::Result;

use crate::cli::GlobalArgs;
use crate::cli::session::Session;
use crate::config::HookEvent;
use crate::render::Reading;
use crate::render::checks::Documents;

pub fn run(global: &GlobalArgs) -> Result<ExitCode> {
    let session = Session::load(global)?;
    session.run_hooks(global, HookEvent::Prepare)?;
    let rendered = session.render(global, None, Reading::Whole, Documents::Objects)?;
    let objects: usize = rendered.iter().map(|r| r.manifests.len()).sum();
    println!("ok: {} releases, {objects} objects", rendered.len());
    session.run_hooks(global, HookEvent::Cleanup)?;
    Ok(ExitCode::SUCCESS)
}
