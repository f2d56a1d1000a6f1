use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use crate::cli::GlobalArgs;
use crate::cli::session::{Session, interrupt};
use crate::report;
use crate::sync::destroy_plan;

pub fn run(global: &GlobalArgs) -> Result<ExitCode> {
    let session = Session::load(global)?;
    let (runtime, cluster) = session.connect(global)?;
    let progress = report::progress::for_stderr(global.quiet);
    let outcome = runtime.block_on(destroy_plan(
        &cluster,
        &session.spec,
        &session.plan,
        global.concurrency,
        progress.as_ref(),
        interrupt(),
    ));
    std::io::stdout()
        .lock()
        .write_all(report::run::summary(&outcome).as_bytes())?;
    Ok(if outcome.failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
