use std::io::Write;
use std::path::PathBuf;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use crate::cli::GlobalArgs;
use crate::cli::session::Session;
use crate::config::HookEvent;
use crate::render::Reading;
use crate::render::checks::Documents;
use crate::report;

#[derive(Args)]
pub struct TemplateArgs {
    /// Write manifests to DIR/<namespace>/<release>/<template> instead of stdout
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
}

pub fn run(global: &GlobalArgs, args: &TemplateArgs) -> Result<ExitCode> {
    let session = Session::load(global)?;
    session.run_hooks(global, HookEvent::Prepare)?;
    let rendered = session.render(global, None, Reading::Heads, Documents::AnyYaml)?;
    match &args.output_dir {
        Some(dir) => {
            let files = report::manifests::write_dir(dir, &session.spec, &rendered)
                .with_context(|| format!("cannot write manifests under {}", dir.display()))?;
            tracing::info!("wrote {} files under {}", files.len(), dir.display());
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            report::manifests::write_stream(&mut out, &rendered)?;
            out.flush()?;
        }
    }
    session.run_hooks(global, HookEvent::Cleanup)?;
    Ok(ExitCode::SUCCESS)
}
