//! Waiting on the cluster with a deadline and a message that says what was awaited and
//! what was last seen, so a timed-out test explains itself.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use tokio::time::{Instant, sleep};

/// Long enough for the slowest thing tests wait on (a Job's retries) on a busy machine.
pub const TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(250);

/// Polls `probe` until it returns `Ok`, and returns that value. `Err` carries what the probe
/// saw instead; after `timeout` the test fails with `what` and the last thing seen.
pub async fn wait_for<T, E, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    E: Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(seen) if Instant::now() >= deadline => {
                panic!("timed out after {timeout:?} waiting for {what}; last seen: {seen}")
            }
            Err(_) => sleep(POLL).await,
        }
    }
}

/// Checks that `probe` keeps returning `Ok` for `duration`; fails the test at the first `Err`.
pub async fn assert_stays<E, F, Fut>(what: &str, duration: Duration, mut probe: F)
where
    E: Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let end = Instant::now() + duration;
    while Instant::now() < end {
        if let Err(seen) = probe().await {
            panic!("expected {what} for {duration:?}, but saw: {seen}");
        }
        sleep(POLL).await;
    }
}
