//! Progress of a sync as plain timestamped lines on stderr, one per step of a release.

use std::io::Write;

use crate::config::ReleaseId;
use crate::sync::Progress;

pub struct Lines {
    quiet: bool,
}

impl Lines {
    pub fn new(quiet: bool) -> Self {
        Lines { quiet }
    }
}

impl Progress for Lines {
    fn step(&self, release: &ReleaseId, step: &str) {
        if self.quiet {
            return;
        }
        let now = jiff::Zoned::now();
        let line = format!("{}  {release}  {step}\n", now.strftime("%H:%M:%S%.3f"));
        // One write per line, so lines of releases running at once do not interleave.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}
