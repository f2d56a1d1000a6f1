//! The only module that talks to the API server (kube-rs): connecting as kubectl does,
//! discovery, server-side apply and dry-run, reads, deletes.
//!
//! Objects travel as `serde_json::Value`: orch applies whatever charts render, so it works
//! with dynamic objects and leaves typed views to the stages that need them.

mod defaults;
mod discovery;
mod error;
mod lookup;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams, PropagationPolicy,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::ApiResource;
use serde_json::Value;

use crate::config::ReleaseId;
use crate::render::{Capabilities, ClusterView};

pub use defaults::fill_server_defaults;
pub use error::ClusterError;

use discovery::Resources;

/// orch's field manager for server-side apply: what `kubectl` and Helm show as the owner.
pub const FIELD_MANAGER: &str = "orch";

#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// A kubeconfig file; `None` reads `KUBECONFIG` or `~/.kube/config`, as kubectl.
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

pub struct Cluster {
    client: kube::Client,
    resources: Arc<Resources>,
    pub capabilities: Capabilities,
    /// How it was reached, for helm to reach it the same way.
    options: ConnectOptions,
    /// What its releases' ids name it ([`ReleaseId::cluster`]).
    pub label: Option<String>,
    /// Its server-side apply needs ports' `protocol` written out (before 1.21).
    fills_protocol: bool,
    /// Metadata lists read once per run, by namespace and resource with label selector.
    listed_once: std::sync::Mutex<HashMap<(String, String), ListingOnce>>,
    /// Namespaces seen to exist in this run: asked about once, not once per release.
    namespaces_seen: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// The names and labels of the objects one metadata-only list found.
pub type Listing = Arc<Vec<(String, std::collections::BTreeMap<String, String>)>>;

/// A listing, read by the first caller that needs it.
type ListingOnce = Arc<tokio::sync::OnceCell<Listing>>;

/// The clusters of one run: one per kube context its releases name, each connected once,
/// with its own credentials, discovery and capabilities.
pub struct Clusters {
    clusters: Vec<(Option<String>, Result<Cluster, ClusterError>)>,
}

/// One cluster to connect to: its kube context (`None`: the kubeconfig's current one) and
/// its releases' label.
pub struct ClusterTarget {
    pub context: Option<String>,
    pub label: Option<String>,
}

impl Clusters {
    /// Connects to every target at once. A kubeconfig that cannot be read or lacks a
    /// context is an error; a cluster that cannot be reached is kept as its error, to fail
    /// only its releases, unless no cluster can be reached.
    pub async fn connect(
        kubeconfig: Option<PathBuf>,
        targets: Vec<ClusterTarget>,
    ) -> Result<Clusters, ClusterError> {
        let connected = futures::future::join_all(targets.into_iter().map(|target| {
            let options = ConnectOptions {
                kubeconfig: kubeconfig.clone(),
                context: target.context.clone(),
            };
            async move {
                let cluster = Cluster::connect(&options).await.map(|mut cluster| {
                    cluster.label = target.label;
                    cluster
                });
                (target.context, cluster)
            }
        }))
        .await;
        let mut clusters = Vec::new();
        for (context, cluster) in connected {
            if let Err(err @ ClusterError::Config(_)) = cluster {
                return Err(err);
            }
            clusters.push((context, cluster));
        }
        // With no cluster reachable nothing can be done: the first one's error, as a run
        // on one cluster reports it.
        if clusters.iter().all(|(_, cluster)| cluster.is_err()) {
            if let Some((_, Err(err))) = clusters.into_iter().next() {
                return Err(err);
            }
            return Ok(Clusters {
                clusters: Vec::new(),
            });
        }
        Ok(Clusters { clusters })
    }

    /// The cluster of `context`, or why it cannot be reached.
    pub fn get(&self, context: Option<&str>) -> Result<&Cluster, String> {
        let name = context.unwrap_or("the current context");
        match self.clusters.iter().find(|(c, _)| c.as_deref() == context) {
            Some((_, Ok(cluster))) => Ok(cluster),
            Some((_, Err(err))) => Err(format!("cluster {name}: {err}")),
            None => Err(format!("cluster {name} is not connected in this run")),
        }
    }

    /// The clusters that were reached, with their contexts.
    pub fn reachable(&self) -> impl Iterator<Item = (Option<&str>, &Cluster)> {
        self.clusters
            .iter()
            .filter_map(|(context, cluster)| Some((context.as_deref(), cluster.as_ref().ok()?)))
    }
}

/// The kubeconfig's current context, as kubectl reads it.
pub fn current_context(kubeconfig: Option<&std::path::Path>) -> Option<String> {
    match kubeconfig {
        Some(path) => Kubeconfig::read_from(path).ok()?.current_context,
        None => Kubeconfig::read().ok()?.current_context,
    }
}

/// A rendered object's address in the API: where to send it.
#[derive(Debug, Clone)]
pub struct Target {
    resource: ApiResource,
    namespace: Option<String>,
    pub name: String,
}

impl Target {
    pub fn kind(&self) -> &str {
        &self.resource.kind
    }

    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{} {namespace}/{}", self.resource.kind, self.name),
            None => write!(f, "{} {}", self.resource.kind, self.name),
        }
    }
}

impl Cluster {
    pub async fn connect(options: &ConnectOptions) -> Result<Cluster, ClusterError> {
        let kube_options = KubeConfigOptions {
            context: options.context.clone(),
            ..KubeConfigOptions::default()
        };
        let mut config = match &options.kubeconfig {
            Some(path) => {
                let kubeconfig = Kubeconfig::read_from(path)
                    .map_err(|e| ClusterError::Config(format!("{}: {e}", path.display())))?;
                kube::Config::from_custom_kubeconfig(kubeconfig, &kube_options).await
            }
            None => kube::Config::from_kubeconfig(&kube_options).await,
        }
        .map_err(|e| ClusterError::Config(e.to_string()))?;
        // A stopped API server must fail orch in bounded time, not hang it.
        config.connect_timeout = Some(Duration::from_secs(10));
        config.read_timeout = Some(Duration::from_secs(60));
        config.write_timeout = Some(Duration::from_secs(60));
        let server = config.cluster_url.to_string();
        // The client retries what a busy API server turns away (429 from priority and
        // fairness or max-in-flight, 503, 504) after the Retry-After it asks for, with
        // backoff (kube's default retry, `Config::default_retry`): a sync of thousands of
        // releases slows to what the server accepts instead of failing releases.
        let client =
            kube::Client::try_from(config).map_err(|e| ClusterError::Config(e.to_string()))?;
        let version = client
            .apiserver_version()
            .await
            .map_err(|e| ClusterError::Unreachable {
                server: server.clone(),
                message: e.to_string(),
            })?;
        let resources =
            Resources::discover(&client)
                .await
                .map_err(|e| ClusterError::Unreachable {
                    server,
                    message: e.to_string(),
                })?;
        let fills_protocol = defaults::needs_protocol(&version.git_version);
        let capabilities = Capabilities {
            kube_version: version.git_version,
            api_versions: resources.api_versions.clone(),
        };
        Ok(Cluster {
            client,
            resources: Arc::new(resources),
            capabilities,
            options: options.clone(),
            label: None,
            fills_protocol,
            listed_once: std::sync::Mutex::default(),
            namespaces_seen: std::sync::Mutex::default(),
        })
    }

    /// What charts rendered for this cluster see: its capabilities, `lookup` of its live
    /// objects (answered on `runtime` from the rendering threads), and the releases'
    /// latest `revisions`.
    pub fn view(
        &self,
        runtime: tokio::runtime::Handle,
        revisions: HashMap<ReleaseId, u64>,
    ) -> ClusterView {
        let mut helm_access = Vec::new();
        if let Some(kubeconfig) = &self.options.kubeconfig {
            helm_access.extend(["--kubeconfig".to_string(), kubeconfig.display().to_string()]);
        }
        if let Some(context) = &self.options.context {
            helm_access.extend(["--kube-context".to_string(), context.clone()]);
        }
        ClusterView {
            capabilities: self.capabilities.clone(),
            lookup: Arc::new(lookup::LiveLookup::new(
                self.client.clone(),
                self.resources.clone(),
                runtime,
            )),
            revisions,
            helm_access,
            reused_values: HashMap::new(),
        }
    }

    /// Where `object` goes: its resource, and for namespaced kinds its namespace
    /// (`default_namespace` when the object names none).
    pub async fn target(
        &self,
        object: &Value,
        default_namespace: &str,
    ) -> Result<Target, ClusterError> {
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kind = object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let (resource, namespaced) = self
            .resources
            .resolve(&self.client, api_version, kind)
            .await?;
        let namespace = namespaced.then(|| {
            object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or(default_namespace)
                .to_string()
        });
        Ok(Target {
            resource,
            namespace,
            name,
        })
    }

    /// Where `object` will go once `crd`, not yet applied, defines its kind: discovery
    /// cannot know it yet, so the address comes from the CRD itself.
    pub fn target_defined_by(
        &self,
        object: &Value,
        crd: &Value,
        default_namespace: &str,
    ) -> Option<Target> {
        let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
        let (group, version) = text("/apiVersion")?.rsplit_once('/')?;
        let kind = text("/kind")?;
        let defines = crd.pointer("/spec/group").and_then(Value::as_str) == Some(group)
            && crd.pointer("/spec/names/kind").and_then(Value::as_str) == Some(kind);
        if !defines {
            return None;
        }
        let plural = crd.pointer("/spec/names/plural").and_then(Value::as_str)?;
        let gvk = kube::core::GroupVersionKind::gvk(group, version, kind);
        let namespaced = crd.pointer("/spec/scope").and_then(Value::as_str) == Some("Namespaced");
        Some(Target {
            resource: ApiResource::from_gvk_with_plural(&gvk, plural),
            namespace: namespaced.then(|| {
                text("/metadata/namespace")
                    .unwrap_or(default_namespace)
                    .to_string()
            }),
            name: text("/metadata/name")?.to_string(),
        })
    }

    /// The address of an object whose kind the cluster does not serve, to show it in a
    /// review: Kubernetes' usual plural of the kind, in its namespace (or the release's).
    /// Nothing is ever sent to it.
    pub fn target_unserved(&self, object: &Value, default_namespace: &str) -> Option<Target> {
        let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
        let (group, version) = match text("/apiVersion")?.rsplit_once('/') {
            Some((group, version)) => (group, version),
            None => ("", text("/apiVersion")?),
        };
        let gvk = kube::core::GroupVersionKind::gvk(group, version, text("/kind")?);
        Some(Target {
            resource: ApiResource::from_gvk(&gvk),
            namespace: Some(
                text("/metadata/namespace")
                    .unwrap_or(default_namespace)
                    .to_string(),
            ),
            name: text("/metadata/name")?.to_string(),
        })
    }

    fn api(&self, target: &Target) -> Api<DynamicObject> {
        match &target.namespace {
            Some(namespace) => {
                Api::namespaced_with(self.client.clone(), namespace, &target.resource)
            }
            None => Api::all_with(self.client.clone(), &target.resource),
        }
    }

    /// Server-side apply as `orch`; with `dry_run`, the object as the server would store it.
    pub async fn apply(
        &self,
        target: &Target,
        object: &Value,
        dry_run: bool,
        force: bool,
    ) -> Result<Value, ClusterError> {
        let mut object = object.clone();
        if let Some(namespace) = &target.namespace {
            object["metadata"]["namespace"] = Value::String(namespace.clone());
        }
        if self.fills_protocol {
            fill_server_defaults(&mut object);
        }
        let mut params = PatchParams::apply(FIELD_MANAGER);
        params.force = force;
        params.dry_run = dry_run;
        let applied = self
            .api(target)
            .patch(&target.name, &params, &Patch::Apply(&object))
            .await
            .map_err(|e| ClusterError::api("apply", target, e))?;
        Ok(serde_json::to_value(applied).unwrap_or(Value::Null))
    }

    /// Creates the object; fails with a 409 when it exists, which makes creation a lock.
    pub async fn create(&self, target: &Target, object: &Value) -> Result<Value, ClusterError> {
        let object: DynamicObject =
            serde_json::from_value(object.clone()).map_err(|e| ClusterError::Api {
                verb: "create",
                target: target.to_string(),
                code: 0,
                message: format!("not an object: {e}"),
            })?;
        let params = PostParams {
            field_manager: Some(FIELD_MANAGER.to_string()),
            ..PostParams::default()
        };
        let created = self
            .api(target)
            .create(&params, &object)
            .await
            .map_err(|e| ClusterError::api("create", target, e))?;
        Ok(serde_json::to_value(created).unwrap_or(Value::Null))
    }

    pub async fn get(&self, target: &Target) -> Result<Option<Value>, ClusterError> {
        let found = self
            .api(target)
            .get_opt(&target.name)
            .await
            .map_err(|e| ClusterError::api("get", target, e))?;
        Ok(found.map(|object| serde_json::to_value(object).unwrap_or(Value::Null)))
    }

    /// Deletes the object, waits until it is gone, and applies `object` in its place: helm's
    /// --force, for a change to fields that cannot change in place.
    pub async fn replace(
        &self,
        target: &Target,
        object: &Value,
        force: bool,
        timeout: std::time::Duration,
    ) -> Result<Value, ClusterError> {
        self.delete(target).await?;
        let deadline = std::time::Instant::now() + timeout;
        while self.get(target).await?.is_some() {
            if std::time::Instant::now() >= deadline {
                return Err(ClusterError::Api {
                    verb: "replace",
                    target: target.to_string(),
                    code: 0,
                    message: format!("still being deleted after {timeout:?}"),
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        self.apply(target, object, false, force).await
    }

    /// Deletes in the background (dependents are garbage-collected); absent is fine.
    pub async fn delete(&self, target: &Target) -> Result<(), ClusterError> {
        let params = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..DeleteParams::default()
        };
        match self.api(target).delete(&target.name, &params).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(e) => Err(ClusterError::api("delete", target, e)),
        }
    }

    /// Objects of one kind in a namespace matching a label selector.
    pub async fn list(
        &self,
        target: &Target,
        label_selector: &str,
    ) -> Result<Vec<Value>, ClusterError> {
        let list = self
            .api(target)
            .list(&ListParams::default().labels(label_selector))
            .await
            .map_err(|e| ClusterError::api("list", target, e))?;
        Ok(list
            .items
            .into_iter()
            .map(|object| serde_json::to_value(object).unwrap_or(Value::Null))
            .collect())
    }

    /// The names and labels of the objects of one kind in a namespace matching a label
    /// selector, as they were when the run first asked: one metadata-only list per
    /// namespace and selector, however many callers ask, and bodies (release records are
    /// up to a megabyte) stay on the server. For what the run reads before it
    /// writes (release records: each release writes only its own after reading them).
    pub async fn list_labels_once(
        &self,
        target: &Target,
        label_selector: &str,
    ) -> Result<Listing, ClusterError> {
        let key = (
            target.namespace.clone().unwrap_or_default(),
            format!("{}?{label_selector}", target.resource.plural),
        );
        let cell = match self.listed_once.lock() {
            Ok(mut listed) => listed.entry(key).or_default().clone(),
            Err(_) => Arc::default(),
        };
        cell.get_or_try_init(|| async {
            let list = self
                .api(target)
                .list_metadata(&ListParams::default().labels(label_selector))
                .await
                .map_err(|e| ClusterError::api("list", target, e))?;
            let found = list.items.into_iter().map(|object| {
                let name = object.metadata.name.unwrap_or_default();
                (name, object.metadata.labels.unwrap_or_default())
            });
            Ok(Arc::new(found.collect()))
        })
        .await
        .cloned()
    }

    /// What a container of a pod printed, as `kubectl logs` shows it.
    pub async fn pod_logs(&self, pod: &Target, container: &str) -> Result<String, ClusterError> {
        let namespace = pod.namespace.as_deref().unwrap_or_default();
        let pods: Api<k8s_openapi::api::core::v1::Pod> =
            Api::namespaced(self.client.clone(), namespace);
        let params = kube::api::LogParams {
            container: Some(container.to_string()),
            ..kube::api::LogParams::default()
        };
        pods.logs(&pod.name, &params)
            .await
            .map_err(|e| ClusterError::api("read the logs of", pod, e))
    }

    /// The StorageClasses: (name, whether it is the default).
    pub async fn storage_classes(&self) -> Result<Vec<(String, bool)>, ClusterError> {
        let class = serde_json::json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": ""}});
        let target = self.target(&class, "").await?;
        let classes = self.list(&target, "").await?;
        Ok(classes
            .iter()
            .map(|class| {
                let name = class
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let default = class
                    .pointer("/metadata/annotations/storageclass.kubernetes.io~1is-default-class")
                    .and_then(Value::as_str)
                    == Some("true");
                (name.to_string(), default)
            })
            .collect())
    }

    /// Creates the namespace unless it exists.
    pub async fn ensure_namespace(&self, name: &str) -> Result<(), ClusterError> {
        if self.seen_namespace(name) {
            return Ok(());
        }
        let namespace = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        let target = self.target(&namespace, "").await?;
        if self.get(&target).await?.is_none() {
            self.apply(&target, &namespace, false, false).await?;
        }
        self.saw_namespace(name);
        Ok(())
    }

    fn seen_namespace(&self, name: &str) -> bool {
        self.namespaces_seen
            .lock()
            .is_ok_and(|seen| seen.contains(name))
    }

    fn saw_namespace(&self, name: &str) {
        if let Ok(mut seen) = self.namespaces_seen.lock() {
            seen.insert(name.to_string());
        }
    }

    /// Whether a namespace exists; diff renders against an absent namespace differently.
    /// An identity allowed only inside namespaces may not read Namespace objects; then the
    /// namespace is taken to exist, and requests into it say clearly if it does not.
    pub async fn namespace_exists(&self, name: &str) -> Result<bool, ClusterError> {
        if self.seen_namespace(name) {
            return Ok(true);
        }
        let namespace = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        let target = self.target(&namespace, "").await?;
        match self.get(&target).await {
            Ok(Some(_)) => {
                self.saw_namespace(name);
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(err) if err.is_forbidden() => Ok(true),
            Err(err) => Err(err),
        }
    }

    /// The address of a core/v1 object, which discovery always knows.
    pub async fn core_target(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Target, ClusterError> {
        let object =
            serde_json::json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}});
        self.target(&object, namespace).await
    }
}
