use std::io::Write;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};

use crate::cli::GlobalArgs;
use crate::cli::session::Session;
use crate::report;

#[derive(Args)]
pub struct GraphArgs {
    #[arg(short, long, value_enum, default_value_t = GraphFormat::Table)]
    output: GraphFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    /// Run groups: each group only needs releases of earlier groups
    Table,
    Dot,
    Mermaid,
}

pub fn run(global: &GlobalArgs, args: &GraphArgs) -> Result<ExitCode> {
    let session = Session::load(global)?;
    let (spec, plan) = (&session.spec, &session.plan);
    let text = match args.output {
        GraphFormat::Table => report::graph::table(spec, plan),
        GraphFormat::Dot => report::graph::dot(spec, plan),
        GraphFormat::Mermaid => report::graph::mermaid(spec, plan),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
