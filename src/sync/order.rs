//! The order a release's objects are applied and deleted in, and the waves that let objects
//! with no dependency between them go to the API server together. The kind lists are
//! Helm's (`helm_engine::kind_order`).

use std::cmp::Ordering;

use helm_engine::kind_order::{UNINSTALL_ORDER, cmp_install, cmp_listed};

use crate::render::Manifest;

/// Orders two kinds for deleting. Unlike Helm, which deletes unlisted kinds last here too,
/// orch deletes them first: custom resources must go while the operator that runs their
/// finalizers still exists, or they hang in Terminating once its Deployment is gone.
pub fn cmp_uninstall(a: &str, b: &str) -> Ordering {
    cmp_listed(a, b, UNINSTALL_ORDER, Ordering::Less)
}

/// Sorts into install order. The sort is stable: objects of one kind keep their rendered
/// order (template path, then position in the file), as in Helm since 3.2.
pub fn install_order(manifests: &mut [&Manifest]) {
    manifests.sort_by(|a, b| cmp_install(kind(a), kind(b)));
}

/// Sorts into uninstall order, stably.
pub fn uninstall_order(manifests: &mut [&Manifest]) {
    manifests.sort_by(|a, b| cmp_uninstall(kind(a), kind(b)));
}

/// Groups objects into waves to apply one after another; the objects of a wave may be
/// applied concurrently. Flattened, the waves are Helm's install order.
///
/// Helm's list is a total order only because Helm creates one object at a time. The real
/// constraints are few, and an object goes in the first wave after everything it needs
/// that the release contains (`needs`): namespaced objects after their Namespace;
/// ServiceAccount tokens after their ServiceAccount (the token controller deletes a token
/// Secret whose account is missing); bindings after the roles they grant (the API server's
/// escalation check reads the role); PVCs after StorageClasses (the default class is set
/// at admission); and anything that makes pods after what pods are admitted against or
/// mount: ServiceAccounts, Secrets, ConfigMaps, PVCs, quotas, limit ranges, priority
/// classes, network policies, bindings. Services also count: pods get `*_SERVICE_HOST`
/// variables only for Services that exist when they start, and keeping that deterministic
/// costs a wave only when a release has a Service but nothing else pods need. Custom
/// resources wait for everything but workloads, as in Helm where they come last.
///
/// A typical release (ServiceAccount, ConfigMap, Secret, Service, Deployment, HPA,
/// Ingress, PDB) applies in two waves. The caller waits for CRDs to be Established before
/// the next wave: an API server only serves a kind once its CRD is.
pub fn apply_waves<'m>(manifests: &[&'m Manifest]) -> Vec<Vec<&'m Manifest>> {
    let mut sorted = manifests.to_vec();
    install_order(&mut sorted);
    // In install order every object's needs come before it (a test holds that), so one
    // pass gives each object its wave: one past the latest wave of anything it needs.
    let mut waves: Vec<Vec<&'m Manifest>> = Vec::new();
    let mut levels: Vec<usize> = Vec::with_capacity(sorted.len());
    for (index, manifest) in sorted.iter().enumerate() {
        let level = sorted[..index]
            .iter()
            .zip(&levels)
            .filter(|(earlier, _)| needs(manifest, kind(earlier)))
            .map(|(_, level)| level + 1)
            .max()
            .unwrap_or(0);
        levels.push(level);
        match waves.get_mut(level) {
            Some(wave) => wave.push(manifest),
            None => waves.push(vec![manifest]),
        }
    }
    waves
}

/// What a kind is to the objects around it; see `apply_waves`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Cluster-scoped objects that need nothing: namespaces, CRDs, classes, cluster roles.
    Scaffold,
    /// Namespaced objects that need only their namespace.
    Namespaced,
    Secret,
    Claim,
    ClusterBinding,
    Binding,
    /// Makes pods, or scales what does.
    Workload,
    Ingress,
    ApiService,
    /// Any kind Helm does not list.
    Custom,
}

fn role(kind: &str) -> Role {
    match kind {
        "PriorityClass"
        | "Namespace"
        | "PodSecurityPolicy"
        | "StorageClass"
        | "PersistentVolume"
        | "CustomResourceDefinition"
        | "ClusterRole"
        | "ClusterRoleList"
        | "IngressClass" => Role::Scaffold,
        "NetworkPolicy"
        | "ResourceQuota"
        | "LimitRange"
        | "PodDisruptionBudget"
        | "ServiceAccount"
        | "ConfigMap"
        | "Role"
        | "RoleList"
        | "Service" => Role::Namespaced,
        "Secret" | "SecretList" => Role::Secret,
        "PersistentVolumeClaim" => Role::Claim,
        "ClusterRoleBinding" | "ClusterRoleBindingList" => Role::ClusterBinding,
        "RoleBinding" | "RoleBindingList" => Role::Binding,
        "DaemonSet"
        | "Pod"
        | "ReplicationController"
        | "ReplicaSet"
        | "Deployment"
        | "HorizontalPodAutoscaler"
        | "StatefulSet"
        | "Job"
        | "CronJob" => Role::Workload,
        "Ingress" => Role::Ingress,
        "APIService" => Role::ApiService,
        _ => Role::Custom,
    }
}

/// Whether `object` must be applied after an object of kind `earlier`.
fn needs(object: &Manifest, earlier: &str) -> bool {
    match role(kind(object)) {
        Role::Scaffold => false,
        Role::Namespaced => earlier == "Namespace",
        Role::Secret => {
            earlier == "Namespace" || (earlier == "ServiceAccount" && is_account_token(object))
        }
        Role::Claim => matches!(earlier, "Namespace" | "StorageClass" | "PersistentVolume"),
        Role::ClusterBinding => matches!(earlier, "ClusterRole" | "ClusterRoleList"),
        Role::Binding => matches!(
            earlier,
            "Namespace" | "ClusterRole" | "ClusterRoleList" | "Role" | "RoleList"
        ),
        Role::Workload => pods_need(earlier),
        Role::Ingress => pods_need(earlier) || earlier == "IngressClass",
        Role::ApiService => pods_need(earlier) || role(earlier) == Role::Workload,
        Role::Custom => !matches!(
            role(earlier),
            Role::Workload | Role::Ingress | Role::ApiService | Role::Custom
        ),
    }
}

/// Kinds a pod is admitted against, mounts, or acts with.
fn pods_need(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "PriorityClass"
            | "PodSecurityPolicy"
            | "StorageClass"
            | "NetworkPolicy"
            | "ResourceQuota"
            | "LimitRange"
            | "ServiceAccount"
            | "Secret"
            | "SecretList"
            | "ConfigMap"
            | "PersistentVolumeClaim"
            | "ClusterRoleBinding"
            | "ClusterRoleBindingList"
            | "RoleBinding"
            | "RoleBindingList"
            | "Service"
    )
}

fn is_account_token(secret: &Manifest) -> bool {
    secret.object.get("type").and_then(|t| t.as_str())
        == Some("kubernetes.io/service-account-token")
}

fn kind(manifest: &Manifest) -> &str {
    manifest.kind().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use helm_engine::kind_order::INSTALL_ORDER;
    use serde_json::json;

    use super::*;

    /// Objects from "Kind/name" strings; a Secret named `token` is a ServiceAccount token.
    fn objects(specs: &[&str]) -> Vec<Manifest> {
        let object = |spec: &&str| {
            let (kind, name) = spec.split_once('/').unwrap_or((spec, "x"));
            let mut object = json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}});
            if name == "token" {
                object["type"] = json!("kubernetes.io/service-account-token");
            }
            let (source, text) = (format!("c/templates/{name}.yaml"), String::new());
            Manifest {
                source,
                text,
                object,
            }
        };
        specs.iter().map(object).collect()
    }

    fn names(manifests: &[&Manifest]) -> Vec<String> {
        let name = |m: &&Manifest| format!("{}/{}", kind(m), m.name().unwrap_or(""));
        manifests.iter().map(name).collect()
    }

    fn waves(specs: &[&str]) -> Vec<Vec<String>> {
        let all = objects(specs);
        let refs: Vec<&Manifest> = all.iter().collect();
        apply_waves(&refs).iter().map(|wave| names(wave)).collect()
    }

    #[test]
    #[rustfmt::skip]
    fn helms_order_with_unknown_kinds_last_on_install_and_first_on_uninstall() {
        let all = objects(&["Widget/w", "Deployment/b", "Certificate/c", "Deployment/a",
                            "ConfigMap/cm", "Namespace/ns"]);
        let mut sorted: Vec<&Manifest> = all.iter().collect();
        install_order(&mut sorted);
        // Objects of one kind keep their rendered order.
        assert_eq!(names(&sorted), ["Namespace/ns", "ConfigMap/cm", "Deployment/b", "Deployment/a",
                                    "Certificate/c", "Widget/w"]);
        uninstall_order(&mut sorted);
        assert_eq!(names(&sorted), ["Certificate/c", "Widget/w", "Deployment/b", "Deployment/a",
                                    "ConfigMap/cm", "Namespace/ns"]);
    }

    #[test]
    #[rustfmt::skip]
    fn a_typical_release_applies_in_two_waves() {
        let release = ["Deployment/app", "HorizontalPodAutoscaler/app", "Ingress/app",
                       "Service/app", "Secret/app", "ConfigMap/app", "ServiceAccount/app",
                       "PodDisruptionBudget/app"];
        assert_eq!(waves(&release), [
            vec!["PodDisruptionBudget/app", "ServiceAccount/app", "Secret/app", "ConfigMap/app",
                 "Service/app"],
            vec!["Deployment/app", "HorizontalPodAutoscaler/app", "Ingress/app"],
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn tokens_bindings_and_custom_resources_wait_for_what_they_need() {
        let release = ["Widget/w", "Deployment/app", "Secret/token", "RoleBinding/rb", "Role/r",
                       "ServiceAccount/sa", "CustomResourceDefinition/widgets", "Namespace/ns"];
        assert_eq!(waves(&release), [
            vec!["Namespace/ns", "CustomResourceDefinition/widgets"],
            vec!["ServiceAccount/sa", "Role/r"],
            vec!["Secret/token", "RoleBinding/rb"],
            vec!["Deployment/app", "Widget/w"],
        ]);
    }

    #[test]
    fn everything_an_object_needs_comes_before_it_in_install_order() {
        let kinds: Vec<&str> = INSTALL_ORDER.iter().copied().chain(["Widget"]).collect();
        for later in objects(&kinds).iter().chain(&objects(&["Secret/token"])) {
            let kind = kind(later);
            assert!(
                kind == "Widget" || role(kind) != Role::Custom,
                "{kind} has no role"
            );
            for earlier in kinds.iter().filter(|earlier| needs(later, earlier)) {
                assert_eq!(cmp_install(earlier, kind), Ordering::Less, "{kind}");
            }
        }
    }
}
