use std::io::Write;
use std::path::PathBuf;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use crate::cli::GlobalArgs;
use crate::cli::session::Session;
use crate::config::HookEvent;

#[derive(Args)]
pub struct WriteValuesArgs {
    /// Write DIR/<namespace>/<release>.yaml files instead of printing
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
}

pub fn run(global: &GlobalArgs, args: &WriteValuesArgs) -> Result<ExitCode> {
    let session = Session::load(global)?;
    session.run_hooks(global, HookEvent::Prepare)?;
    let mut out = String::new();
    for release in session.plan.desired(&session.spec) {
        let values = session.spec.values_files(release, &session.overrides)?;
        // As helmfile writes them (go-yaml): helm, a YAML 1.1 reader, reads `"yes"` back
        // as a string only if it is quoted.
        let yaml = format!("{}\n", helm_engine::json_to_yaml(&values));
        match &args.output_dir {
            Some(dir) => {
                let path = dir
                    .join(&release.id.namespace)
                    .join(format!("{}.yaml", release.id.name));
                std::fs::create_dir_all(path.parent().unwrap_or(dir))
                    .and_then(|()| std::fs::write(&path, &yaml))
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            None => out.push_str(&format!("---\n# Release: {}\n{yaml}", release.id)),
        }
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    session.run_hooks(global, HookEvent::Cleanup)?;
    Ok(ExitCode::SUCCESS)
}
