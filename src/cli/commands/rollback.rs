use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use serde_json::json;

use crate::cli::GlobalArgs;
use crate::cli::session::Session;
use crate::report;
use crate::sync::rollback::{RollbackOptions, rollback_release};

#[derive(Args)]
pub struct RollbackArgs {
    /// The release: its name, or namespace/name
    release: String,
    /// The revision to go back to [default: the one before the latest]
    revision: Option<u32>,
    /// Wait until the restored objects are ready, whatever the release's `wait` says
    #[arg(long)]
    wait: bool,
    /// Run no pre-rollback or post-rollback hook
    #[arg(long)]
    no_hooks: bool,
    #[arg(short, long, value_enum, default_value_t = RollbackFormat::Text)]
    output: RollbackFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum RollbackFormat {
    Text,
    Json,
}

pub fn run(global: &GlobalArgs, args: &RollbackArgs) -> Result<ExitCode> {
    let mut session = Session::load(global)?;
    let index = session.select_one(&args.release)?;
    let connection = session.connect(global)?;
    let cluster = session.cluster_of(&connection, index)?;
    let release = &session.spec.releases[index];
    let progress = report::progress::for_stderr(global.quiet, global.json_logs());
    let options = RollbackOptions {
        wait: args.wait,
        no_hooks: args.no_hooks,
    };
    let done = connection
        .runtime
        .block_on(rollback_release(
            cluster,
            release,
            args.revision.filter(|&r| r > 0),
            options,
            progress.as_ref(),
        ))
        .map_err(|e| anyhow::anyhow!("release {}: rollback failed: {e}", release.id))?;
    let text = match args.output {
        RollbackFormat::Text => format!(
            "release {}: revision {} restores revision {}\n",
            release.id, done.revision, done.restored
        ),
        RollbackFormat::Json => format!(
            "{:#}\n",
            json!({"release": release.id.to_string(), "revision": done.revision, "restored": done.restored})
        ),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
