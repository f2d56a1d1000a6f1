//! What integration tests against the test control plane share: the cluster (given by
//! `ORCH_TEST_KUBECONFIG`, or started once per test binary with `hack/cluster/up.sh`),
//! clients for it, throwaway namespaces, and waiting with a deadline. Chart tests get a
//! loopback chart repository (`ChartServer`) and OCI registry (`Registry`) from it too.
//!
//! Use it from a test file with `mod support;`.
#![allow(dead_code, unused_imports)] // each test binary uses a different part of it

mod chart_server;
mod cluster;
mod namespace;
mod private;
mod project;
mod registry;
mod wait;

pub use chart_server::ChartServer;
pub use cluster::{client, client_for, kubeconfig, orch};
pub use namespace::TestNamespace;
pub use private::PrivateCluster;
pub use project::{Project, Run, engine_chart, engine_releases, records, revision_statuses};
pub use registry::{Registry, helm, registry_binary};
pub use wait::{TIMEOUT, assert_stays, wait_for};
