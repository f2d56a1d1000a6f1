//! Defaults the API server needs in an applied object but older servers do not fill in.
//!
//! Server-side apply on Kubernetes before 1.21 rejects a port list item without `protocol`
//! ("associative list with keys has an element that omits key field protocol"), because
//! `protocol` is part of the list's merge key. Charts routinely omit it, so orch fills in
//! the default, `TCP`, which is what every server would default it to anyway.

use serde_json::Value;

/// Whether a server of `version` (`v1.20.2`) rejects ports without `protocol`; a version
/// that does not read as one is taken to, since filling in the default is always safe.
pub fn needs_protocol(version: &str) -> bool {
    let mut numbers = version.trim_start_matches('v').split(['.', '+', '-']);
    let major = numbers.next().and_then(|n| n.parse::<u64>().ok());
    let minor = numbers.next().and_then(|n| n.parse::<u64>().ok());
    match (major, minor) {
        (Some(major), Some(minor)) => (major, minor) < (1, 21),
        _ => true,
    }
}

/// Fills in `protocol: TCP` on Service ports and on container ports of any pod template.
pub fn fill_server_defaults(object: &mut Value) {
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let pod_spec = match kind.as_str() {
        "Service" => {
            default_protocols(object.pointer_mut("/spec/ports"));
            return;
        }
        "Pod" => object.pointer_mut("/spec"),
        "CronJob" => object.pointer_mut("/spec/jobTemplate/spec/template/spec"),
        _ => object.pointer_mut("/spec/template/spec"),
    };
    let Some(pod_spec) = pod_spec else { return };
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        if let Some(Value::Array(containers)) = pod_spec.get_mut(list) {
            for container in containers {
                default_protocols(container.get_mut("ports"));
            }
        }
    }
}

fn default_protocols(ports: Option<&mut Value>) {
    if let Some(Value::Array(ports)) = ports {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            port.entry("protocol")
                .or_insert_with(|| Value::String("TCP".into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_servers_before_1_21_need_the_protocol_written_out() {
        assert!(needs_protocol("v1.20.2"));
        assert!(needs_protocol("v1.20.15+k3s1"));
        assert!(!needs_protocol("v1.21.0"));
        assert!(!needs_protocol("v1.33.1-eks-1234"));
        assert!(needs_protocol("unknown"));
    }

    #[test]
    fn fills_service_and_container_ports() {
        let mut service = json!({"kind": "Service", "spec": {"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}});
        fill_server_defaults(&mut service);
        assert_eq!(
            service["spec"]["ports"],
            json!([{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}])
        );

        let mut deployment = json!({"kind": "Deployment", "spec": {"template": {"spec": {
            "containers": [{"name": "a", "ports": [{"containerPort": 8080}]}],
            "initContainers": [{"name": "i", "ports": [{"containerPort": 1}]}]
        }}}});
        fill_server_defaults(&mut deployment);
        assert_eq!(
            deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"],
            "TCP"
        );
        assert_eq!(
            deployment["spec"]["template"]["spec"]["initContainers"][0]["ports"][0]["protocol"],
            "TCP"
        );

        let mut cron = json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"name": "a", "ports": [{"containerPort": 1}]}]}}}}}});
        fill_server_defaults(&mut cron);
        assert_eq!(
            cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"],
            "TCP"
        );
    }

    #[test]
    fn leaves_other_objects_alone() {
        let mut config_map = json!({"kind": "ConfigMap", "data": {"ports": "x"}});
        let before = config_map.clone();
        fill_server_defaults(&mut config_map);
        assert_eq!(config_map, before);
    }
}
