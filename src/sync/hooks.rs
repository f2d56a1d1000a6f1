//! Helm hooks: which rendered objects are hooks, for which events, and the order Helm runs
//! them in. Running them (delete by policy, create, wait, delete by policy) is the caller's.
//!
//! Where Helm quietly skips or guesses (an unknown event drops the object, a bad weight
//! becomes 0), orch stops with an error naming the template, so a chart behaves the same
//! under both or not at all.

use std::fmt;

use serde_json::Value;

use crate::render::Manifest;
use helm_engine::kind_order::cmp_install;

const HOOK: &str = "helm.sh/hook";
const WEIGHT: &str = "helm.sh/hook-weight";
const DELETE_POLICY: &str = "helm.sh/hook-delete-policy";

/// A moment in a release's life a hook runs at (`helm.sh/hook`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookEvent {
    PreInstall,
    PostInstall,
    PreDelete,
    PostDelete,
    PreUpgrade,
    PostUpgrade,
    PreRollback,
    PostRollback,
    Test,
}

impl HookEvent {
    pub const ALL: [HookEvent; 9] = [
        Self::PreInstall,
        Self::PostInstall,
        Self::PreDelete,
        Self::PostDelete,
        Self::PreUpgrade,
        Self::PostUpgrade,
        Self::PreRollback,
        Self::PostRollback,
        Self::Test,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PreInstall => "pre-install",
            Self::PostInstall => "post-install",
            Self::PreDelete => "pre-delete",
            Self::PostDelete => "post-delete",
            Self::PreUpgrade => "pre-upgrade",
            Self::PostUpgrade => "post-upgrade",
            Self::PreRollback => "pre-rollback",
            Self::PostRollback => "post-rollback",
            Self::Test => "test",
        }
    }

    /// Case-insensitive, as in Helm; `test-success` is Helm 2's name for `test`.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.to_ascii_lowercase();
        if value == "test-success" {
            return Some(Self::Test);
        }
        Self::ALL.into_iter().find(|event| event.as_str() == value)
    }
}

impl fmt::Display for HookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a hook's object is deleted (`helm.sh/hook-delete-policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeletePolicy {
    /// Before the hook is created again; Helm 3's default, so a rerun never meets the last
    /// run's Job.
    BeforeHookCreation,
    /// Once every hook of the event has succeeded (Helm deletes them in reverse order).
    HookSucceeded,
    /// As soon as the hook has failed.
    HookFailed,
}

impl DeletePolicy {
    pub const ALL: [DeletePolicy; 3] = [
        Self::BeforeHookCreation,
        Self::HookSucceeded,
        Self::HookFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BeforeHookCreation => "before-hook-creation",
            Self::HookSucceeded => "hook-succeeded",
            Self::HookFailed => "hook-failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        let value = value.to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|policy| policy.as_str() == value)
    }
}

/// A rendered object that runs at events instead of being part of the release.
#[derive(Debug, Clone, PartialEq)]
pub struct Hook<'m> {
    pub manifest: &'m Manifest,
    pub events: Vec<HookEvent>,
    /// Lower runs first; 0 when the annotation is absent.
    pub weight: i64,
    /// Never empty: absent means before-hook-creation.
    pub delete_policies: Vec<DeletePolicy>,
}

impl Hook<'_> {
    /// Whether the hook's object is deleted at `policy`'s moment. Like Helm, never for a
    /// CRD: deleting it would delete every custom resource of its kind.
    pub fn deletes_on(&self, policy: DeletePolicy) -> bool {
        self.manifest.kind() != Some("CustomResourceDefinition")
            && self.delete_policies.contains(&policy)
    }
}

/// A hook annotation orch cannot take as Helm would mean it.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("{template}: {object}: {problem}")]
pub struct HookError {
    pub template: String,
    /// Kind and name.
    pub object: String,
    pub problem: HookProblem,
}

/// What is wrong, with what to write instead.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum HookProblem {
    #[error(
        "`{value}` is not a hook event ({HOOK}); use {events}{hint}",
        events = names(&HookEvent::ALL.map(HookEvent::as_str))
    )]
    UnknownEvent { value: String, hint: &'static str },
    #[error(
        "`{0}` is not a hook delete policy ({DELETE_POLICY}); use {policies}",
        policies = names(&DeletePolicy::ALL.map(DeletePolicy::as_str))
    )]
    UnknownDeletePolicy(String),
    #[error(
        "hook weight `{0}` is not an integer ({WEIGHT}); write one such as \"-5\" (Helm \
         would run this hook with weight 0)"
    )]
    BadWeight(String),
    #[error("annotation {0} must be a string; quote it")]
    NotAString(&'static str),
}

impl HookError {
    fn new(manifest: &Manifest, problem: HookProblem) -> Self {
        HookError {
            template: manifest.source.clone(),
            object: format!(
                "{} {}",
                manifest.kind().unwrap_or("object"),
                manifest.name().unwrap_or("(unnamed)")
            ),
            problem,
        }
    }
}

fn names(values: &[&str]) -> String {
    values.join(", ")
}

/// The hook objects a release record keeps, as manifests again: what `orch test` and
/// `orch rollback` run, from the revision itself rather than from a new render.
pub fn stored_hooks(records: &[crate::record::HookRecord]) -> Vec<Manifest> {
    let text: String = records
        .iter()
        .map(|hook| format!("---\n# Source: {}\n{}\n", hook.path, hook.manifest))
        .collect();
    crate::render::manifest::parse_stored(&text)
}

/// Splits rendered objects into hooks and the release's regular objects, keeping order.
pub fn split_hooks(manifests: &[Manifest]) -> Result<(Vec<Hook<'_>>, Vec<&Manifest>), HookError> {
    let mut hooks = Vec::new();
    let mut regular = Vec::new();
    for manifest in manifests {
        match annotation(manifest, HOOK)? {
            Some(events) => hooks.push(parse_hook(manifest, events)?),
            None => regular.push(manifest),
        }
    }
    Ok((hooks, regular))
}

/// The hooks that run at `event`, in the order to run them: by weight, then by kind in
/// install order, then by name. That is the order Helm documents; Helm 3's code sorts by
/// weight then name only, so a Job could run before the ServiceAccount it uses
/// (helm/helm#10768, #12414), which orch does not reproduce.
pub fn hooks_for<'h, 'm>(event: HookEvent, hooks: &'h [Hook<'m>]) -> Vec<&'h Hook<'m>> {
    let mut chosen: Vec<&Hook> = hooks.iter().filter(|h| h.events.contains(&event)).collect();
    chosen.sort_by(|a, b| {
        let (a, b) = (a.manifest, b.manifest);
        let kinds = cmp_install(a.kind().unwrap_or(""), b.kind().unwrap_or(""));
        kinds.then_with(|| a.name().cmp(&b.name()))
    });
    // Weight last, as the outermost key of a stable sort.
    chosen.sort_by_key(|hook| hook.weight);
    chosen
}

fn parse_hook<'m>(manifest: &'m Manifest, events: &str) -> Result<Hook<'m>, HookError> {
    let problem = |problem| HookError::new(manifest, problem);
    let mut parsed = Vec::new();
    for value in events.split(',').map(str::trim) {
        let hint = if value.eq_ignore_ascii_case("crd-install") {
            "; Helm 3 has no crd-install hook: put CRDs in the chart's crds/ directory"
        } else {
            ""
        };
        let event = HookEvent::parse(value).ok_or_else(|| {
            let value = value.to_string();
            problem(HookProblem::UnknownEvent { value, hint })
        })?;
        // Helm would run a hook listed twice for one event twice; once is meant.
        if !parsed.contains(&event) {
            parsed.push(event);
        }
    }
    let weight = match annotation(manifest, WEIGHT)? {
        None => 0,
        Some(value) => value
            .parse()
            .map_err(|_| problem(HookProblem::BadWeight(value.to_string())))?,
    };
    let mut delete_policies = Vec::new();
    let policies = annotation(manifest, DELETE_POLICY)?.unwrap_or("");
    // Empty items (a trailing comma) mean nothing to Helm either.
    for value in policies.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        let unknown = || problem(HookProblem::UnknownDeletePolicy(value.to_string()));
        delete_policies.push(DeletePolicy::parse(value).ok_or_else(unknown)?);
    }
    if delete_policies.is_empty() {
        delete_policies.push(DeletePolicy::BeforeHookCreation);
    }
    Ok(Hook {
        manifest,
        events: parsed,
        weight,
        delete_policies,
    })
}

/// A Helm annotation's value; anything but a string is an error, as Kubernetes would say.
fn annotation<'m>(
    manifest: &'m Manifest,
    name: &'static str,
) -> Result<Option<&'m str>, HookError> {
    let value = manifest
        .object
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(name));
    match value {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(HookError::new(manifest, HookProblem::NotAString(name))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(kind: &str, name: &str, annotations: Value) -> Manifest {
        Manifest {
            source: format!("c/templates/{name}.yaml"),
            text: String::new(),
            object: json!({"kind": kind, "metadata": {"name": name, "annotations": annotations}}),
        }
    }

    #[test]
    #[rustfmt::skip]
    fn hooks_are_split_from_regular_objects_and_parsed_as_helm_does() {
        let all = [
            object("ConfigMap", "plain", json!({})),
            object("Job", "migrate", json!({HOOK: " pre-install, Pre-Upgrade ,test-success",
                                            WEIGHT: "-5"})),
            object("Pod", "smoke", json!({HOOK: "test",
                                          DELETE_POLICY: "hook-succeeded, hook-failed,"})),
        ];
        let (hooks, regular) = split_hooks(&all).unwrap();
        assert_eq!(regular, [&all[0]]);
        let events = [HookEvent::PreInstall, HookEvent::PreUpgrade, HookEvent::Test];
        assert_eq!((&hooks[0].events[..], hooks[0].weight), (&events[..], -5));
        assert_eq!(hooks[0].delete_policies, [DeletePolicy::BeforeHookCreation]);
        assert_eq!(hooks[1].weight, 0);
        let policies = [DeletePolicy::HookSucceeded, DeletePolicy::HookFailed];
        assert_eq!(hooks[1].delete_policies, policies);
    }

    #[test]
    #[rustfmt::skip]
    fn hooks_run_by_weight_then_kind_then_name() {
        let at = |weight: &str| json!({HOOK: "pre-install,post-install", WEIGHT: weight});
        let all = [
            object("Job", "a-job", at("0")),
            object("ServiceAccount", "z-account", at("0")),
            object("Job", "late", at("10")),
            object("Job", "early", at("-1")),
            object("ConfigMap", "b-config", at("0")),
            object("Job", "other", json!({HOOK: "post-delete"})),
        ];
        let (hooks, _) = split_hooks(&all).unwrap();
        let order: Vec<&str> = hooks_for(HookEvent::PreInstall, &hooks).iter()
            .filter_map(|h| h.manifest.name()).collect();
        assert_eq!(order, ["early", "z-account", "b-config", "a-job", "late"]);
    }

    #[test]
    fn crd_hooks_are_never_deleted() {
        let policies = json!({HOOK: "pre-install", DELETE_POLICY: "hook-succeeded"});
        let all = [
            object("CustomResourceDefinition", "widgets", policies.clone()),
            object("Job", "j", policies),
        ];
        let (hooks, _) = split_hooks(&all).unwrap();
        assert!(!hooks[0].deletes_on(DeletePolicy::HookSucceeded));
        assert!(hooks[1].deletes_on(DeletePolicy::HookSucceeded));
        assert!(!hooks[1].deletes_on(DeletePolicy::BeforeHookCreation));
    }

    #[test]
    #[rustfmt::skip]
    fn bad_annotations_name_the_template_object_and_value() {
        let error = |annotations: Value| {
            split_hooks(&[object("Job", "j", annotations)]).unwrap_err().to_string()
        };
        let cases = [
            (json!({HOOK: "pre-install,pre-instal"}),
             "`pre-instal` is not a hook event (helm.sh/hook); use pre-install, post-install, \
              pre-delete, post-delete, pre-upgrade, post-upgrade, pre-rollback, post-rollback, \
              test"),
            (json!({HOOK: "crd-install"}),
             "`crd-install` is not a hook event (helm.sh/hook); use pre-install, post-install, \
              pre-delete, post-delete, pre-upgrade, post-upgrade, pre-rollback, post-rollback, \
              test; Helm 3 has no crd-install hook: put CRDs in the chart's crds/ directory"),
            (json!({HOOK: "test", WEIGHT: "1.5"}),
             "hook weight `1.5` is not an integer (helm.sh/hook-weight); write one such as \"-5\" \
              (Helm would run this hook with weight 0)"),
            (json!({HOOK: "test", DELETE_POLICY: "always"}),
             "`always` is not a hook delete policy (helm.sh/hook-delete-policy); use \
              before-hook-creation, hook-succeeded, hook-failed"),
            (json!({HOOK: "test", WEIGHT: 5}),
             "annotation helm.sh/hook-weight must be a string; quote it"),
        ];
        for (annotations, expected) in cases {
            assert_eq!(error(annotations), format!("c/templates/j.yaml: Job j: {expected}"));
        }
    }
}
