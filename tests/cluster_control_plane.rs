//! The test control plane is a real one: the real controllers drive Deployments and Jobs
//! (with the node simulator as kubelet), namespaces delete with their contents, and
//! server-side apply and dry-run behave as orch relies on. If these fail, orch's cluster
//! tests cannot be trusted either.

mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use support::{TIMEOUT, TestNamespace, assert_stays, wait_for};

const FAIL: &str = "simulator.orch.dev/fail";
const READY_AFTER: &str = "simulator.orch.dev/ready-after";

fn deployment(name: &str, replicas: i32, pod_annotations: Value) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}, "annotations": pod_annotations},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.25",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]},
            },
        },
    }))
    .expect("a valid Deployment")
}

fn job(name: &str, backoff_limit: i32, pod_annotations: Value) -> Job {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": backoff_limit,
            "template": {
                "metadata": {"annotations": pod_annotations},
                "spec": {"restartPolicy": "Never",
                    "containers": [{"name": "task", "image": "busybox", "command": ["true"]}]},
            },
        },
    }))
    .expect("a valid Job")
}

async fn create<K>(api: &Api<K>, object: &K) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    api.create(&PostParams::default(), object)
        .await
        .unwrap_or_else(|err| panic!("creating {object:?}: {err}"))
}

async fn pods_of(ns: &TestNamespace, app: &str) -> Result<Vec<Pod>, String> {
    let params = ListParams::default().labels(&format!("app={app}"));
    let pods = ns
        .api::<Pod>()
        .list(&params)
        .await
        .map_err(|e| e.to_string())?;
    Ok(pods.items)
}

fn pod_ready(pod: &Pod) -> bool {
    let conditions = pod.status.as_ref().and_then(|s| s.conditions.as_ref());
    conditions.is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn pod_phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// The reason of the Job's condition `type_` if it is true.
fn job_condition(job: &Job, type_: &str) -> Option<String> {
    let conditions = job.status.as_ref().and_then(|s| s.conditions.as_ref())?;
    let condition = conditions
        .iter()
        .find(|c| c.type_ == type_ && c.status == "True")?;
    Some(condition.reason.clone().unwrap_or_default())
}

fn available_replicas(deployment: &Deployment) -> i32 {
    deployment
        .status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
}

async fn wait_until_available(api: &Api<Deployment>, name: &str, replicas: i32) {
    let what = format!("deployment {name} to have {replicas} available replicas");
    wait_for(&what, TIMEOUT, || async {
        let deployment = api.get(name).await.map_err(|e| e.to_string())?;
        if available_replicas(&deployment) == replicas {
            Ok(())
        } else {
            Err(format!("status {:?}", deployment.status))
        }
    })
    .await;
}

/// Pods that run but are not Ready, as `want` of them; describes them otherwise.
async fn running_unready_pods(ns: &TestNamespace, app: &str, want: usize) -> Result<(), String> {
    let pods = pods_of(ns, app).await?;
    let seen: Vec<String> = pods
        .iter()
        .map(|p| {
            format!(
                "{} {} ready={}",
                p.metadata.name.as_deref().unwrap_or("?"),
                pod_phase(p),
                pod_ready(p)
            )
        })
        .collect();
    let running_unready = pods
        .iter()
        .filter(|p| pod_phase(p) == "Running" && !pod_ready(p))
        .count();
    if pods.len() == want && running_unready == want {
        Ok(())
    } else {
        Err(format!("pods: {seen:?}"))
    }
}

#[tokio::test]
async fn a_deployment_becomes_available_through_the_real_controllers() {
    let ns = TestNamespace::new("deployment-available").await;
    let api = ns.api::<Deployment>();
    create(&api, &deployment("web", 2, json!({}))).await;

    wait_until_available(&api, "web", 2).await;
}

#[tokio::test]
async fn a_rolling_update_replaces_every_pod() {
    let ns = TestNamespace::new("rolling-update").await;
    let api = ns.api::<Deployment>();
    create(&api, &deployment("web", 2, json!({}))).await;
    let new_image = json!({"spec": {"template": {"spec": {
        "containers": [{"name": "app", "image": "nginx:1.27"}]}}}});
    api.patch("web", &PatchParams::default(), &Patch::Strategic(new_image))
        .await
        .expect("changing the image");

    // Old pods go only once the simulator finalizes them, as a kubelet would.
    wait_for("the rollout to finish with 2 new pods", TIMEOUT, || async {
        let pods = pods_of(&ns, "web").await?;
        let images: Vec<_> = pods
            .iter()
            .flat_map(|p| p.spec.iter().flat_map(|s| &s.containers))
            .map(|c| c.image.clone().unwrap_or_default())
            .collect();
        let web = api.get("web").await.map_err(|e| e.to_string())?;
        let done = images == ["nginx:1.27", "nginx:1.27"] && available_replicas(&web) == 2;
        done.then_some(())
            .ok_or_else(|| format!("pod images {images:?}, status {:?}", web.status))
    })
    .await;
}

#[tokio::test]
async fn a_deployment_whose_pods_fail_never_becomes_available() {
    let ns = TestNamespace::new("deployment-failing").await;
    let api = ns.api::<Deployment>();
    create(&api, &deployment("broken", 1, json!({FAIL: "true"}))).await;

    wait_for(
        "the pod of deployment broken to run, not ready",
        TIMEOUT,
        || running_unready_pods(&ns, "broken", 1),
    )
    .await;
    assert_stays(
        "deployment broken unavailable, its pod running but not ready",
        Duration::from_secs(4),
        || async {
            let broken = api.get("broken").await.map_err(|e| e.to_string())?;
            if available_replicas(&broken) != 0 {
                return Err(format!("status {:?}", broken.status));
            }
            running_unready_pods(&ns, "broken", 1).await
        },
    )
    .await;
}

#[tokio::test]
async fn a_job_completes() {
    let ns = TestNamespace::new("job-complete").await;
    let api = ns.api::<Job>();
    create(&api, &job("migrate", 0, json!({}))).await;

    wait_for("job migrate to complete", TIMEOUT, || async {
        let migrate = api.get("migrate").await.map_err(|e| e.to_string())?;
        match job_condition(&migrate, "Complete") {
            Some(_) => Ok(()),
            None => Err(format!("status {:?}", migrate.status)),
        }
    })
    .await;
}

#[tokio::test]
async fn a_job_whose_pods_fail_fails_after_its_backoff_limit() {
    let ns = TestNamespace::new("job-failing").await;
    let api = ns.api::<Job>();
    create(&api, &job("migrate", 1, json!({FAIL: "true"}))).await;

    let reason = wait_for("job migrate to fail", TIMEOUT, || async {
        let migrate = api.get("migrate").await.map_err(|e| e.to_string())?;
        job_condition(&migrate, "Failed").ok_or_else(|| format!("status {:?}", migrate.status))
    })
    .await;
    assert_eq!(reason, "BackoffLimitExceeded");
}

#[tokio::test]
async fn deleting_a_namespace_removes_it_and_its_objects() {
    let ns = TestNamespace::new("namespace-deletion").await;
    let deployments = ns.api::<Deployment>();
    create(&deployments, &deployment("web", 1, json!({}))).await;
    wait_until_available(&deployments, "web", 1).await;

    let namespaces = Api::<Namespace>::all(ns.client());
    namespaces
        .delete(ns.name(), &DeleteParams::default())
        .await
        .expect("deleting the namespace");
    wait_for("the namespace to be gone", TIMEOUT, || async {
        match namespaces
            .get_opt(ns.name())
            .await
            .map_err(|e| e.to_string())?
        {
            None => Ok(()),
            Some(namespace) => Err(format!("status {:?}", namespace.status)),
        }
    })
    .await;
    let left = ns
        .api::<Pod>()
        .list(&ListParams::default())
        .await
        .expect("listing pods");
    assert!(left.items.is_empty(), "pods left: {:?}", left.items);
}

#[tokio::test]
async fn server_side_apply_and_dry_run_work() {
    let ns = TestNamespace::new("server-side-apply").await;
    let api = ns.api::<Service>();
    // Kubernetes 1.20 rejects applied port items without `protocol` (it does not default it).
    let service = |target_port: i32| {
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"},
                "ports": [{"name": "http", "port": 80, "targetPort": target_port, "protocol": "TCP"}]},
        })
    };
    let target_port = |service: &Service| {
        let ports = service.spec.as_ref().and_then(|s| s.ports.as_ref());
        ports
            .and_then(|p| p.first())
            .and_then(|p| p.target_port.clone())
    };
    let apply = PatchParams::apply("orch-test");

    let created = api
        .patch("web", &apply, &Patch::Apply(service(8080)))
        .await
        .expect("applying the service");
    let version = created.metadata.resource_version.clone();

    let dry_run = api
        .patch(
            "web",
            &apply.clone().dry_run(),
            &Patch::Apply(service(9090)),
        )
        .await
        .expect("dry-run applying a change");
    assert_eq!(
        target_port(&dry_run),
        Some(IntOrString::Int(9090)),
        "dry-run shows the change"
    );
    let unchanged = api.get("web").await.expect("reading the service");
    assert_eq!(
        unchanged.metadata.resource_version, version,
        "dry-run wrote nothing"
    );
    assert_eq!(
        target_port(&unchanged),
        Some(IntOrString::Int(8080)),
        "dry-run changed nothing"
    );

    api.patch("web", &apply, &Patch::Apply(service(9090)))
        .await
        .expect("applying the change");
    let changed = api.get("web").await.expect("reading the service");
    assert_ne!(changed.metadata.resource_version, version);
    assert_eq!(target_port(&changed), Some(IntOrString::Int(9090)));
}

#[tokio::test]
async fn ready_after_delays_readiness() {
    let ns = TestNamespace::new("ready-after").await;
    let api = ns.api::<Deployment>();
    create(&api, &deployment("slow", 1, json!({READY_AFTER: "3s"}))).await;

    wait_for("the pod of deployment slow to run", TIMEOUT, || {
        running_unready_pods(&ns, "slow", 1)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pods = pods_of(&ns, "slow").await.expect("listing pods");
    assert!(
        !pods.iter().any(pod_ready),
        "ready after about 1 s: {pods:?}"
    );

    wait_for(
        "the pod of deployment slow to become ready",
        Duration::from_secs(10),
        || async {
            let pods = pods_of(&ns, "slow").await?;
            if !pods.is_empty() && pods.iter().all(pod_ready) {
                Ok(())
            } else {
                Err(format!("{} pods, not all ready", pods.len()))
            }
        },
    )
    .await;
}
