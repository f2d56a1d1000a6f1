//! Why an object is not ready, or failed, in the words of its pods: what a user needs to
//! fix a migration that fails or a Deployment that never becomes available.

use serde_json::Value;

use crate::cluster::{Cluster, Target};

use super::readiness::{Readiness, readiness};

/// One line per pod of a Job or workload (Deployment, StatefulSet, DaemonSet, ReplicaSet).
/// Best effort: a failure to look only means fewer details.
pub async fn pods_of(cluster: &Cluster, target: &Target) -> Vec<String> {
    pods(cluster, target)
        .await
        .iter()
        .map(pod_summary)
        .collect()
}

/// The pods of a Job or workload, or the pod itself; best effort, as `pods_of`.
pub async fn pods(cluster: &Cluster, target: &Target) -> Vec<Value> {
    let Some(namespace) = target.namespace() else {
        return Vec::new();
    };
    if target.kind() == "Pod" {
        return cluster
            .get(target)
            .await
            .ok()
            .flatten()
            .into_iter()
            .collect();
    }
    let selector = match target.kind() {
        "Job" => Some(format!("job-name={}", target.name)),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => {
            match cluster.get(target).await {
                Ok(Some(object)) => match_labels(&object),
                _ => None,
            }
        }
        _ => None,
    };
    let Some(selector) = selector else {
        return Vec::new();
    };
    let Ok(pods) = cluster.core_target("Pod", namespace, "").await else {
        return Vec::new();
    };
    cluster.list(&pods, &selector).await.unwrap_or_default()
}

/// `spec.selector.matchLabels` as a label selector.
fn match_labels(object: &Value) -> Option<String> {
    let labels = object.pointer("/spec/selector/matchLabels")?.as_object()?;
    let terms: Vec<String> = labels
        .iter()
        .filter_map(|(key, value)| Some(format!("{key}={}", value.as_str()?)))
        .collect();
    (!terms.is_empty()).then(|| terms.join(","))
}

/// `name: phase; container c: terminated (Error, exit code 1)` and the like.
pub fn pod_summary(pod: &Value) -> String {
    let name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let phase = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Unknown");
    let mut text = format!("{name}: {phase}");
    let statuses = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array);
    for status in statuses.into_iter().flatten() {
        let container = status.get("name").and_then(Value::as_str).unwrap_or("?");
        let state = status.get("state").and_then(Value::as_object);
        for (state_name, detail) in state.into_iter().flatten() {
            let reason = detail.get("reason").and_then(Value::as_str).unwrap_or("");
            let code = detail.get("exitCode").and_then(Value::as_i64);
            text.push_str(&format!("; container {container}: {state_name}"));
            match (reason, code) {
                ("", None) => {}
                (reason, Some(code)) => text.push_str(&format!(" ({reason}, exit code {code})")),
                (reason, None) => text.push_str(&format!(" ({reason})")),
            }
        }
    }
    if let Readiness::Pending(why) | Readiness::Failed(why) = readiness(pod) {
        text.push_str(&format!("; {why}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summarizes_a_failed_pod() {
        let pod = json!({
            "kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "migrate-x"},
            "status": {"phase": "Failed", "containerStatuses": [
                {"name": "migrate", "state": {"terminated": {"reason": "Error", "exitCode": 1}}}
            ]}
        });
        let text = pod_summary(&pod);
        assert!(
            text.starts_with(
                "migrate-x: Failed; container migrate: terminated (Error, exit code 1)"
            ),
            "{text}"
        );
    }

    #[test]
    fn selectors_come_from_match_labels() {
        let deployment =
            json!({"spec": {"selector": {"matchLabels": {"app": "web", "tier": "front"}}}});
        assert_eq!(
            match_labels(&deployment).as_deref(),
            Some("app=web,tier=front")
        );
        assert_eq!(match_labels(&json!({"spec": {}})), None);
    }
}
