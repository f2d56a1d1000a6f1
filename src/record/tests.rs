use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::*;
use crate::render::manifest::Manifest;

/// `helm install tiny` then `helm upgrade tiny` by Helm 3.15.3 against a real API
/// server; this is revision 1 afterwards (`kubectl get secret -o json`): superseded,
/// with `--set greeting=hi`, NOTES.txt and a pre-install,pre-upgrade hook.
const HELM_RECORD: &str = include_str!("testdata/helm-3.15-release.json");

fn helm_secret() -> Value {
    serde_json::from_str(HELM_RECORD).unwrap()
}

fn time(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn revision() -> Revision {
    Revision {
        name: "web".into(),
        namespace: "shop".into(),
        chart: ChartInfo {
            metadata: ChartMetadata {
                name: "server".into(),
                version: "1.4.0".into(),
                description: "The coffee server".into(),
                api_version: "v2".into(),
                app_version: "2.0.1".into(),
                ..ChartMetadata::default()
            },
            values: json!({"replicas": 1}).as_object().unwrap().clone(),
            ..ChartInfo::default()
        },
        config: json!({"replicas": 3, "image": {"tag": "v2"}})
            .as_object()
            .unwrap()
            .clone(),
        manifest: "---\n# Source: server/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n".into(),
        hooks: vec![HookRecord {
            name: "web-migrate".into(),
            kind: "Job".into(),
            path: "server/templates/migrate.yaml".into(),
            manifest: "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: web-migrate".into(),
            events: vec!["pre-upgrade".into()],
            last_run: HookRun {
                started_at: Some(time("2025-03-01T10:00:00.5Z")),
                completed_at: Some(time("2025-03-01T10:00:07.000000123Z")),
                phase: HookRunPhase::Succeeded,
            },
            weight: -5,
            delete_policies: vec!["hook-succeeded".into()],
        }],
        notes: "Visit the shop.\n".into(),
    }
}

fn installed() -> ReleaseRecord {
    let mut record = ReleaseRecord::pending(revision(), &[], time("2025-03-01T10:00:00Z"));
    record.finish(Status::Deployed, "Install complete");
    record
}

/// The release JSON inside a Secret's `data.release`, undoing both base64 layers.
fn release_json(secret: &Value) -> Value {
    let helm_data = STANDARD
        .decode(secret["data"]["release"].as_str().unwrap())
        .unwrap();
    let gzipped = STANDARD.decode(helm_data).unwrap();
    assert_eq!(gzipped[..3], [0x1f, 0x8b, 0x08], "gzip, as Helm writes");
    serde_json::from_reader(flate2::read::GzDecoder::new(gzipped.as_slice())).unwrap()
}

#[test]
fn decodes_a_record_written_by_helm() {
    let record = from_secret(&helm_secret()).unwrap();
    assert_eq!(record.name, "tiny");
    assert_eq!(record.namespace, "orch-record-research");
    assert_eq!(record.version, 1);
    assert_eq!(record.info.status, Status::Superseded);
    assert_eq!(record.info.description, "Install complete");
    assert_eq!(
        record.info.first_deployed,
        time("2026-11-24T07:14:05.347281267Z")
    );
    assert_eq!(record.info.deleted, None);
    assert_eq!(record.info.notes, "Say hi.\n");
    assert_eq!(record.chart.metadata.name, "tiny");
    assert_eq!(record.chart.metadata.version, "0.1.0");
    assert_eq!(record.chart.metadata.app_version, "1.2.3");
    assert_eq!(record.chart.metadata.api_version, "v2");
    assert_eq!(record.chart.metadata.other["type"], "application");
    assert_eq!(
        record.chart.values,
        *json!({"greeting": "hello", "replicas": 1})
            .as_object()
            .unwrap()
    );
    assert_eq!(record.chart.other["templates"].as_array().unwrap().len(), 3);
    assert_eq!(
        record.config,
        *json!({"greeting": "hi"}).as_object().unwrap()
    );
    assert!(
        record
            .manifest
            .starts_with("---\n# Source: tiny/templates/configmap.yaml\napiVersion: v1\n")
    );
    let hook = &record.hooks[0];
    assert_eq!(hook.name, "tiny-hook");
    assert_eq!(hook.events, ["pre-install", "pre-upgrade"]);
    assert_eq!(hook.weight, -5);
    assert_eq!(hook.delete_policies, ["before-hook-creation"]);
    assert_eq!(hook.last_run.phase, HookRunPhase::Succeeded);
    assert_eq!(
        hook.last_run.completed_at,
        Some(time("2026-11-24T07:14:05.530968391Z"))
    );
}

#[test]
fn reencoding_a_helm_record_keeps_all_of_its_release_json() {
    let secret = helm_secret();
    let record = from_secret(&secret).unwrap();
    let again = to_secret(&record);
    assert_eq!(from_secret(&again).unwrap(), record);
    // Field for field what Helm wrote, template contents and `null`s included.
    assert_eq!(release_json(&again), release_json(&secret));
    assert_eq!(again["metadata"]["name"], secret["metadata"]["name"]);
    for label in ["name", "owner", "status", "version"] {
        assert_eq!(
            again["metadata"]["labels"][label],
            secret["metadata"]["labels"][label]
        );
    }
}

#[test]
fn an_orch_record_round_trips() {
    let record = installed();
    assert_eq!(from_secret(&to_secret(&record)).unwrap(), record);
}

#[test]
fn writes_the_secret_helm_looks_for() {
    let mut record = installed();
    record.version = 12;
    assert_eq!(
        to_secret(&record),
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "sh.helm.release.v1.web.v12",
                "namespace": "shop",
                "labels": {"name": "web", "owner": "helm", "status": "deployed", "version": "12"},
            },
            "type": "helm.sh/release.v1",
            "data": {"release": to_secret(&record)["data"]["release"]},
        })
    );
}

#[test]
fn writes_helm_field_names_and_go_times() {
    let json = release_json(&to_secret(&installed()));
    assert_eq!(
        json["info"],
        json!({
            "first_deployed": "2025-03-01T10:00:00Z",
            "last_deployed": "2025-03-01T10:00:00Z",
            "deleted": "",
            "description": "Install complete",
            "status": "deployed",
            "notes": "Visit the shop.\n",
        })
    );
    assert_eq!(
        json["chart"]["metadata"],
        json!({
            "name": "server",
            "version": "1.4.0",
            "description": "The coffee server",
            "apiVersion": "v2",
            "appVersion": "2.0.1",
        })
    );
    // Go prints as many fraction digits as needed, none for whole seconds.
    assert_eq!(
        json["hooks"][0]["last_run"],
        json!({
            "started_at": "2025-03-01T10:00:00.5Z",
            "completed_at": "2025-03-01T10:00:07.000000123Z",
            "phase": "Succeeded",
        })
    );
    assert_eq!(json["version"], 1);
    assert_eq!(json["config"]["image"]["tag"], "v2");
}

#[test]
fn reads_uncompressed_json_and_go_zero_values() {
    // Helm before gzip wrote plain JSON; Go leaves out empty fields, writes `null` for
    // empty maps and local-time offsets.
    let plain = json!({
        "name": "old",
        "info": {
            "first_deployed": "2019-11-13T15:00:00.25+01:00",
            "last_deployed": "2019-11-13T15:00:00.25+01:00",
            "deleted": "2019-11-14T09:30:00Z",
            "status": "uninstalled",
            "resources": "kept by Helm 2 only",
        },
        "chart": {"metadata": {"name": "c", "version": "1.0.0"}, "values": null},
        "hooks": [{"name": "h", "last_run": {"started_at": "", "completed_at": "", "phase": ""}}],
        "version": 3,
        "namespace": "default",
    });
    let data = STANDARD.encode(STANDARD.encode(plain.to_string()));
    let secret =
        json!({"metadata": {"name": "sh.helm.release.v1.old.v3"}, "data": {"release": data}});
    let record = from_secret(&secret).unwrap();
    assert_eq!(record.info.first_deployed, time("2019-11-13T14:00:00.25Z"));
    assert_eq!(record.info.deleted, Some(time("2019-11-14T09:30:00Z")));
    assert_eq!(record.info.status, Status::Uninstalled);
    assert!(record.config.is_empty() && record.chart.values.is_empty());
    assert_eq!(record.manifest, "");
    assert_eq!(record.hooks[0].last_run, HookRun::default());
}

#[test]
fn bad_secrets_are_errors_not_panics() {
    let named = |data: Value| json!({"metadata": {"name": "s"}, "data": data});
    let error = |secret: Value| from_secret(&secret).unwrap_err().to_string();
    assert_eq!(
        error(named(json!({}))),
        "Secret s has no data.release, so it is not a Helm release record"
    );
    assert!(error(named(json!({"release": "%%"}))).contains("not base64"));
    assert!(error(named(json!({"release": STANDARD.encode("%%")}))).contains("not base64"));
    let short = STANDARD.encode(STANDARD.encode([0x1f]));
    assert!(error(named(json!({"release": short}))).contains("not in Helm's format"));
    let truncated = STANDARD.encode(STANDARD.encode([0x1f, 0x8b, 0x08, 0]));
    assert!(error(named(json!({"release": truncated}))).contains("not valid gzip"));
    let not_a_release = STANDARD.encode(STANDARD.encode(r#"{"name": 1}"#));
    assert!(error(named(json!({"release": not_a_release}))).contains("not in Helm's format"));
}

#[test]
fn statuses_are_helms_strings() {
    for status in [
        Status::Unknown,
        Status::Deployed,
        Status::Uninstalled,
        Status::Superseded,
        Status::Failed,
        Status::Uninstalling,
        Status::PendingInstall,
        Status::PendingUpgrade,
        Status::PendingRollback,
    ] {
        assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        let pending = status.as_str().starts_with("pending-");
        assert_eq!(status.is_pending(), pending, "{status:?}");
    }
    let future: Status = serde_json::from_value(json!("paused")).unwrap();
    assert_eq!(future, Status::Unknown);
}

#[test]
fn revisions_number_on_and_keep_the_first_deployment_time() {
    let first = installed();
    let later = time("2025-04-01T08:00:00Z");
    let mut failed = ReleaseRecord::pending(revision(), std::slice::from_ref(&first), later);
    assert_eq!(failed.version, 2);
    assert_eq!(failed.info.status, Status::PendingUpgrade);
    assert_eq!(failed.info.description, "Preparing upgrade");
    assert_eq!(failed.info.first_deployed, first.info.first_deployed);
    assert_eq!(failed.info.last_deployed, later);
    failed.finish(Status::Failed, "Upgrade \"web\" failed: timed out");
    assert_eq!(failed.info.last_deployed, later);

    let history = [first, failed];
    assert_eq!(latest(&history).map(|r| r.version), Some(2));
    assert_eq!(deployed(&history).map(|r| r.version), Some(1));
    let third = ReleaseRecord::pending(revision(), &history, later);
    assert_eq!(third.version, 3);

    let mut first = history[0].clone();
    first.supersede();
    assert_eq!(first.info.status, Status::Superseded);
    assert_eq!(first.info.description, "Install complete");
    assert_eq!(deployed(&[first.clone()]), None);

    first.info.status = Status::Uninstalled;
    let reinstall = ReleaseRecord::pending(revision(), &[first], later);
    assert_eq!(reinstall.version, 2);
    assert_eq!(reinstall.info.status, Status::PendingInstall);
    assert_eq!(reinstall.info.first_deployed, later);
}

#[test]
fn manifest_text_is_helms_layout() {
    let object = |source: &str, text: &str| Manifest {
        source: source.into(),
        text: text.into(),
        object: Value::Null,
    };
    let (a, b) = (
        object("c/templates/a.yaml", "kind: A\n"),
        object("c/templates/b.yaml", "kind: B"),
    );
    let text = manifest_text(&[&a, &b]);
    assert_eq!(
        text,
        "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/b.yaml\nkind: B\n"
    );
}

#[test]
fn a_rollback_copies_the_restored_revision_and_numbers_after_the_latest() {
    let restored = installed();
    let mut latest = ReleaseRecord::pending(
        Revision {
            config: json!({"replicas": 9}).as_object().unwrap().clone(),
            manifest: String::new(),
            ..revision()
        },
        std::slice::from_ref(&restored),
        time("2025-04-01T08:00:00Z"),
    );
    latest.finish(Status::Deployed, "Upgrade complete");
    let now = time("2025-05-01T08:00:00Z");
    let rollback = ReleaseRecord::rolling_back(&restored, &latest, now);
    assert_eq!(rollback.version, 3);
    assert_eq!(rollback.info.status, Status::PendingRollback);
    assert_eq!(rollback.info.description, "Rollback to 1");
    assert_eq!(rollback.info.first_deployed, restored.info.first_deployed);
    assert_eq!(rollback.info.last_deployed, now);
    assert_eq!(rollback.info.notes, restored.info.notes);
    assert_eq!(rollback.config, restored.config);
    assert_eq!(rollback.manifest, restored.manifest);
    assert_eq!(rollback.chart, restored.chart);
    assert_eq!(rollback.hooks.len(), 1);
    assert_eq!(
        rollback.hooks[0].last_run,
        HookRun::default(),
        "hooks have not run in the new revision"
    );
}
