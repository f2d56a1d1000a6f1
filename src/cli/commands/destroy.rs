use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::cli::GlobalArgs;
use crate::cli::session::{Session, interrupt};
use crate::report;
use crate::sync::{SyncOptions, destroy_plan};

#[derive(Args)]
pub struct DestroyArgs {
    /// Take over releases whose latest revision a run that died left pending
    #[arg(long)]
    force_unlock: bool,
}

pub fn run(global: &GlobalArgs, args: &DestroyArgs) -> Result<ExitCode> {
    let session = Session::load(global)?;
    let connection = session.connect(global)?;
    let progress = report::progress::for_stderr(global.quiet, global.json_logs());
    let outcome = connection.runtime.block_on(destroy_plan(
        &connection.clusters,
        &session.spec,
        &session.plan,
        &SyncOptions {
            concurrency: global.concurrency,
            force_unlock: args.force_unlock,
            ..SyncOptions::default()
        },
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
