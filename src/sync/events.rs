//! helmfile's release hooks: the commands a state file runs at a release's events
//! (`prepare`, `presync`, `postsync`, `preuninstall`, `postuninstall`, `cleanup`). Each one
//! is shown as it starts; its output is shown with `showlogs`, and when it fails, which
//! fails the release.

use std::process::Command;

use crate::config::{HookEvent, ReleaseSpec, Spec};

use super::Progress;

/// Runs the release's hooks for `event`, in the order the file lists them. `error` is the
/// failure a `postsync` hook is told of (`.Event.Error`).
pub fn run(
    spec: &Spec,
    release: &ReleaseSpec,
    event: HookEvent,
    error: Option<&str>,
    progress: &dyn Progress,
) -> Result<(), String> {
    for hook in release.hooks.iter().filter(|h| h.events.contains(&event)) {
        let label = format!(
            "hook[{}]{}",
            event.name(),
            hook.name
                .as_ref()
                .map(|n| format!(" {n}"))
                .unwrap_or_default()
        );
        let args = spec
            .hook_args(release, hook, event, error)
            .map_err(|e| format!("{label}: {e}"))?;
        progress.step(
            &release.id,
            &format!("{label}: {} {}", hook.command, args.join(" ")),
        );
        let output = Command::new(&hook.command)
            .args(&args)
            .current_dir(if release.base_dir.as_os_str().is_empty() {
                std::path::Path::new(".")
            } else {
                &release.base_dir
            })
            .output()
            .map_err(|e| format!("{label}: {}: {e}", hook.command))?;
        let logs = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        if hook.show_logs {
            for line in logs.lines() {
                progress.step(&release.id, &format!("{label}: {line}"));
            }
        }
        if !output.status.success() {
            return Err(format!(
                "{label}: {} {}: {}\n{}",
                hook.command,
                args.join(" "),
                output.status,
                logs.trim_end()
            ));
        }
    }
    Ok(())
}

/// [`run`] from within a sync's walk, where commands must not hold up the runtime's other
/// work: on a thread the runtime gives up for it.
pub(super) fn run_in_walk(
    spec: &Spec,
    release: &ReleaseSpec,
    event: HookEvent,
    error: Option<&str>,
    progress: &dyn Progress,
) -> Result<(), super::SyncError> {
    tokio::task::block_in_place(|| run(spec, release, event, error, progress))
        .map_err(super::SyncError::StateHook)
}

/// [`run`] for every release of `releases`, as `prepare` and `cleanup` run: the first
/// failure stops the command.
pub fn run_all<'a>(
    spec: &Spec,
    releases: impl IntoIterator<Item = &'a ReleaseSpec>,
    event: HookEvent,
    progress: &dyn Progress,
) -> Result<(), String> {
    for release in releases {
        run(spec, release, event, None, progress)?;
    }
    Ok(())
}
