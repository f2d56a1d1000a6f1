//! `orch deps` and `orch fetch`: the fetch stage on its own, to fill the cache for offline
//! runs (`--skip-deps`) or to look at the charts the releases would render.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use crate::cli::GlobalArgs;
use crate::cli::session::Session;
use crate::fetch::{self, Fetcher};
use crate::report;

/// Fetches the selected releases' charts and dependencies into the cache; prints what each
/// release resolved to.
pub fn deps(global: &GlobalArgs) -> Result<ExitCode> {
    let session = Session::load(global)?;
    let fetcher = Fetcher::new(&session.spec.repositories, &global.fetch_options())?;
    let charts = session.fetch(&fetcher, &session.desired())?;
    let rows: Vec<Vec<String>> = charts
        .iter()
        .map(|(index, chart)| {
            let release = &session.spec.releases[*index];
            vec![
                release.id.to_string(),
                release.chart.clone(),
                chart.version.clone().unwrap_or_else(|| "-".into()),
                chart.origin.as_str().to_string(),
            ]
        })
        .collect();
    let table = report::table(&["RELEASE", "CHART", "VERSION", "SOURCE"], &rows);
    std::io::stdout().lock().write_all(table.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct FetchArgs {
    /// Write each chart to DIR/<namespace>/<release>/<chart>/
    #[arg(long, value_name = "DIR")]
    output_dir: PathBuf,
}

/// Writes the selected releases' charts, as they would render (dependencies included).
pub fn fetch(global: &GlobalArgs, args: &FetchArgs) -> Result<ExitCode> {
    let session = Session::load(global)?;
    let fetcher = Fetcher::new(&session.spec.repositories, &global.fetch_options())?;
    let charts = session.fetch(&fetcher, &session.desired())?;
    for (index, chart) in &charts {
        let release = &session.spec.releases[*index];
        let dest = args
            .output_dir
            .join(&release.id.namespace)
            .join(&release.id.name)
            .join(release.chart_name());
        fetch::export(&chart.dir, &dest)
            .with_context(|| format!("release {}: cannot write its chart", release.id))?;
        tracing::info!("wrote {}", dest.display());
    }
    Ok(ExitCode::SUCCESS)
}
