//! Helm's `lookup` against the live cluster, as `helm upgrade` runs it: charts that keep
//! state in live objects (a generated password in a Secret) must see it, or every sync
//! would generate a new one. Read-only GETs and LISTs, with the caller's credentials; each
//! distinct query is asked once per run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kube::api::{Api, DynamicObject, ListParams};
use serde_json::{Value, json};
use tokio::runtime::Handle;

use super::discovery::Resources;

type Query = (String, String, String, String);

pub struct LiveLookup {
    client: kube::Client,
    resources: Arc<Resources>,
    /// Rendering runs on its own threads, outside the runtime: queries block on it.
    runtime: Handle,
    answers: Mutex<HashMap<Query, Result<Value, String>>>,
}

impl LiveLookup {
    pub(super) fn new(client: kube::Client, resources: Arc<Resources>, runtime: Handle) -> Self {
        LiveLookup {
            client,
            resources,
            runtime,
            answers: Mutex::new(HashMap::new()),
        }
    }

    async fn ask(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, String> {
        let (resource, namespaced) = self
            .resources
            .resolve(&self.client, api_version, kind)
            .await
            .map_err(|e| e.to_string())?;
        // As Helm: a namespaced kind with no namespace is looked up in every namespace.
        let api: Api<DynamicObject> = if namespaced && !namespace.is_empty() {
            Api::namespaced_with(self.client.clone(), namespace, &resource)
        } else {
            Api::all_with(self.client.clone(), &resource)
        };
        let failed = |e: kube::Error| format!("lookup {kind} {namespace}/{name}: {e}");
        if !name.is_empty() {
            let found = api.get_opt(name).await.map_err(failed)?;
            return Ok(found
                .and_then(|object| serde_json::to_value(object).ok())
                .unwrap_or_else(|| json!({})));
        }
        let list = api.list(&ListParams::default()).await.map_err(failed)?;
        // A list's items carry no apiVersion and kind on the wire; client-go's decoding,
        // which Helm's lookup returns, fills them in.
        let items: Vec<Value> = list
            .items
            .into_iter()
            .filter_map(|object| serde_json::to_value(object).ok())
            .map(|mut item| {
                if let Some(fields) = item.as_object_mut() {
                    fields.insert("apiVersion".into(), json!(api_version));
                    fields.insert("kind".into(), json!(kind));
                }
                item
            })
            .collect();
        Ok(json!({
            "apiVersion": api_version,
            "kind": format!("{kind}List"),
            "metadata": serde_json::to_value(&list.metadata).unwrap_or_else(|_| json!({})),
            "items": items,
        }))
    }
}

impl helm_engine::Lookup for LiveLookup {
    fn lookup(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, String> {
        let query = (
            api_version.to_string(),
            kind.to_string(),
            namespace.to_string(),
            name.to_string(),
        );
        if let Some(answer) = self
            .answers
            .lock()
            .ok()
            .and_then(|a| a.get(&query).cloned())
        {
            return answer;
        }
        let answer = self
            .runtime
            .block_on(self.ask(api_version, kind, namespace, name));
        if let Ok(mut answers) = self.answers.lock() {
            answers.insert(query, answer.clone());
        }
        answer
    }
}
