//! Progress of a sync or destroy: on a terminal a live line per release (indicatif),
//! otherwise plain timestamped lines on stderr.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::ReleaseId;
use crate::sync::Progress;

/// The display that fits stderr: nothing with `-q`, log events with `--log-format json`,
/// live on a terminal, lines elsewhere.
pub fn for_stderr(quiet: bool, json_logs: bool) -> Box<dyn Progress> {
    if quiet {
        Box::new(Quiet)
    } else if json_logs {
        Box::new(Events)
    } else if std::io::stderr().is_terminal() {
        Box::new(Live::default())
    } else {
        Box::new(Lines)
    }
}

struct Quiet;

impl Progress for Quiet {
    fn step(&self, _release: &ReleaseId, _step: &str) {}
}

/// Steps as structured log events, for machines reading `--log-format json`.
struct Events;

impl Progress for Events {
    fn step(&self, release: &ReleaseId, step: &str) {
        tracing::info!(release = %release, step, "progress");
    }

    fn finished(&self, release: &ReleaseId, outcome: &str) {
        tracing::info!(release = %release, outcome, "finished");
    }
}

/// `12:01:02.345  staging/server  applying 4 objects`, one line per step.
pub struct Lines;

impl Lines {
    fn line(release: &ReleaseId, text: &str) {
        let now = jiff::Zoned::now();
        let line = format!("{}  {release}  {text}\n", now.strftime("%H:%M:%S%.3f"));
        // One write per line, so lines of releases running at once do not interleave.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

impl Progress for Lines {
    fn step(&self, release: &ReleaseId, step: &str) {
        Lines::line(release, step);
    }

    fn finished(&self, release: &ReleaseId, outcome: &str) {
        Lines::line(release, &format!("done: {outcome}"));
    }
}

/// One spinner line per release: waiting on needs, then each step, then the outcome.
#[derive(Default)]
struct Live {
    bars: Mutex<HashMap<ReleaseId, ProgressBar>>,
    multi: MultiProgress,
}

impl Live {
    fn with_bar(&self, release: &ReleaseId, f: impl FnOnce(&ProgressBar)) {
        if let Some(bar) = self
            .bars
            .lock()
            .ok()
            .as_ref()
            .and_then(|bars| bars.get(release))
        {
            f(bar);
        }
    }
}

impl Progress for Live {
    fn planned(&self, releases: &[&ReleaseId]) {
        self.multi.set_draw_target(ProgressDrawTarget::stderr());
        let width = releases
            .iter()
            .map(|r| r.to_string().len())
            .max()
            .unwrap_or(0);
        let style =
            ProgressStyle::with_template(&format!("{{spinner}} {{prefix:<{width}}}  {{msg}}"))
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        for release in releases {
            let bar = self.multi.add(ProgressBar::new_spinner());
            bar.set_style(style.clone());
            bar.set_prefix(release.to_string());
            bar.set_message("waiting on needs");
            bar.enable_steady_tick(Duration::from_millis(120));
            bars.insert((*release).clone(), bar);
        }
    }

    fn step(&self, release: &ReleaseId, step: &str) {
        self.with_bar(release, |bar| bar.set_message(step.to_string()));
    }

    fn finished(&self, release: &ReleaseId, outcome: &str) {
        self.with_bar(release, |bar| bar.finish_with_message(outcome.to_string()));
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // Releases never started (skipped, interrupted) stop spinning; the summary says why.
        if let Ok(bars) = self.bars.lock() {
            for bar in bars.values().filter(|bar| !bar.is_finished()) {
                bar.abandon_with_message("not run");
            }
        }
    }
}
