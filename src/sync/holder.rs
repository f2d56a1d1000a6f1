//! Which run holds a release: the process that wrote its pending revision. A pending
//! revision whose holder process is gone was left by a run that died (killed, or its API
//! server went away mid-sync); the next run may take it over without being told to.

use std::fmt;

/// A process on a host, told apart from a later process with the same PID by its start
/// time (clock ticks since boot, from /proc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    host: String,
    pid: u32,
    start: u64,
}

impl Holder {
    /// This process, if /proc tells who it is.
    pub fn current() -> Option<Holder> {
        let pid = std::process::id();
        Some(Holder {
            host: host()?,
            pid,
            start: start_time(pid)?,
        })
    }

    /// Whether the holder certainly no longer runs: it ran on this host and its process is
    /// gone. `false` when it runs, or when that cannot be known (another host).
    pub fn is_gone(&self) -> bool {
        host().as_deref() == Some(self.host.as_str()) && start_time(self.pid) != Some(self.start)
    }

    pub fn parse(text: &str) -> Option<Holder> {
        let (host, rest) = text.rsplit_once(" pid ")?;
        let (pid, start) = rest.split_once(" started ")?;
        Some(Holder {
            host: host.to_string(),
            pid: pid.parse().ok()?,
            start: start.parse().ok()?,
        })
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} pid {} started {}", self.host, self.pid, self.start)
    }
}

fn host() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    Some(name.trim().to_string()).filter(|n| !n.is_empty())
}

/// Field 22 of /proc/PID/stat; the command name before it may contain spaces, so count
/// from the closing parenthesis.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    after_name.split(' ').nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_not_gone_and_round_trips() {
        let me = Holder::current().expect("/proc on Linux");
        assert!(!me.is_gone());
        assert_eq!(Holder::parse(&me.to_string()), Some(me));
    }

    #[test]
    fn a_dead_process_is_gone_and_another_host_is_not_known() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let start = start_time(pid);
        child.wait().unwrap();
        let me = Holder::current().unwrap();
        let dead = Holder {
            pid,
            start: start.unwrap_or(1),
            ..me.clone()
        };
        assert!(dead.is_gone());
        let elsewhere = Holder {
            host: "elsewhere".into(),
            ..dead
        };
        assert!(!elsewhere.is_gone());
        assert_eq!(Holder::parse("garbage"), None);
    }
}
