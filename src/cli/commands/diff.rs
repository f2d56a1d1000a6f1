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
use crate::report;

#[derive(Args)]
pub struct DiffArgs {
    /// Lines of context around each change
    #[arg(long, default_value_t = 3, value_name = "N")]
    context: usize,
    /// Exit 2 when there are changes (0 when none, 1 on error)
    #[arg(long)]
    detailed_exitcode: bool,
    /// text for a terminal or log, json for tools, markdown for a pull-request comment
    #[arg(short, long, value_enum, default_value_t = DiffFormat::Text)]
    output: DiffFormat,
    /// Only the summary: the releases that change, their counts and hooks (in JSON, the
    /// objects without their diff text)
    #[arg(long)]
    summary: bool,
    /// With -o markdown: the most characters the comment may have; diffs past it are cut
    /// and named (GitHub takes 65536)
    #[arg(
        long,
        default_value_t = 65000,
        value_name = "CHARS",
        value_parser = clap::value_parser!(u32).range(diff::MIN_COMMENT_CHARS as i64..),
    )]
    max_size: u32,
}

#[derive(Clone, Copy, ValueEnum)]
enum DiffFormat {
    Text,
    Json,
    Markdown,
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
    let max_chars = args.max_size as usize;
    let text = match (args.output, args.summary) {
        (DiffFormat::Text, false) => diff::render_text(&diffs, std::io::stdout().is_terminal()),
        (DiffFormat::Text, true) => report::diff_summary::text(&diffs),
        (DiffFormat::Json, false) => format!("{:#}\n", diff::render_json(&diffs)),
        (DiffFormat::Json, true) => format!("{:#}\n", diff::render_json_summary(&diffs)),
        (DiffFormat::Markdown, false) => diff::render_markdown(&diffs, max_chars),
        (DiffFormat::Markdown, true) => diff::render_markdown_summary(&diffs, max_chars),
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
