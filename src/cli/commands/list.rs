use std::io::Write;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};

use crate::cli::GlobalArgs;
use crate::cli::session::Session;
use crate::report;

#[derive(Args)]
pub struct ListArgs {
    #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
    output: ListFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum ListFormat {
    Table,
    Json,
}

pub fn run(global: &GlobalArgs, args: &ListArgs) -> Result<ExitCode> {
    let session = Session::load(global)?;
    // File order, as helmfile lists; disabled and uninstalled releases are listed too.
    let releases: Vec<_> = session
        .spec
        .releases
        .iter()
        .zip(&session.plan.selected)
        .filter_map(|(release, &selected)| selected.then_some(release))
        .collect();
    let text = match args.output {
        ListFormat::Table => report::releases::table(&releases),
        ListFormat::Json => report::releases::json(&releases),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
