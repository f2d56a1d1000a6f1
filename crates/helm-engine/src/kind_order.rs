//! Helm's kind order (pkg/releaseutil/kind_sorter.go): the sequence Helm 3 installs and
//! uninstalls a release's objects in, by kind. `helm template` prints in install order, and
//! orch's sync stage applies in it, so both sides share these lists.

use std::cmp::Ordering;

/// configurations, ...) come after every listed kind, alphabetically by kind.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

/// Helm's uninstall order: the install order reversed, except that Services go right after
/// Ingresses and IngressClasses, before the workloads behind them.
pub const UNINSTALL_ORDER: &[&str] = &[
    "APIService",
    "Ingress",
    "IngressClass",
    "Service",
    "CronJob",
    "Job",
    "StatefulSet",
    "HorizontalPodAutoscaler",
    "Deployment",
    "ReplicaSet",
    "ReplicationController",
    "Pod",
    "DaemonSet",
    "RoleBindingList",
    "RoleBinding",
    "RoleList",
    "Role",
    "ClusterRoleBindingList",
    "ClusterRoleBinding",
    "ClusterRoleList",
    "ClusterRole",
    "CustomResourceDefinition",
    "PersistentVolumeClaim",
    "PersistentVolume",
    "StorageClass",
    "ConfigMap",
    "SecretList",
    "Secret",
    "ServiceAccount",
    "PodDisruptionBudget",
    "PodSecurityPolicy",
    "LimitRange",
    "ResourceQuota",
    "NetworkPolicy",
    "Namespace",
    "PriorityClass",
];

/// Orders two kinds for installing, as Helm does: by the list, unlisted kinds last.
pub fn cmp_install(a: &str, b: &str) -> Ordering {
    cmp_listed(a, b, INSTALL_ORDER, Ordering::Greater)
}

/// Orders two kinds by their place in `order`; `unlisted` is where a kind missing from it
/// goes relative to a listed one, and unlisted kinds sort by name among themselves.
pub fn cmp_listed(a: &str, b: &str, order: &[&str], unlisted: Ordering) -> Ordering {
    let position = |kind: &str| order.iter().position(|listed| *listed == kind);
    match (position(a), position(b)) {
        (Some(a), Some(b)) => a.cmp(&b),
        (None, None) => a.cmp(b),
        (None, Some(_)) => unlisted,
        (Some(_), None) => unlisted.reverse(),
    }
}
