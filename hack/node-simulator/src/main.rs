//! Plays kubelet and scheduler for orch's test control plane, which runs the real API
//! server and controllers but no nodes: registers fake Ready nodes, binds pending pods to
//! them and moves the pods through their lifecycle, as told by `simulator.orch.dev/*`
//! annotations (see `lifecycle`).

mod kubelet;
mod lifecycle;
mod nodes;
mod pod_status;
mod pods;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Parser;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// The field manager of everything the simulator writes.
const FIELD_MANAGER: &str = "orch-node-simulator";

#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Kubeconfig of the cluster to simulate nodes for [default: KUBECONFIG, ~/.kube/config]
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// How many nodes to register
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    nodes: u16,
    /// Node names are PREFIX-0, PREFIX-1, ...
    #[arg(long, default_value = "orch-sim-node", value_name = "PREFIX")]
    node_prefix: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let client = connect(args.kubeconfig.as_deref()).await?;
    let nodes = nodes::NodePool::new(&args.node_prefix, usize::from(args.nodes));
    let kubelet_ports = kubelet::serve(client.clone(), &nodes).await?;
    let nodes = nodes.serving_logs_on(kubelet_ports);
    nodes.register(&client).await?;
    tracing::info!(nodes = ?nodes.names(), "nodes registered");
    tokio::spawn(nodes.clone().keep_fresh(client.clone()));
    pods::run(client, nodes).await
}

async fn connect(kubeconfig: Option<&Path>) -> anyhow::Result<Client> {
    let config = match kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path)
                .with_context(|| format!("reading kubeconfig {}", path.display()))?;
            Config::from_custom_kubeconfig(file, &KubeConfigOptions::default()).await?
        }
        None => Config::infer().await?,
    };
    Ok(Client::try_from(config)?)
}
