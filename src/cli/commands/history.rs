use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};

use crate::cli::GlobalArgs;
use crate::cli::session::Session;
use crate::report;
use crate::sync::history;

#[derive(Args)]
pub struct HistoryArgs {
    /// The release: its name, or namespace/name
    release: String,
    /// Show at most this many of the latest revisions (0: all)
    #[arg(long, default_value_t = 256)]
    max: usize,
    #[arg(short, long, value_enum, default_value_t = HistoryFormat::Table)]
    output: HistoryFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum HistoryFormat {
    Table,
    Json,
}

pub fn run(global: &GlobalArgs, args: &HistoryArgs) -> Result<ExitCode> {
    let mut session = Session::load(global)?;
    let index = session.select_one(&args.release)?;
    let connection = session.connect(global)?;
    let cluster = session.cluster_of(&connection, index)?;
    let id = &session.spec.releases[index].id;
    let records = connection
        .runtime
        .block_on(history::load(cluster, id))
        .map_err(|e| anyhow::anyhow!("release {id}: {e}"))?;
    if records.is_empty() {
        anyhow::bail!("release {id}: not installed: it has no revisions");
    }
    let lines = report::history::lines(&records, args.max);
    let text = match args.output {
        HistoryFormat::Table => report::history::table(&lines),
        HistoryFormat::Json => format!("{}\n", serde_json::to_string_pretty(&lines)?),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
