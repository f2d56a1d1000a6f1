use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use futures::{StreamExt, TryStreamExt, stream};

use crate::cli::GlobalArgs;
use crate::cli::session::Session;
use crate::render::Reading;
use crate::render::checks::Documents;
use crate::report;
use crate::sync::status::release_status;

#[derive(Args)]
pub struct StatusArgs {
    #[arg(short, long, value_enum, default_value_t = StatusFormat::Table)]
    output: StatusFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum StatusFormat {
    Table,
    Json,
}

pub fn run(global: &GlobalArgs, args: &StatusArgs) -> Result<ExitCode> {
    let session = Session::load(global)?;
    let connection = session.connect(global)?;
    let rendered = session.render(
        global,
        Some(session.cluster_views(&connection)?),
        Reading::Whole,
        Documents::Objects,
    )?;
    let statuses = connection.runtime.block_on(
        stream::iter(session.reachable(&connection))
            .map(|(index, cluster)| {
                let manifests = rendered
                    .iter()
                    .find(|r| r.index == index)
                    .map(|r| r.manifests.as_slice());
                let release = &session.spec.releases[index];
                let id = &release.id;
                async move {
                    release_status(cluster, release, manifests)
                        .await
                        .map_err(|e| anyhow::anyhow!("release {id}: {e}"))
                }
            })
            .buffered(8)
            .try_collect::<Vec<_>>(),
    )?;
    let text = match args.output {
        StatusFormat::Table => report::status::table(&statuses),
        StatusFormat::Json => format!("{}\n", serde_json::to_string_pretty(&statuses)?),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(if session.report_unreachable(&connection) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
