use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use futures::{StreamExt, stream};
use serde_json::json;

use crate::cli::GlobalArgs;
use crate::cli::session::Session;
use crate::report;
use crate::report::chart_tests::Tested;
use crate::sync::chart_tests::test_release;

#[derive(Args)]
pub struct TestArgs {
    #[arg(short, long, value_enum, default_value_t = TestFormat::Text)]
    output: TestFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum TestFormat {
    Text,
    Json,
}

pub fn run(global: &GlobalArgs, args: &TestArgs) -> Result<ExitCode> {
    let session = Session::load(global)?;
    let connection = session.connect(global)?;
    let progress = report::progress::for_stderr(global.quiet, global.json_logs());
    let tested = connection.runtime.block_on(
        stream::iter(session.desired())
            .map(|index| {
                let release = &session.spec.releases[index];
                let cluster = session.cluster_of(&connection, index);
                let progress = progress.as_ref();
                async move {
                    let run = match cluster {
                        Ok(cluster) => test_release(cluster, release, progress)
                            .await
                            .map_err(|e| e.to_string()),
                        Err(unreachable) => Err(unreachable.to_string()),
                    };
                    Tested {
                        release: release.id.to_string(),
                        run,
                    }
                }
            })
            .buffered(crate::sync::effective_concurrency(global.concurrency))
            .collect::<Vec<_>>(),
    );
    let text = match args.output {
        TestFormat::Text => report::chart_tests::text(&tested),
        TestFormat::Json => {
            let releases: Vec<_> = tested
                .iter()
                .map(|t| match &t.run {
                    Ok(run) => json!({"release": t.release, "revision": run.revision,
                        "tests": run.tests, "error": run.error}),
                    Err(error) => json!({"release": t.release, "error": error}),
                })
                .collect();
            format!("{:#}\n", json!({ "releases": releases }))
        }
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    let failed = tested
        .iter()
        .any(|t| t.run.as_ref().map_or(true, |run| !run.passed()));
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
