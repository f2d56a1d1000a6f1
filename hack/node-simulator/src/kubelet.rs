//! The one kubelet endpoint clients of the test control plane read: container logs, which
//! the API server fetches from the node a pod runs on (`kubectl logs`, the logs `orch test`
//! prints). A simulated container prints nothing of its own; its log is what its pod's
//! `simulator.orch.dev/log` annotation says.
//!
//! Each node listens on its own loopback address at a port of its own, so several test
//! control planes can run side by side; the node's status tells the API server the port.
//! The API server does not check a kubelet's certificate unless given a CA for it, so one
//! self-signed certificate serves every node.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use anyhow::Context;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::Pod;
use kube::{Api, Client};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::nodes::NodePool;

/// What a simulated container printed.
pub const LOG_ANNOTATION: &str = "simulator.orch.dev/log";

/// Starts one log server per node and returns each node's port.
pub async fn serve(client: Client, nodes: &NodePool) -> anyhow::Result<HashMap<String, u16>> {
    let acceptor = TlsAcceptor::from(Arc::new(tls_config(nodes)?));
    let mut ports = HashMap::new();
    for node in nodes.names() {
        let address = nodes.address(&node);
        let listener = TcpListener::bind((address.as_str(), 0))
            .await
            .with_context(|| format!("listening on {address} for node {node}'s logs"))?;
        ports.insert(node, listener.local_addr()?.port());
        tokio::spawn(accept(listener, acceptor.clone(), client.clone()));
    }
    Ok(ports)
}

fn tls_config(nodes: &NodePool) -> anyhow::Result<ServerConfig> {
    let addresses: Vec<String> = nodes.names().iter().map(|n| nodes.address(n)).collect();
    let certified = rcgen::generate_simple_self_signed(addresses)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let certificate = CertificateDer::from(certified.cert.der().to_vec());
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    Ok(ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![certificate], key)?)
}

async fn accept(listener: TcpListener, acceptor: TlsAcceptor, client: Client) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(err) => {
                tracing::warn!("accepting a log request failed: {err}");
                continue;
            }
        };
        let (acceptor, client) = (acceptor.clone(), client.clone());
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(stream).await else {
                return;
            };
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let client = client.clone();
                async move { Ok::<_, Infallible>(respond(&client, request.uri().path()).await) }
            });
            let served = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(err) = served {
                tracing::debug!("a log request failed: {err}");
            }
        });
    }
}

/// `/containerLogs/<namespace>/<pod>/<container>`: the pod's log annotation.
async fn respond(client: &Client, path: &str) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, body: String| {
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response
    };
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let ["containerLogs", namespace, pod, _container] = parts[..] else {
        return reply(StatusCode::NOT_FOUND, format!("not served here: {path}\n"));
    };
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    match api.get_opt(pod).await {
        Ok(Some(pod)) => {
            let log = pod
                .metadata
                .annotations
                .and_then(|mut a| a.remove(LOG_ANNOTATION))
                .unwrap_or_default();
            reply(StatusCode::OK, log)
        }
        Ok(None) => reply(
            StatusCode::NOT_FOUND,
            format!("pod {namespace}/{pod} not found\n"),
        ),
        Err(err) => reply(
            StatusCode::BAD_GATEWAY,
            format!("reading pod {namespace}/{pod}: {err}\n"),
        ),
    }
}
