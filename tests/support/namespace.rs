//! A namespace per test, so tests can run in parallel on one cluster and leave nothing
//! behind when they pass; a failed test's namespace stays for inspection.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::SystemTime;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, ObjectMeta, PostParams};
use kube::{Client, Resource};

use super::cluster::{client, kubeconfig};

pub struct TestNamespace {
    name: String,
    client: Client,
}

impl TestNamespace {
    /// Creates `orch-t-<test>-<random suffix>`; `test` is shortened and cleaned to fit.
    pub async fn new(test: &str) -> Self {
        let client = client().await;
        let name = namespace_name(test);
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some([("orch.dev/test".to_string(), "true".to_string())].into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .unwrap_or_else(|err| panic!("creating namespace {name}: {err}"));
        TestNamespace { name, client }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// An API for `K` objects in this namespace.
    pub fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "kept namespace {} of the failed test (KUBECONFIG={})",
                self.name,
                kubeconfig().display()
            );
            return;
        }
        // Drop cannot await, and the test's runtime may be a single blocked thread: delete
        // from a thread with its own runtime (and client) and wait for the request only.
        let name = self.name.clone();
        let deleted = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| err.to_string())?;
            runtime.block_on(async {
                let api = Api::<Namespace>::all(client().await);
                match api.delete(&name, &DeleteParams::background()).await {
                    Ok(_) => Ok(()),
                    Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
                    Err(err) => Err(err.to_string()),
                }
            })
        })
        .join();
        match deleted {
            Ok(Ok(())) => {}
            Ok(Err(err)) => eprintln!("could not delete namespace {}: {err}", self.name),
            Err(_) => eprintln!(
                "could not delete namespace {}: the thread panicked",
                self.name
            ),
        }
    }
}

/// A DNS-1123 label: `orch-t-`, the test's name cleaned up, a random suffix; 63 chars at most.
fn namespace_name(test: &str) -> String {
    const PREFIX: &str = "orch-t-";
    const SUFFIX_LEN: usize = 6;
    let mut cleaned = String::new();
    for c in test.chars().map(|c| c.to_ascii_lowercase()) {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && (cleaned.is_empty() || cleaned.ends_with('-'))) {
            cleaned.push(c);
        }
    }
    cleaned.truncate(63 - PREFIX.len() - 1 - SUFFIX_LEN);
    let cleaned = cleaned.trim_end_matches('-');
    let separator = if cleaned.is_empty() { "" } else { "-" };
    format!("{PREFIX}{cleaned}{separator}{}", random_suffix(SUFFIX_LEN))
}

fn random_suffix(len: usize) -> String {
    // RandomState is seeded randomly per process and differs per instance.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    let mut bits = hasher.finish();
    (0..len)
        .map(|_| {
            let digit = (bits % 36) as u32;
            bits /= 36;
            char::from_digit(digit, 36).unwrap_or('0')
        })
        .collect()
}
