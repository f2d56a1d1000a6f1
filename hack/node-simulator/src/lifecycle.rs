//! What the simulator does with one pod, as a pure function of the pod's facts and of how
//! long the simulator has been running it. Keeping the annotation contract here, away from
//! any IO, lets it be tested without an API server.

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;

/// `"true"`: a long-running pod runs but never becomes Ready; a Job's pod fails (exit 1).
pub const FAIL_ANNOTATION: &str = "simulator.orch.dev/fail";
/// A duration (`500ms`, `5s`, `2m`, `1m30s`): Ready, or done for a Job's pod, only after it.
pub const READY_AFTER_ANNOTATION: &str = "simulator.orch.dev/ready-after";
/// How long a Job's pod runs before it completes when `ready-after` does not say.
pub const JOB_RUN_TIME: Duration = Duration::from_secs(1);

/// The states the simulator reports for a pod it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodState {
    Running { ready: bool },
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Deployment, StatefulSet, DaemonSet, ReplicaSet pods: they run until deleted.
    LongRunning,
    /// Job pods, and bare pods that do not restart: they run, then end.
    RunToCompletion,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    Unbound,
    OnSimulatedNode,
    /// Bound to a node the simulator does not own: someone else's pod.
    Elsewhere,
}

/// The parts of a pod that decide what happens to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodFacts {
    pub workload: Workload,
    pub fail: bool,
    pub ready_after: Option<Duration>,
    pub placement: Placement,
    pub deleting: bool,
    /// What the pod's status says now; `None` while it is Pending.
    pub observed: Option<PodState>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Not ours, or already in a final state.
    Leave,
    /// Schedule it onto a simulated node.
    Bind,
    /// It is being deleted: remove it for good, as a kubelet does once containers stop.
    Finalize,
    /// Its status should say `state`; decide again after `recheck_in`, when it will change.
    Converge {
        state: PodState,
        recheck_in: Option<Duration>,
    },
}

impl PodFacts {
    /// Reads the facts from a pod; `nodes` are the simulated nodes' names.
    pub fn of(pod: &Pod, nodes: &BTreeSet<String>) -> Self {
        let annotations = pod.metadata.annotations.as_ref();
        let annotation = |key: &str| annotations.and_then(|a| a.get(key)).map(String::as_str);
        let ready_after = annotation(READY_AFTER_ANNOTATION).and_then(|value| {
            parse_duration(value)
                .map_err(|err| {
                    tracing::warn!(pod = %pod_key(pod), %err, "ignoring {READY_AFTER_ANNOTATION}")
                })
                .ok()
        });
        let node = pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
        let placement = match node {
            None | Some("") => Placement::Unbound,
            Some(name) if nodes.contains(name) => Placement::OnSimulatedNode,
            Some(_) => Placement::Elsewhere,
        };
        PodFacts {
            workload: workload_of(pod),
            fail: annotation(FAIL_ANNOTATION) == Some("true"),
            ready_after,
            placement,
            deleting: pod.metadata.deletion_timestamp.is_some(),
            observed: observed_state(pod),
        }
    }
}

/// `running_for` is how long ago the simulator started the pod (`None`: not yet).
pub fn decide(pod: &PodFacts, running_for: Option<Duration>) -> Decision {
    match pod.placement {
        Placement::Elsewhere => return Decision::Leave,
        // The API server removes unbound pods at once when they are deleted.
        Placement::Unbound if pod.deleting => return Decision::Leave,
        Placement::Unbound => return Decision::Bind,
        Placement::OnSimulatedNode => {}
    }
    if pod.deleting {
        return Decision::Finalize;
    }
    if matches!(pod.observed, Some(PodState::Succeeded | PodState::Failed)) {
        return Decision::Leave;
    }
    // The state a pod settles in, and when; before that it runs (a Job's pod counts as
    // ready while it runs, as one without a readiness probe does).
    let (settle_after, settled, before) = match pod.workload {
        Workload::LongRunning => (
            pod.ready_after.unwrap_or_default(),
            PodState::Running { ready: !pod.fail },
            PodState::Running { ready: false },
        ),
        Workload::RunToCompletion => (
            pod.ready_after.unwrap_or(JOB_RUN_TIME),
            if pod.fail {
                PodState::Failed
            } else {
                PodState::Succeeded
            },
            PodState::Running { ready: true },
        ),
    };
    let running_for = running_for.unwrap_or_default();
    if running_for >= settle_after {
        Decision::Converge {
            state: settled,
            recheck_in: None,
        }
    } else {
        Decision::Converge {
            state: before,
            recheck_in: Some(settle_after - running_for),
        }
    }
}

/// Go-style durations as in the annotation: a sequence of number+unit (`ms`, `s`, `m`, `h`),
/// e.g. `500ms`, `5s`, `1.5s`, `2m`, `1m30s`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration like 500ms, 5s or 2m");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number: f64 = rest[..number_len].parse().map_err(|_| bad())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total += Duration::try_from_secs_f64(number * seconds_per_unit).map_err(|_| bad())?;
    }
    Ok(total)
}

fn workload_of(pod: &Pod) -> Workload {
    let owners = pod.metadata.owner_references.as_deref().unwrap_or_default();
    let owned_by_job = owners.iter().any(|o| o.kind == "Job");
    let labels = pod.metadata.labels.as_ref();
    let job_label = labels.is_some_and(|l| {
        l.contains_key("job-name") || l.contains_key("batch.kubernetes.io/job-name")
    });
    let restarts = pod
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always");
    if owned_by_job || (restarts != "Always" && (job_label || owners.is_empty())) {
        Workload::RunToCompletion
    } else {
        Workload::LongRunning
    }
}

fn observed_state(pod: &Pod) -> Option<PodState> {
    let status = pod.status.as_ref()?;
    match status.phase.as_deref()? {
        "Succeeded" => Some(PodState::Succeeded),
        "Failed" => Some(PodState::Failed),
        "Running" => {
            let ready = status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            Some(PodState::Running { ready })
        }
        _ => None,
    }
}

pub fn pod_key(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or_default(),
        pod.metadata.name.as_deref().unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nodes() -> BTreeSet<String> {
        ["sim-0".to_string()].into()
    }

    fn pod(value: serde_json::Value) -> Pod {
        serde_json::from_value(value).expect("test pod")
    }

    fn deployment_pod(annotations: serde_json::Value) -> PodFacts {
        PodFacts::of(
            &pod(json!({
                "metadata": {"name": "web-1", "namespace": "ns", "annotations": annotations,
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                        "name": "web", "uid": "1"}]},
                "spec": {"nodeName": "sim-0", "containers": [{"name": "app"}]},
            })),
            &nodes(),
        )
    }

    fn job_pod(annotations: serde_json::Value) -> PodFacts {
        PodFacts::of(
            &pod(json!({
                "metadata": {"name": "migrate-1", "namespace": "ns", "annotations": annotations,
                    "labels": {"job-name": "migrate"},
                    "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job",
                        "name": "migrate", "uid": "2"}]},
                "spec": {"nodeName": "sim-0", "restartPolicy": "Never",
                    "containers": [{"name": "app"}]},
            })),
            &nodes(),
        )
    }

    fn converge(state: PodState, recheck_in: Option<Duration>) -> Decision {
        Decision::Converge { state, recheck_in }
    }

    const READY: PodState = PodState::Running { ready: true };
    const NOT_READY: PodState = PodState::Running { ready: false };

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration(" 0s "), Ok(Duration::ZERO));
    }

    #[test]
    fn bad_durations_are_errors() {
        for text in ["", "5", "s", "5x", "-5s", "1..5s", "5 s", "five"] {
            assert!(parse_duration(text).is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn an_ordinary_pod_is_ready_at_once() {
        let facts = deployment_pod(json!({}));
        assert_eq!(facts.workload, Workload::LongRunning);
        assert_eq!(decide(&facts, None), converge(READY, None));
    }

    #[test]
    fn a_failing_long_running_pod_runs_but_never_becomes_ready() {
        let facts = deployment_pod(json!({FAIL_ANNOTATION: "true"}));
        assert_eq!(decide(&facts, None), converge(NOT_READY, None));
        let later = Some(Duration::from_secs(600));
        assert_eq!(decide(&facts, later), converge(NOT_READY, None));
    }

    #[test]
    fn fail_must_say_true() {
        assert!(!deployment_pod(json!({FAIL_ANNOTATION: "yes"})).fail);
    }

    #[test]
    fn ready_after_delays_readiness() {
        let facts = deployment_pod(json!({READY_AFTER_ANNOTATION: "5s"}));
        assert_eq!(
            decide(&facts, None),
            converge(NOT_READY, Some(Duration::from_secs(5)))
        );
        assert_eq!(
            decide(&facts, Some(Duration::from_secs(2))),
            converge(NOT_READY, Some(Duration::from_secs(3)))
        );
        assert_eq!(
            decide(&facts, Some(Duration::from_secs(5))),
            converge(READY, None)
        );
    }

    #[test]
    fn an_unreadable_ready_after_is_ignored() {
        let facts = deployment_pod(json!({READY_AFTER_ANNOTATION: "soon"}));
        assert_eq!(facts.ready_after, None);
        assert_eq!(decide(&facts, None), converge(READY, None));
    }

    #[test]
    fn a_job_pod_runs_then_succeeds() {
        let facts = job_pod(json!({}));
        assert_eq!(facts.workload, Workload::RunToCompletion);
        assert_eq!(decide(&facts, None), converge(READY, Some(JOB_RUN_TIME)));
        assert_eq!(
            decide(&facts, Some(JOB_RUN_TIME)),
            converge(PodState::Succeeded, None)
        );
    }

    #[test]
    fn a_failing_job_pod_ends_failed() {
        let facts = job_pod(json!({FAIL_ANNOTATION: "true"}));
        assert_eq!(
            decide(&facts, Some(JOB_RUN_TIME)),
            converge(PodState::Failed, None)
        );
    }

    #[test]
    fn ready_after_delays_a_job_pod_completion() {
        let facts = job_pod(json!({READY_AFTER_ANNOTATION: "3s"}));
        assert_eq!(
            decide(&facts, Some(Duration::from_secs(1))),
            converge(READY, Some(Duration::from_secs(2)))
        );
        assert_eq!(
            decide(&facts, Some(Duration::from_secs(3))),
            converge(PodState::Succeeded, None)
        );
    }

    #[test]
    fn finished_pods_are_left_alone() {
        let mut facts = job_pod(json!({}));
        facts.observed = Some(PodState::Succeeded);
        assert_eq!(decide(&facts, Some(JOB_RUN_TIME)), Decision::Leave);
    }

    #[test]
    fn job_pods_are_recognised_by_owner_or_label() {
        let labelled_only = pod(json!({
            "metadata": {"name": "p", "labels": {"job-name": "j"},
                "ownerReferences": [{"apiVersion": "v1", "kind": "Other", "name": "o", "uid": "3"}]},
            "spec": {"restartPolicy": "OnFailure", "containers": []},
        }));
        assert_eq!(workload_of(&labelled_only), Workload::RunToCompletion);
        let bare_never = pod(json!({
            "metadata": {"name": "p"},
            "spec": {"restartPolicy": "Never", "containers": []},
        }));
        assert_eq!(workload_of(&bare_never), Workload::RunToCompletion);
        let bare_always = pod(json!({"metadata": {"name": "p"}, "spec": {"containers": []}}));
        assert_eq!(workload_of(&bare_always), Workload::LongRunning);
    }

    #[test]
    fn placement_decides_bind_finalize_or_leave() {
        let unbound = pod(json!({"metadata": {"name": "p"}, "spec": {"containers": []}}));
        assert_eq!(
            decide(&PodFacts::of(&unbound, &nodes()), None),
            Decision::Bind
        );

        let mut deleting = deployment_pod(json!({}));
        deleting.deleting = true;
        assert_eq!(decide(&deleting, None), Decision::Finalize);

        let mut elsewhere = deployment_pod(json!({}));
        elsewhere.placement = Placement::Elsewhere;
        assert_eq!(decide(&elsewhere, None), Decision::Leave);
    }

    #[test]
    fn observed_state_reads_phase_and_ready_condition() {
        let running = pod(json!({
            "metadata": {"name": "p"},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]},
        }));
        assert_eq!(observed_state(&running), Some(NOT_READY));
        let pending = pod(json!({"metadata": {"name": "p"}, "status": {"phase": "Pending"}}));
        assert_eq!(observed_state(&pending), None);
    }
}
