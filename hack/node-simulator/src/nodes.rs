//! The fake Nodes pods are bound to: registered once, then re-applied periodically so they
//! stay Ready with a fresh heartbeat (and come back if someone deletes them).

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

use crate::FIELD_MANAGER;

const HEARTBEAT: Duration = Duration::from_secs(20);
const KUBELET_VERSION: &str = "v1.20.2";

/// The simulated nodes, by name; each has its own made-up loopback address.
#[derive(Debug, Clone)]
pub struct NodePool {
    names: Vec<String>,
    /// Where each node serves its pods' logs (see `kubelet`).
    kubelet_ports: HashMap<String, u16>,
}

impl NodePool {
    pub fn new(prefix: &str, count: usize) -> Self {
        NodePool {
            names: (0..count).map(|i| format!("{prefix}-{i}")).collect(),
            kubelet_ports: HashMap::new(),
        }
    }

    /// The nodes, telling the API server where each serves its pods' logs.
    pub fn serving_logs_on(self, kubelet_ports: HashMap<String, u16>) -> Self {
        NodePool {
            kubelet_ports,
            ..self
        }
    }

    pub fn names(&self) -> BTreeSet<String> {
        self.names.iter().cloned().collect()
    }

    /// The node for the `n`th binding: round robin.
    pub fn pick(&self, n: usize) -> &str {
        &self.names[n % self.names.len()]
    }

    pub fn address(&self, node: &str) -> String {
        let index = self.names.iter().position(|n| n == node).unwrap_or(0);
        format!("127.0.10.{}", index % 250 + 1)
    }

    /// Creates or refreshes every node; fails if the API server refuses.
    pub async fn register(&self, client: &Client) -> anyhow::Result<()> {
        let api: Api<Node> = Api::all(client.clone());
        let params = PatchParams::apply(FIELD_MANAGER).force();
        for name in &self.names {
            let port = self.kubelet_ports.get(name).copied().unwrap_or_default();
            let (node, status) = node_manifest(name, &self.address(name), port, Timestamp::now());
            api.patch(name, &params, &Patch::Apply(&node))
                .await
                .with_context(|| format!("registering node {name}"))?;
            api.patch_status(name, &params, &Patch::Apply(&status))
                .await
                .with_context(|| format!("reporting status of node {name}"))?;
        }
        Ok(())
    }

    /// Refreshes the nodes forever; errors are logged and retried at the next beat.
    pub async fn keep_fresh(self, client: Client) {
        loop {
            tokio::time::sleep(HEARTBEAT).await;
            if let Err(err) = self.register(&client).await {
                tracing::warn!("node heartbeat failed: {err:#}");
            }
        }
    }
}

/// The node object and its status, as two server-side apply bodies (status is a subresource).
fn node_manifest(name: &str, address: &str, port: u16, now: Timestamp) -> (Value, Value) {
    let node = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node.orch.dev/simulated": "true",
            },
        },
    });
    let resources = json!({"cpu": "16", "memory": "64Gi", "pods": "110",
        "ephemeral-storage": "100Gi"});
    let condition = |type_: &str, status: &str, reason: &str| {
        json!({"type": type_, "status": status, "reason": reason,
            "lastHeartbeatTime": Time(now), "lastTransitionTime": Time(now)})
    };
    let status = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [
                condition("Ready", "True", "KubeletReady"),
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID"),
            ],
            "addresses": [
                {"type": "InternalIP", "address": address},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": "",
                "containerRuntimeVersion": "simulated://1.0",
                "kernelVersion": "",
                "kubeProxyVersion": KUBELET_VERSION,
                "kubeletVersion": KUBELET_VERSION,
                "machineID": name,
                "operatingSystem": "linux",
                "osImage": "orch node simulator",
                "systemUUID": name,
            },
        },
    });
    (node, status)
}
