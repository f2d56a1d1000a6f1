use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::cli::GlobalArgs;
use crate::cli::session::{Session, interrupt};
use crate::config::HookEvent;
use crate::diff::{self, DiffSummary};
use crate::render::Reading;
use crate::render::checks::Documents;
use crate::report;
use crate::sync::{SyncOptions, sync_plan};

#[derive(Args)]
pub struct SyncArgs {
    /// Take over fields that other field managers own
    #[arg(long)]
    force_conflicts: bool,
    /// Roll back every release that fails (uninstall a failed first install)
    #[arg(long)]
    atomic: bool,
    /// Take over releases whose latest revision a run that died left pending
    #[arg(long)]
    force_unlock: bool,
}

/// The exit code of a run stopped by Ctrl-C, as shells report SIGINT.
const INTERRUPTED: u8 = 130;

/// `orch sync`, or with `review` `orch apply`: the diff first, and no sync without changes.
pub fn run(global: &GlobalArgs, args: &SyncArgs, review: bool) -> Result<ExitCode> {
    let session = Session::load(global)?;
    session.run_hooks(global, HookEvent::Prepare)?;
    let connection = session.connect(global)?;
    let rendered = session.render(
        global,
        Some(session.cluster_views(&connection)?),
        Reading::Whole,
        Documents::Objects,
    )?;
    let spec = &session.spec;
    if review {
        let diffs = session.diffs(&connection, &rendered, 3)?;
        let text = diff::render_text(&diffs, std::io::stdout().is_terminal());
        std::io::stdout().lock().write_all(text.as_bytes())?;
        // A release whose cluster cannot be reached has no diff: the sync fails it.
        if DiffSummary::of(&diffs).is_empty() && session.unreachable(&connection).is_empty() {
            session.run_hooks(global, HookEvent::Cleanup)?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    let options = SyncOptions {
        force_conflicts: args.force_conflicts,
        atomic: args.atomic,
        concurrency: global.concurrency,
        force_unlock: args.force_unlock,
    };
    let progress = report::progress::for_stderr(global.quiet, global.json_logs());
    let outcome = connection.runtime.block_on(sync_plan(
        &connection.clusters,
        spec,
        &session.plan,
        &rendered,
        &options,
        progress.as_ref(),
        interrupt(),
    ));
    std::io::stdout()
        .lock()
        .write_all(report::run::summary(&outcome).as_bytes())?;
    session.run_hooks(global, HookEvent::Cleanup)?;
    Ok(if outcome.interrupted {
        ExitCode::from(INTERRUPTED)
    } else if outcome.failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
