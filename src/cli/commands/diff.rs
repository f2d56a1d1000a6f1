use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};

use crate::cli::GlobalArgs;
use crate::cli::session::Session;
use crate::config::HookEvent;
use crate::diff::{self, DiffSummary};
use crate::render::Reading;
use crate::render::checks::Documents;

#[derive(Args)]
pub struct DiffArgs {
    /// Lines of context around each change
    #[arg(long, default_value_t = 3, value_name = "N")]
    context: usize,
    /// Exit 2 when there are changes (0 when none, 1 on error)
    #[arg(long)]
    detailed_exitcode: bool,
    #[arg(short, long, value_enum, default_value_t = DiffFormat::Text)]
    output: DiffFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum DiffFormat {
    Text,
    Json,
}

pub fn run(global: &GlobalArgs, args: &DiffArgs) -> Result<ExitCode> {
    let session = Session::load(global)?;
    session.run_hooks(global, HookEvent::Prepare)?;
    let connection = session.connect(global)?;
    let rendered = session.render(
        global,
        Some(session.cluster_views(&connection)?),
        Reading::Whole,
        Documents::Objects,
    )?;
    let diffs = session.diffs(&connection, &rendered, args.context)?;
    let summary = DiffSummary::of(&diffs);
    let text = match args.output {
        DiffFormat::Text => diff::render_text(&diffs, std::io::stdout().is_terminal()),
        DiffFormat::Json => format!("{:#}\n", diff::render_json(&diffs)),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    session.run_hooks(global, HookEvent::Cleanup)?;
    // The other clusters' diffs are shown; the releases of one that cannot be reached fail.
    Ok(if session.report_unreachable(&connection) {
        ExitCode::FAILURE
    } else if args.detailed_exitcode && !summary.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
