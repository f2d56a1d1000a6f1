use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use futures::future::try_join_all;

use crate::cli::GlobalArgs;
use crate::cli::session::Session;
use crate::report;
use crate::sync::status::{Deployed, deployed_revision};

#[derive(Args)]
pub struct ListArgs {
    #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
    output: ListFormat,
    /// Add each release's revision and status in the cluster
    #[arg(long)]
    cluster: bool,
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
    let mut unreachable = false;
    let deployed: Option<Vec<Deployed>> = if args.cluster {
        let connection = session.connect(global)?;
        let clusters: Vec<_> = releases
            .iter()
            .map(|r| connection.clusters.get(r.kube_context.as_deref()))
            .collect();
        unreachable = clusters.iter().any(Result::is_err);
        let found =
            connection
                .runtime
                .block_on(try_join_all(releases.iter().zip(clusters).map(
                    |(r, cluster)| {
                        async move {
                            match cluster {
                                Ok(cluster) => deployed_revision(cluster, &r.id).await,
                                // Listed all the same, as what it is: the other clusters' releases show.
                                Err(why) => {
                                    tracing::error!("release {}: {why}", r.id);
                                    Ok(Deployed {
                                        revision: None,
                                        status: Some("unreachable".into()),
                                    })
                                }
                            }
                        }
                    },
                )))?;
        Some(found)
    } else {
        None
    };
    let selected = !global.selectors.is_empty();
    let labels: Vec<_> = releases
        .iter()
        .map(|release| crate::plan::labels_as_listed(release, selected))
        .collect();
    let text = match args.output {
        ListFormat::Table => report::releases::table(&releases, &labels, deployed.as_deref()),
        ListFormat::Json => report::releases::json(&releases, &labels, deployed.as_deref()),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(if unreachable {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
