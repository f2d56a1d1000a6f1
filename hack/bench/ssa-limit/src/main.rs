//! The limits orch's sync is measured against: every object of the given manifest files
//! server-side applied at once (up to 64 requests in flight), nothing else — no records,
//! no hooks, no waiting. Files separated by `--` are waves, applied one after another as a
//! DAG's levels would be, each all at once. Usage: orch-ssa-limit FILE... [-- FILE...]...
//! (namespaces must exist).

use std::time::Instant;

use anyhow::{Context, Result};
use futures::{StreamExt, TryStreamExt, stream};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::{Discovery, Scope};
use serde::Deserialize;

#[tokio::main]
async fn main() -> Result<()> {
    let mut waves = vec![Vec::new()];
    for path in std::env::args().skip(1) {
        if path == "--" {
            waves.push(Vec::new());
            continue;
        }
        let text = std::fs::read_to_string(&path).with_context(|| path.clone())?;
        for document in serde_yaml_ng::Deserializer::from_str(&text) {
            let value = serde_json::Value::deserialize(document)?;
            if value.is_object() {
                waves.last_mut().expect("one wave at least").push(value);
            }
        }
    }
    let started = Instant::now();
    let client = kube::Client::try_default().await?;
    let discovery = Discovery::new(client.clone()).run().await?;
    let count: usize = waves.iter().map(Vec::len).sum();
    for wave in waves {
        apply_at_once(&client, &discovery, wave).await?;
    }
    println!(
        "{count} objects in {:.3} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Server-side applies `objects`, up to 64 at a time.
async fn apply_at_once(
    client: &kube::Client,
    discovery: &Discovery,
    objects: Vec<serde_json::Value>,
) -> Result<()> {
    stream::iter(objects)
        .map(|object| {
            let client = client.clone();
            async move {
                let object: DynamicObject = serde_json::from_value(object)?;
                let types = object
                    .types
                    .clone()
                    .context("an object without apiVersion/kind")?;
                let (group, version) = types
                    .api_version
                    .rsplit_once('/')
                    .unwrap_or(("", &types.api_version));
                let gvk = kube::core::GroupVersionKind::gvk(group, version, &types.kind);
                let (resource, caps) = discovery.resolve_gvk(&gvk).context("unknown kind")?;
                let name = object
                    .metadata
                    .name
                    .clone()
                    .context("an object without a name")?;
                let api: Api<DynamicObject> =
                    match (caps.scope, object.metadata.namespace.as_deref()) {
                        (Scope::Namespaced, Some(namespace)) => {
                            Api::namespaced_with(client, namespace, &resource)
                        }
                        _ => Api::all_with(client, &resource),
                    };
                api.patch(
                    &name,
                    &PatchParams::apply("ssa-limit").force(),
                    &Patch::Apply(&object),
                )
                .await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(64)
        .try_collect::<()>()
        .await
}
