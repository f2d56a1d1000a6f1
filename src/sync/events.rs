//! helmfile's release hooks: the commands a state file runs at a release's events
//! (`prepare`, `presync`, `postsync`, `preuninstall`, `postuninstall`, `cleanup`). Each one
//! is shown as it starts; its output is shown with `showlogs`, and when it fails, which
//! fails the release.

use std::path::Path;
use std::process::Command;

use crate::config::{HookEvent, ReleaseHook, ReleaseSpec, Spec};

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
        let label = label(hook, event);
        let args = spec
            .hook_args(release, hook, event, error)
            .map_err(|e| format!("{label}: {e}"))?;
        let show = |line: &str| progress.step(&release.id, &format!("{label}: {line}"));
        execute(hook, &args, &release.base_dir, &label, show)?;
    }
    Ok(())
}

/// The state files' own hooks for `event`, in file order; each command is shown on stderr.
fn run_state_hooks(spec: &Spec, event: HookEvent) -> Result<(), String> {
    for state_hook in spec
        .state_hooks
        .iter()
        .filter(|h| h.hook.events.contains(&event))
    {
        let hook = &state_hook.hook;
        let label = format!("{}: {}", state_hook.defined_at, label(hook, event));
        let args = spec
            .state_hook_args(state_hook, event)
            .map_err(|e| format!("{label}: {e}"))?;
        let show = |line: &str| tracing::warn!("{label}: {line}");
        execute(hook, &args, &state_hook.base_dir, &label, show)?;
    }
    Ok(())
}

fn label(hook: &ReleaseHook, event: HookEvent) -> String {
    format!(
        "hook[{}]{}",
        event.name(),
        hook.name
            .as_ref()
            .map(|n| format!(" {n}"))
            .unwrap_or_default()
    )
}

/// Runs a hook's command in `base_dir`: `show` gets the command line as it starts, and its
/// output with `showlogs`; a failure is the error, with its output.
fn execute(
    hook: &ReleaseHook,
    args: &[String],
    base_dir: &Path,
    label: &str,
    show: impl Fn(&str),
) -> Result<(), String> {
    show(&format!("{} {}", hook.command, args.join(" ")));
    let output = Command::new(&hook.command)
        .args(args)
        .current_dir(if base_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base_dir
        })
        .output()
        .map_err(|e| format!("{label}: {}: {e}", hook.command))?;
    let logs = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    if hook.show_logs {
        for line in logs.lines() {
            show(line);
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
    // A state's own prepare hooks come before its releases', its cleanup ones after.
    if event == HookEvent::Prepare {
        run_state_hooks(spec, event)?;
    }
    for release in releases {
        run(spec, release, event, None, progress)?;
    }
    if event == HookEvent::Cleanup {
        run_state_hooks(spec, event)?;
    }
    Ok(())
}
