//! Plays scheduler and kubelet: watches every pod, and carries out what `lifecycle::decide`
//! says (bind, patch status, finalize). Each pod is handled idempotently from its current
//! state, so repeated or stale events are harmless.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio::sync::mpsc;

use crate::lifecycle::{Decision, PodFacts, PodState, decide, pod_key};
use crate::nodes::NodePool;
use crate::pod_status::status_patch;

/// How soon a pod is looked at again after an API call about it failed.
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// A pod to look at again, by namespace and name.
type PodRef = (String, String);

struct Simulator {
    client: Client,
    nodes: NodePool,
    node_names: BTreeSet<String>,
    /// When the simulator started each pod it runs, by uid. Pod status times have only
    /// second precision, too coarse for `ready-after: 500ms`; they are the fallback after a
    /// restart of the simulator.
    started: HashMap<String, Instant>,
    bindings: usize,
    recheck: mpsc::UnboundedSender<PodRef>,
}

pub async fn run(client: Client, nodes: NodePool) -> anyhow::Result<()> {
    let all: Api<Pod> = Api::all(client.clone());
    // The watcher re-lists and re-watches on its own after errors; the backoff spaces retries.
    let mut events = watcher(all, watcher::Config::default())
        .default_backoff()
        .boxed();
    let (recheck, mut rechecks) = mpsc::unbounded_channel();
    let mut simulator = Simulator {
        client,
        node_names: nodes.names(),
        nodes,
        started: HashMap::new(),
        bindings: 0,
        recheck,
    };
    loop {
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod))) => {
                    simulator.handle(&pod).await;
                }
                Some(Ok(watcher::Event::Delete(pod))) => {
                    simulator.started.remove(&pod.uid().unwrap_or_default());
                }
                Some(Ok(watcher::Event::Init | watcher::Event::InitDone)) => {}
                Some(Err(err)) => tracing::warn!("pod watch failed, retrying: {err}"),
                None => anyhow::bail!("the pod watch ended"),
            },
            Some((namespace, name)) = rechecks.recv() => {
                let api: Api<Pod> = Api::namespaced(simulator.client.clone(), &namespace);
                match api.get_opt(&name).await {
                    Ok(Some(pod)) => simulator.handle(&pod).await,
                    Ok(None) => {}
                    Err(err) => {
                        tracing::warn!(pod = %format!("{namespace}/{name}"), "get failed: {err}");
                        simulator.recheck_later((namespace, name), RETRY_AFTER);
                    }
                }
            }
        }
    }
}

impl Simulator {
    async fn handle(&mut self, pod: &Pod) {
        let facts = PodFacts::of(pod, &self.node_names);
        let uid = pod.uid().unwrap_or_default();
        let running_for = self
            .started
            .get(&uid)
            .map(Instant::elapsed)
            .or_else(|| facts.observed.and_then(|_| started_by_status(pod)));
        let result = match decide(&facts, running_for) {
            Decision::Leave => Ok(()),
            Decision::Bind => self.bind(pod).await,
            Decision::Finalize => self.finalize(pod).await,
            Decision::Converge { state, recheck_in } => {
                let since = Instant::now().checked_sub(running_for.unwrap_or_default());
                self.started
                    .entry(uid)
                    .or_insert_with(|| since.unwrap_or_else(Instant::now));
                if let Some(delay) = recheck_in {
                    self.recheck_later(pod_ref(pod), delay);
                }
                if facts.observed == Some(state) {
                    Ok(())
                } else {
                    self.set_state(pod, state).await
                }
            }
        };
        match result {
            Ok(()) => {}
            // Gone, or changed since this copy was read: a newer watch event follows.
            Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => {
                tracing::debug!(pod = %pod_key(pod), "skipped: {}", status.message);
            }
            Err(err) => {
                tracing::warn!(pod = %pod_key(pod), "will retry: {err}");
                self.recheck_later(pod_ref(pod), RETRY_AFTER);
            }
        }
    }

    async fn bind(&mut self, pod: &Pod) -> kube::Result<()> {
        let node = pinned_node(pod)
            .filter(|n| self.node_names.contains(n))
            .unwrap_or_else(|| self.nodes.pick(self.bindings).to_string());
        self.bindings += 1;
        let binding = json!({
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": pod.name_any(), "namespace": pod.namespace()},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        });
        self.api(pod)
            .create_subresource::<_, serde_json::Value>(
                "binding",
                &pod.name_any(),
                &PostParams::default(),
                &binding,
            )
            .await?;
        tracing::info!(pod = %pod_key(pod), %node, "bound");
        Ok(())
    }

    async fn set_state(&self, pod: &Pod, state: PodState) -> kube::Result<()> {
        let node = pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
        let host_ip = self.nodes.address(node.unwrap_or_default());
        let patch = status_patch(pod, state, &host_ip, Timestamp::now());
        self.api(pod)
            .patch_status(
                &pod.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await?;
        tracing::info!(pod = %pod_key(pod), ?state, "status");
        Ok(())
    }

    /// Deletes a terminating pod for good, as a kubelet does once its containers stopped;
    /// the uid precondition spares a new pod that reuses the name (StatefulSets do).
    async fn finalize(&self, pod: &Pod) -> kube::Result<()> {
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: pod.uid(),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        self.api(pod).delete(&pod.name_any(), &params).await?;
        tracing::info!(pod = %pod_key(pod), "finalized");
        Ok(())
    }

    fn api(&self, pod: &Pod) -> Api<Pod> {
        Api::namespaced(self.client.clone(), &pod.namespace().unwrap_or_default())
    }

    fn recheck_later(&self, pod: PodRef, delay: Duration) {
        let recheck = self.recheck.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            // The receiver only goes away when the simulator stops.
            let _ = recheck.send(pod);
        });
    }
}

fn pod_ref(pod: &Pod) -> PodRef {
    (pod.namespace().unwrap_or_default(), pod.name_any())
}

/// How long ago the pod's status says it started (second precision).
fn started_by_status(pod: &Pod) -> Option<Duration> {
    let start = pod.status.as_ref()?.start_time.as_ref()?.0;
    let elapsed = Timestamp::now().duration_since(start);
    Duration::try_from(elapsed).ok()
}

/// The node a DaemonSet pod is meant for: its controller pins it with a required node
/// affinity on `metadata.name` and expects the scheduler to honour it.
fn pinned_node(pod: &Pod) -> Option<String> {
    let terms = &pod
        .spec
        .as_ref()?
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|r| r.key == "metadata.name" && r.operator == "In")
        .and_then(|r| r.values.as_ref()?.first().cloned())
}
