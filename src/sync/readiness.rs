//! Whether a live object is ready, as small pure functions over its JSON in the manner of
//! kube-runtime's conditions: the caller gets or watches the object, these only judge it.
//!
//! The rules are Helm 3's `--wait` (pkg/kube/ready.go), from the object's own status where
//! Helm lists ReplicaSets or pods; `hook_outcome` is Helm's hook wait (pkg/kube/client.go).

use serde_json::Value;

/// What waiting on one object has come to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Not yet; says what is awaited, e.g. "2 of 3 replicas available".
    Pending(String),
    /// Will not become ready without a change; says why.
    Failed(String),
}

use Readiness::{Failed, Pending, Ready};

/// Readiness of a regular release object. Kinds without a rule are ready once applied.
///
/// Services are always ready. Helm 3 waits for a LoadBalancer Service's address, which a
/// cluster without a cloud controller (kind, k3d, bare metal) never assigns: the wait
/// would end in a timeout that says nothing about the release. Helm 4's kstatus waiter
/// does not wait for it either.
pub fn readiness(object: &Value) -> Readiness {
    match (group(object), text(object, &["kind"]).unwrap_or("")) {
        ("apps", "Deployment") => deployment(object),
        ("apps", "StatefulSet") => stateful_set(object),
        ("apps", "DaemonSet") => daemon_set(object),
        ("apps", "ReplicaSet") | ("", "ReplicationController") => replica_set(object),
        ("batch", "Job") => job(object),
        ("", "Pod") => pod(object),
        ("", "PersistentVolumeClaim") => claim(object),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd(object),
        _ => Ready,
    }
}

/// Outcome of a hook object: a Job must complete and a Pod must succeed (a running, ready
/// Pod is not done); any other kind is done once created, as in Helm.
pub fn hook_outcome(object: &Value) -> Readiness {
    match (group(object), text(object, &["kind"]).unwrap_or("")) {
        ("batch", "Job") => job(object),
        ("", "Pod") => match text(object, &["status", "phase"]) {
            Some("Succeeded") => Ready,
            Some("Failed") => pod_failed(object),
            _ => Pending(format!("Pod has not finished: {}", pod_progress(object))),
        },
        _ => Ready,
    }
}

fn deployment(object: &Value) -> Readiness {
    // Helm 3 waits with paused-as-ready: a paused rollout waits for a person, not for time.
    if at(object, &["spec", "paused"]).and_then(Value::as_bool) == Some(true) {
        return Ready;
    }
    if let Some(pending) = unobserved(object) {
        return pending;
    }
    if let Some(progressing) = condition(object, "Progressing")
        && text(progressing, &["reason"]) == Some("ProgressDeadlineExceeded")
    {
        let message = text(progressing, &["message"]).unwrap_or("no message");
        return Failed(format!("rollout exceeded its progress deadline: {message}"));
    }
    let replicas = int_or(object, &["spec", "replicas"], 1);
    let updated = status(object, "updatedReplicas");
    let current = status(object, "replicas");
    let available = status(object, "availableReplicas");
    if updated < replicas {
        return Pending(format!(
            "waiting for rollout: {updated} of {replicas} replicas updated"
        ));
    }
    if current > updated {
        let old = current - updated;
        let noun = if old == 1 { "replica" } else { "replicas" };
        return Pending(format!(
            "waiting for rollout: {old} old {noun} pending termination"
        ));
    }
    // Helm's threshold: the rollout may leave maxUnavailable replicas unavailable.
    let needed = replicas - max_unavailable(object, replicas);
    if available < needed {
        let also = if needed < replicas {
            format!(", {needed} needed")
        } else {
            String::new()
        };
        return Pending(format!(
            "{available} of {replicas} replicas available{also}"
        ));
    }
    Ready
}

/// The Deployment controller's own arithmetic: surge rounds up, unavailable down, both
/// default to 25%, and if both come to 0 one pod may be unavailable.
fn max_unavailable(object: &Value, replicas: i64) -> i64 {
    if text(object, &["spec", "strategy", "type"]) == Some("Recreate") || replicas == 0 {
        return 0;
    }
    let quarter = Value::from("25%");
    let field = |name| at(object, &["spec", "strategy", "rollingUpdate", name]).unwrap_or(&quarter);
    let surge = scaled(field("maxSurge"), replicas, true).unwrap_or(0);
    let unavailable = scaled(field("maxUnavailable"), replicas, false).unwrap_or(0);
    match (surge, unavailable) {
        (0, 0) => 1,
        _ => unavailable.min(replicas),
    }
}

fn stateful_set(object: &Value) -> Readiness {
    if let Some(pending) = unobserved(object) {
        return pending;
    }
    // OnDelete updates a pod only when someone deletes it: nothing to wait for.
    if !rolling(object) {
        return Ready;
    }
    let replicas = int_or(object, &["spec", "replicas"], 1);
    let partition = int_or(
        object,
        &["spec", "updateStrategy", "rollingUpdate", "partition"],
        0,
    );
    let expected = (replicas - partition).max(0);
    let updated = status(object, "updatedReplicas");
    let ready = status(object, "readyReplicas");
    if updated < expected {
        return Pending(format!(
            "waiting for rollout: {updated} of {expected} replicas updated"
        ));
    }
    if ready != replicas {
        return Pending(format!("{ready} of {replicas} replicas ready"));
    }
    // Under a partition the old revision stays current on purpose.
    let current = text(object, &["status", "currentRevision"]);
    let update = text(object, &["status", "updateRevision"]);
    if partition == 0 && current != update {
        return Pending(format!(
            "waiting for rollout: revision {} not yet current",
            update.unwrap_or("(unknown)")
        ));
    }
    Ready
}

fn daemon_set(object: &Value) -> Readiness {
    if let Some(pending) = unobserved(object) {
        return pending;
    }
    if !rolling(object) {
        return Ready;
    }
    let desired = status(object, "desiredNumberScheduled");
    let updated = status(object, "updatedNumberScheduled");
    let ready = status(object, "numberReady");
    if updated < desired {
        return Pending(format!(
            "waiting for rollout: {updated} of {desired} pods updated"
        ));
    }
    let one = Value::from(1);
    let path = ["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"];
    let allowed = scaled(at(object, &path).unwrap_or(&one), desired, true).unwrap_or(0);
    if ready < desired - allowed {
        return Pending(format!("{ready} of {desired} pods ready"));
    }
    Ready
}

fn replica_set(object: &Value) -> Readiness {
    if let Some(pending) = unobserved(object) {
        return pending;
    }
    let replicas = int_or(object, &["spec", "replicas"], 1);
    let ready = status(object, "readyReplicas");
    if ready < replicas {
        return Pending(format!("{ready} of {replicas} replicas ready"));
    }
    Ready
}

fn job(object: &Value) -> Readiness {
    if condition(object, "Complete").is_some_and(is_true) {
        return Ready;
    }
    // FailureTarget counts too: the Job has failed and its pods are being stopped.
    let failure = ["Failed", "FailureTarget"]
        .into_iter()
        .find_map(|kind| condition(object, kind).filter(|c| is_true(c)));
    if let Some(failure) = failure {
        let reason = text(failure, &["reason"]).unwrap_or("no reason given");
        return Failed(match text(failure, &["message"]) {
            Some(message) => format!("Job failed: {reason} ({message})"),
            None => format!("Job failed: {reason}"),
        });
    }
    if at(object, &["spec", "suspend"]).and_then(Value::as_bool) == Some(true) {
        return Pending("Job is suspended".to_string());
    }
    let (active, succeeded) = (status(object, "active"), status(object, "succeeded"));
    let failed = status(object, "failed");
    Pending(format!(
        "Job running: {active} active, {succeeded} succeeded, {failed} failed"
    ))
}

fn pod(object: &Value) -> Readiness {
    match text(object, &["status", "phase"]) {
        Some("Succeeded") => Ready,
        Some("Failed") => pod_failed(object),
        _ if condition(object, "Ready").is_some_and(is_true) => Ready,
        _ => Pending(format!("Pod not ready: {}", pod_progress(object))),
    }
}

fn pod_failed(object: &Value) -> Readiness {
    let why = text(object, &["status", "message"])
        .or_else(|| text(object, &["status", "reason"]))
        .map(str::to_string)
        .or_else(|| container_reason(object, "terminated"))
        .unwrap_or_else(|| "no reason given".to_string());
    Failed(format!("Pod failed: {why}"))
}

/// The most telling thing about an unfinished pod: a waiting container's reason (image
/// pull, crash loop, missing ConfigMap key), else its phase.
fn pod_progress(object: &Value) -> String {
    container_reason(object, "waiting").unwrap_or_else(|| {
        let phase = text(object, &["status", "phase"]).unwrap_or("Pending");
        format!("phase {phase}")
    })
}

fn container_reason(object: &Value, state: &str) -> Option<String> {
    ["initContainerStatuses", "containerStatuses"]
        .iter()
        .filter_map(|list| at(object, &["status", list])?.as_array())
        .flatten()
        .find_map(|status| {
            let reason = text(status, &["state", state, "reason"])?;
            let name = text(status, &["name"]).unwrap_or("?");
            Some(format!("container {name}: {reason}"))
        })
}

fn claim(object: &Value) -> Readiness {
    match text(object, &["status", "phase"]) {
        Some("Bound") => Ready,
        Some("Lost") => Failed("PersistentVolumeClaim lost its volume".to_string()),
        phase => Pending(format!(
            "PersistentVolumeClaim is {}, not Bound",
            phase.unwrap_or("Pending")
        )),
    }
}

fn crd(object: &Value) -> Readiness {
    if condition(object, "Established").is_some_and(is_true) {
        return Ready;
    }
    // Helm counts a name conflict as ready; its kind would never be served.
    if let Some(names) = condition(object, "NamesAccepted")
        && text(names, &["status"]) == Some("False")
    {
        let message = text(names, &["message"]).unwrap_or("no message");
        return Failed(format!("CRD names not accepted: {message}"));
    }
    Pending("waiting for the CRD to be established".to_string())
}

/// Pending while the controller has not seen the latest spec: the status is about an
/// older one.
fn unobserved(object: &Value) -> Option<Readiness> {
    let generation = int_or(object, &["metadata", "generation"], 0);
    let observed = status(object, "observedGeneration");
    (observed < generation).then(|| {
        Pending(format!(
            "waiting for the controller to observe generation {generation} (seen {observed})"
        ))
    })
}

/// RollingUpdate is the API server's default when the strategy names no type.
fn rolling(object: &Value) -> bool {
    text(object, &["spec", "updateStrategy", "type"]).is_none_or(|t| t == "RollingUpdate")
}

/// An IntOrString field: a count, or a percentage of `total`. `None` when malformed, which
/// the API server's validation keeps out of live objects.
fn scaled(value: &Value, total: i64, round_up: bool) -> Option<i64> {
    match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => {
            let percent: i64 = text.strip_suffix('%')?.parse().ok()?;
            let hundredths = percent.checked_mul(total)?;
            let round = if round_up { 99 } else { 0 };
            Some((hundredths + round).div_euclid(100))
        }
        _ => None,
    }
}

fn group(object: &Value) -> &str {
    text(object, &["apiVersion"])
        .and_then(|v| v.rsplit_once('/'))
        .map_or("", |(group, _)| group)
}

fn condition<'v>(object: &'v Value, kind: &str) -> Option<&'v Value> {
    at(object, &["status", "conditions"])?
        .as_array()?
        .iter()
        .find(|c| text(c, &["type"]) == Some(kind))
}

fn is_true(condition: &Value) -> bool {
    text(condition, &["status"]) == Some("True")
}

fn at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |value, key| value.get(key))
}

fn text<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    at(value, path)?.as_str()
}

/// A count in the object's status; the API server leaves out zeros.
fn status(object: &Value, field: &str) -> i64 {
    int_or(object, &["status", field], 0)
}

fn int_or(value: &Value, path: &[&str], default: i64) -> i64 {
    at(value, path).and_then(Value::as_i64).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(api_version: &str, kind: &str, spec: Value, status: Value) -> Value {
        json!({"apiVersion": api_version, "kind": kind, "metadata": {"generation": 2},
               "spec": spec, "status": status})
    }

    /// Runs `judge` on each case and compares "ready", "pending: why" or "failed: why".
    fn check(judge: fn(&Value) -> Readiness, cases: &[(Value, &str)]) {
        for (object, expected) in cases {
            let shown = match judge(object) {
                Ready => "ready".to_string(),
                Pending(why) => format!("pending: {why}"),
                Failed(why) => format!("failed: {why}"),
            };
            assert_eq!(shown, *expected, "{object}");
        }
    }

    #[test]
    #[rustfmt::skip]
    fn deployments_follow_the_rollout_and_helms_availability_threshold() {
        let at = |spec: Value, observed: i64, current: i64, updated: i64, available: i64| {
            object("apps/v1", "Deployment", spec, json!({"observedGeneration": observed,
                "replicas": current, "updatedReplicas": updated, "availableReplicas": available}))
        };
        let deadline = json!({"observedGeneration": 2, "conditions": [{"type": "Progressing",
            "status": "False", "reason": "ProgressDeadlineExceeded", "message": "RS timed out."}]});
        let strict = json!({"replicas": 4, "strategy": {"rollingUpdate": {"maxUnavailable": 0}}});
        check(readiness, &[
            // Status from before the controller saw the new spec says nothing about it.
            (at(json!({"replicas": 3}), 1, 3, 3, 3),
             "pending: waiting for the controller to observe generation 2 (seen 1)"),
            (at(json!({"replicas": 3}), 2, 4, 2, 3),
             "pending: waiting for rollout: 2 of 3 replicas updated"),
            (at(json!({"replicas": 3}), 2, 4, 3, 3),
             "pending: waiting for rollout: 1 old replica pending termination"),
            // maxUnavailable defaults to 25%: none of 3, one of 4.
            (at(json!({"replicas": 3}), 2, 3, 3, 2), "pending: 2 of 3 replicas available"),
            (at(json!({"replicas": 4}), 2, 4, 4, 2),
             "pending: 2 of 4 replicas available, 3 needed"),
            (at(json!({"replicas": 4}), 2, 4, 4, 3), "ready"),
            (at(strict, 2, 4, 4, 3), "pending: 3 of 4 replicas available"),
            (at(json!({"replicas": 3, "paused": true}), 0, 0, 0, 0), "ready"),
            (object("apps/v1", "Deployment", json!({}), deadline),
             "failed: rollout exceeded its progress deadline: RS timed out."),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn stateful_sets_daemon_sets_and_replica_sets() {
        let sts = |partition: i64, updated: i64, ready: i64| object("apps/v1", "StatefulSet",
            json!({"replicas": 3, "updateStrategy": {"rollingUpdate": {"partition": partition}}}),
            json!({"observedGeneration": 2, "updatedReplicas": updated, "readyReplicas": ready,
                   "currentRevision": "s-1", "updateRevision": "s-2"}));
        let on_delete = object("apps/v1", "StatefulSet",
            json!({"updateStrategy": {"type": "OnDelete"}}), json!({"observedGeneration": 2}));
        let ds = |updated: i64, ready: i64| object("apps/v1", "DaemonSet", json!({}), json!({
            "observedGeneration": 2, "desiredNumberScheduled": 3,
            "updatedNumberScheduled": updated, "numberReady": ready}));
        let rs = object("apps/v1", "ReplicaSet", json!({"replicas": 2}),
            json!({"observedGeneration": 2, "readyReplicas": 1}));
        check(readiness, &[
            // Under partition 2 only the last pod moves to the new revision.
            (sts(2, 1, 3), "ready"),
            (sts(0, 1, 3), "pending: waiting for rollout: 1 of 3 replicas updated"),
            (sts(0, 3, 2), "pending: 2 of 3 replicas ready"),
            (sts(0, 3, 3), "pending: waiting for rollout: revision s-2 not yet current"),
            (on_delete, "ready"),
            (ds(2, 2), "pending: waiting for rollout: 2 of 3 pods updated"),
            // maxUnavailable defaults to one pod.
            (ds(3, 2), "ready"),
            (ds(3, 1), "pending: 1 of 3 pods ready"),
            (rs, "pending: 1 of 2 replicas ready"),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn jobs_complete_fail_or_report_their_pods() {
        let job = |spec: Value, status: Value| object("batch/v1", "Job", spec, status);
        let gave_up = |kind: &str| json!({"type": kind, "status": "True",
            "reason": "BackoffLimitExceeded", "message": "Job has reached the backoff limit"});
        let failed = job(json!({}), json!({"failed": 7, "conditions": [gave_up("Failed")]}));
        let failing = job(json!({}), json!({"conditions": [gave_up("FailureTarget")]}));
        let done = json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]});
        let why = "failed: Job failed: BackoffLimitExceeded (Job has reached the backoff limit)";
        let cases = [
            (failed, why),
            (failing, why),
            (job(json!({}), json!({"active": 1, "failed": 2})),
             "pending: Job running: 1 active, 0 succeeded, 2 failed"),
            (job(json!({"suspend": true}), json!({})), "pending: Job is suspended"),
            (job(json!({}), done), "ready"),
        ];
        check(readiness, &cases);
        check(hook_outcome, &cases);
    }

    #[test]
    #[rustfmt::skip]
    fn pods_are_ready_when_ready_but_hook_pods_must_succeed() {
        let pod = |status: Value| object("v1", "Pod", json!({}), status);
        let ready = json!([{"type": "Ready", "status": "True"}]);
        let serving = pod(json!({"phase": "Running", "conditions": ready}));
        let in_state = |phase: &str, state: Value| pod(json!({"phase": phase,
            "containerStatuses": [{"name": "app", "state": state}]}));
        let pulling = in_state("Pending", json!({"waiting": {"reason": "ImagePullBackOff"}}));
        let crashed = in_state("Failed", json!({"terminated": {"reason": "Error", "exitCode": 1}}));
        let evicted = pod(json!({"phase": "Failed", "reason": "Evicted", "message": "low memory"}));
        check(readiness, &[
            (serving.clone(), "ready"),
            (pulling, "pending: Pod not ready: container app: ImagePullBackOff"),
            (pod(json!({"phase": "Succeeded"})), "ready"),
            (evicted, "failed: Pod failed: low memory"),
        ]);
        check(hook_outcome, &[
            (serving, "pending: Pod has not finished: phase Running"),
            (pod(json!({"phase": "Succeeded"})), "ready"),
            (crashed, "failed: Pod failed: container app: Error"),
            (object("v1", "ConfigMap", json!({}), json!({})), "ready"),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn claims_services_crds_and_other_kinds() {
        let pvc = |phase: &str| {
            object("v1", "PersistentVolumeClaim", json!({}), json!({"phase": phase}))
        };
        let crd = |conditions: Value| object("apiextensions.k8s.io/v1", "CustomResourceDefinition",
            json!({}), json!({"conditions": conditions}));
        let conflict =
            json!([{"type": "NamesAccepted", "status": "False", "message": "name in use"}]);
        check(readiness, &[
            (pvc("Bound"), "ready"),
            (pvc("Pending"), "pending: PersistentVolumeClaim is Pending, not Bound"),
            (pvc("Lost"), "failed: PersistentVolumeClaim lost its volume"),
            // No address will come on a cluster without a cloud controller.
            (object("v1", "Service", json!({"type": "LoadBalancer"}), json!({})), "ready"),
            (crd(json!([{"type": "Established", "status": "True"}])), "ready"),
            (crd(json!([])), "pending: waiting for the CRD to be established"),
            (crd(conflict), "failed: CRD names not accepted: name in use"),
            // Only built-in kinds have rules, not a custom kind that shares a name.
            (object("example.com/v1", "Deployment", json!({}), json!({})), "ready"),
        ]);
    }
}
