//! Walks the release DAG: a release starts as soon as everything it needs has succeeded,
//! up to `concurrency` at once. A failure skips only its dependents. After an interrupt
//! nothing new starts; what is running finishes and is reported truthfully.

use std::collections::HashMap;
use std::future::Future;

use futures::StreamExt;
use futures::stream::FuturesUnordered;

/// How one release of the walk ended.
#[derive(Debug)]
pub enum Outcome<T, E> {
    Done(T),
    Failed(E),
    /// Not started; the reason names the need that failed, or the interrupt.
    Skipped(String),
}

enum State<T, E> {
    Waiting,
    Running,
    Finished(Outcome<T, E>),
}

/// Runs `run` for each of `order` (releases listed after everything they need), where
/// `needs(r)` are the releases of `order` that `r` waits for. Returns each release's
/// outcome, and whether `interrupt` fired.
pub async fn walk<T, E, Run, Fut>(
    order: &[usize],
    needs: impl Fn(usize) -> Vec<usize>,
    name: impl Fn(usize) -> String,
    concurrency: usize,
    run: Run,
    interrupt: impl Future<Output = ()>,
) -> (HashMap<usize, Outcome<T, E>>, bool)
where
    Run: Fn(usize) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut states: HashMap<usize, State<T, E>> =
        order.iter().map(|&r| (r, State::Waiting)).collect();
    let mut running = FuturesUnordered::new();
    let mut interrupted = false;
    let mut interrupt = std::pin::pin!(interrupt);
    loop {
        if !interrupted {
            for &release in order {
                if !matches!(states[&release], State::Waiting) {
                    continue;
                }
                let mut ready = true;
                let mut blocked = None;
                for need in needs(release) {
                    match states.get(&need) {
                        Some(State::Finished(Outcome::Done(_))) | None => {}
                        Some(State::Finished(Outcome::Failed(_))) => {
                            blocked = Some(format!("needs {}, which failed", name(need)));
                        }
                        Some(State::Finished(Outcome::Skipped(_))) => {
                            blocked = Some(format!("needs {}, which was skipped", name(need)));
                        }
                        Some(State::Waiting | State::Running) => ready = false,
                    }
                }
                if let Some(reason) = blocked {
                    states.insert(release, State::Finished(Outcome::Skipped(reason)));
                } else if ready && running.len() < concurrency.max(1) {
                    states.insert(release, State::Running);
                    let job = run(release);
                    running.push(async move { (release, job.await) });
                }
            }
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            Some((release, result)) = running.next() => {
                let outcome = match result {
                    Ok(done) => Outcome::Done(done),
                    Err(error) => Outcome::Failed(error),
                };
                states.insert(release, State::Finished(outcome));
            }
            () = &mut interrupt, if !interrupted => interrupted = true,
        }
    }
    let outcomes = states
        .into_iter()
        .map(|(release, state)| {
            let outcome = match state {
                State::Finished(outcome) => outcome,
                State::Waiting | State::Running => {
                    Outcome::Skipped("interrupted before it started".into())
                }
            };
            (release, outcome)
        })
        .collect();
    (outcomes, interrupted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    /// a <- b <- c, and d alone: releases 0..4.
    fn needs(r: usize) -> Vec<usize> {
        match r {
            1 => vec![0],
            2 => vec![1],
            _ => vec![],
        }
    }

    fn name(r: usize) -> String {
        ["a", "b", "c", "d"][r].to_string()
    }

    #[tokio::test]
    async fn runs_needs_first_and_independent_releases_alongside() {
        let log = Mutex::new(Vec::new());
        let (outcomes, interrupted) = walk(
            &[0, 3, 1, 2],
            needs,
            name,
            4,
            |r| {
                let log = &log;
                async move {
                    log.lock().unwrap().push(format!("start {}", name(r)));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    log.lock().unwrap().push(format!("end {}", name(r)));
                    Ok::<_, String>(r)
                }
            },
            std::future::pending(),
        )
        .await;
        assert!(!interrupted);
        assert!(outcomes.values().all(|o| matches!(o, Outcome::Done(_))));
        let log = log.into_inner().unwrap();
        let at = |entry: &str| log.iter().position(|e| e == entry).unwrap();
        assert!(
            at("end a") < at("start b") && at("end b") < at("start c"),
            "{log:?}"
        );
        assert!(at("start d") < at("end a"), "d runs alongside a: {log:?}");
    }

    #[tokio::test]
    async fn a_failure_skips_only_its_dependents() {
        let (outcomes, _) = walk(
            &[0, 3, 1, 2],
            needs,
            name,
            2,
            |r| async move {
                if r == 0 {
                    Err("boom".to_string())
                } else {
                    Ok(r)
                }
            },
            std::future::pending(),
        )
        .await;
        assert!(matches!(&outcomes[&0], Outcome::Failed(e) if e == "boom"));
        assert!(matches!(&outcomes[&1], Outcome::Skipped(why) if why == "needs a, which failed"));
        assert!(
            matches!(&outcomes[&2], Outcome::Skipped(why) if why == "needs b, which was skipped")
        );
        assert!(matches!(&outcomes[&3], Outcome::Done(3)));
    }

    #[tokio::test]
    async fn an_interrupt_starts_nothing_new_and_lets_running_work_finish() {
        let (outcomes, interrupted) = walk(
            &[0, 1, 2],
            needs,
            name,
            1,
            |r| async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok::<_, String>(r)
            },
            tokio::time::sleep(Duration::from_millis(10)),
        )
        .await;
        assert!(interrupted);
        assert!(
            matches!(&outcomes[&0], Outcome::Done(0)),
            "the running release finished"
        );
        assert!(matches!(&outcomes[&1], Outcome::Skipped(why) if why.contains("interrupted")));
        assert!(matches!(&outcomes[&2], Outcome::Skipped(_)));
    }

    #[tokio::test]
    async fn concurrency_bounds_parallel_work() {
        let active = Mutex::new((0usize, 0usize));
        walk(
            &[0, 1, 2, 3],
            |_| vec![],
            name,
            2,
            |r| {
                let active = &active;
                async move {
                    {
                        let mut a = active.lock().unwrap();
                        a.0 += 1;
                        a.1 = a.1.max(a.0);
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    active.lock().unwrap().0 -= 1;
                    Ok::<_, String>(r)
                }
            },
            std::future::pending(),
        )
        .await;
        assert_eq!(active.into_inner().unwrap().1, 2);
    }
}
