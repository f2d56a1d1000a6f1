//! The pod status a kubelet would report for a simulated state: phase, conditions and one
//! container status per container, shaped as the real controllers expect them.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use crate::lifecycle::{FAIL_ANNOTATION, PodState};

/// A merge patch for the pod's `status` subresource. It carries the pod's resourceVersion,
/// so a patch computed from a stale copy fails with a conflict instead of undoing a newer one.
pub fn status_patch(pod: &Pod, state: PodState, host_ip: &str, now: Timestamp) -> Value {
    let started = pod
        .status
        .as_ref()
        .and_then(|s| s.start_time.clone())
        .unwrap_or(Time(now));
    let spec = pod.spec.as_ref();
    let containers = spec.map(|s| s.containers.as_slice()).unwrap_or_default();
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    let init_containers: Vec<Value> = spec
        .and_then(|s| s.init_containers.as_ref())
        .into_iter()
        .flatten()
        .map(|c| {
            let state = terminated(0, &started, now);
            container_status(&c.name, c.image.as_deref(), state, true, false)
        })
        .collect();

    let fail_hint = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(FAIL_ANNOTATION))
        .is_some_and(|v| v == "true");
    let (phase, ready, container_state, container_ready, done_reason) = match state {
        PodState::Running { ready } => (
            "Running",
            ready,
            json!({"running": {"startedAt": started}}),
            ready,
            None,
        ),
        PodState::Succeeded => (
            "Succeeded",
            false,
            terminated(0, &started, now),
            false,
            Some("PodCompleted"),
        ),
        PodState::Failed => (
            "Failed",
            false,
            terminated(1, &started, now),
            false,
            Some("PodFailed"),
        ),
    };
    let not_ready_message = || {
        let mut message = format!("containers with unready status: [{}]", names.join(" "));
        if fail_hint && done_reason.is_none() {
            message.push_str(&format!(" (readiness probe failed: {FAIL_ANNOTATION})"));
        }
        message
    };
    let condition = |type_: &str, ok: bool| {
        let mut c = json!({"type": type_, "status": if ok { "True" } else { "False" },
            "lastProbeTime": null, "lastTransitionTime": Time(now)});
        if !ok {
            c["reason"] = json!(done_reason.unwrap_or("ContainersNotReady"));
            if done_reason.is_none() {
                c["message"] = json!(not_ready_message());
            }
        }
        c
    };
    let container_statuses: Vec<Value> = containers
        .iter()
        .map(|c| {
            let state = container_state.clone();
            container_status(
                &c.name,
                c.image.as_deref(),
                state,
                container_ready,
                done_reason.is_none(),
            )
        })
        .collect();

    json!({
        "metadata": {"resourceVersion": pod.metadata.resource_version},
        "status": {
            "phase": phase,
            "hostIP": host_ip,
            "podIP": pod_ip(pod),
            "podIPs": [{"ip": pod_ip(pod)}],
            "startTime": started,
            "conditions": [
                condition("Initialized", true),
                condition("Ready", ready),
                condition("ContainersReady", ready),
                condition("PodScheduled", true),
            ],
            "initContainerStatuses": init_containers,
            "containerStatuses": container_statuses,
        }
    })
}

fn terminated(exit_code: i32, started: &Time, now: Timestamp) -> Value {
    json!({"terminated": {
        "exitCode": exit_code,
        "reason": if exit_code == 0 { "Completed" } else { "Error" },
        "startedAt": started,
        "finishedAt": Time(now),
    }})
}

fn container_status(
    name: &str,
    image: Option<&str>,
    state: Value,
    ready: bool,
    started: bool,
) -> Value {
    json!({
        "name": name,
        "image": image.unwrap_or_default(),
        "imageID": "",
        "containerID": format!("simulated://{name}"),
        "ready": ready,
        "started": started,
        "restartCount": 0,
        "state": state,
    })
}

/// A stable, made-up address in 10.88.0.0/16 derived from the pod's uid.
fn pod_ip(pod: &Pod) -> String {
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    let hash = uid
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    format!("10.88.{}.{}", (hash >> 8) % 256, hash % 254 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web-1", "namespace": "ns", "uid": "u-1",
                "resourceVersion": "42"},
            "spec": {"containers": [{"name": "app", "image": "nginx"}],
                "initContainers": [{"name": "init", "image": "busybox"}]},
        }))
        .expect("test pod")
    }

    fn condition(patch: &Value, type_: &str) -> Value {
        patch["status"]["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == type_))
            .cloned()
            .unwrap_or_else(|| panic!("no {type_} condition in {patch}"))
    }

    #[test]
    fn a_ready_pod_reports_ready_running_containers() {
        let patch = status_patch(
            &pod(),
            PodState::Running { ready: true },
            "127.0.0.1",
            Timestamp::UNIX_EPOCH,
        );
        assert_eq!(patch["metadata"]["resourceVersion"], "42");
        assert_eq!(patch["status"]["phase"], "Running");
        for type_ in ["Initialized", "Ready", "ContainersReady", "PodScheduled"] {
            assert_eq!(condition(&patch, type_)["status"], "True", "{type_}");
        }
        let app = &patch["status"]["containerStatuses"][0];
        assert_eq!(app["ready"], true);
        assert_eq!(app["started"], true);
        assert!(app["state"]["running"]["startedAt"].is_string());
        let init = &patch["status"]["initContainerStatuses"][0];
        assert_eq!(init["state"]["terminated"]["exitCode"], 0);
    }

    #[test]
    fn an_unready_pod_says_which_containers_are_not_ready() {
        let patch = status_patch(
            &pod(),
            PodState::Running { ready: false },
            "127.0.0.1",
            Timestamp::UNIX_EPOCH,
        );
        let ready = condition(&patch, "Ready");
        assert_eq!(ready["status"], "False");
        assert_eq!(ready["reason"], "ContainersNotReady");
        assert_eq!(patch["status"]["containerStatuses"][0]["ready"], false);
    }

    #[test]
    fn finished_pods_report_terminated_containers_with_their_exit_code() {
        let done = status_patch(
            &pod(),
            PodState::Succeeded,
            "127.0.0.1",
            Timestamp::UNIX_EPOCH,
        );
        assert_eq!(done["status"]["phase"], "Succeeded");
        let state = &done["status"]["containerStatuses"][0]["state"]["terminated"];
        assert_eq!(state["exitCode"], 0);
        assert_eq!(state["reason"], "Completed");

        let failed = status_patch(&pod(), PodState::Failed, "127.0.0.1", Timestamp::UNIX_EPOCH);
        assert_eq!(failed["status"]["phase"], "Failed");
        assert_eq!(
            failed["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"],
            1
        );
    }
}
