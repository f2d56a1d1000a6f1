//! One revision of a release, field for field as Helm 3 marshals `release.Release` to JSON.
//! The serde attributes are the format: Helm reads what these types write, and these
//! types read what Helm writes.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// One revision of a release: what `helm history` lists one line of, and what
/// `helm get values/manifest/hooks` and `helm rollback` read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseRecord {
    pub name: String,
    pub info: Info,
    pub chart: ChartInfo,
    /// The values the user supplied, without the chart's defaults: what `helm get values`
    /// prints. An object, because Helm's decoder rejects the record otherwise.
    #[serde(default, deserialize_with = "null_as_default")]
    pub config: Map<String, Value>,
    /// The rendered non-hook objects, each as `---\n# Source: <template>\n<yaml>\n`
    /// (see [`super::manifest_text`]). `helm upgrade` and `helm uninstall` parse it to
    /// learn which objects the release owns, so it must be exactly what was applied.
    #[serde(default)]
    pub manifest: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookRecord>,
    /// The revision, from 1.
    pub version: u32,
    pub namespace: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Info {
    /// When revision 1 began; every later revision copies it.
    pub first_deployed: Timestamp,
    /// When this revision began. Helm does not move it when the revision later
    /// succeeds, fails or is superseded.
    pub last_deployed: Timestamp,
    /// Set by `helm uninstall --keep-history`.
    #[serde(default, with = "helm_time")]
    pub deleted: Option<Timestamp>,
    /// The line `helm history` shows, e.g. "Install complete".
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub status: Status,
    /// The rendered NOTES.txt, printed by `helm status`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
}

/// Helm's release status, also written to the Secret's `status` label, which
/// `helm upgrade` and `helm rollback` query to find the deployed revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Deployed,
    Uninstalled,
    Superseded,
    Failed,
    Uninstalling,
    PendingInstall,
    PendingUpgrade,
    PendingRollback,
    /// Also what a status this crate does not know decodes to, so that a record from
    /// a newer Helm still loads.
    #[default]
    #[serde(other)]
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Deployed => "deployed",
            Status::Uninstalled => "uninstalled",
            Status::Superseded => "superseded",
            Status::Failed => "failed",
            Status::Uninstalling => "uninstalling",
            Status::PendingInstall => "pending-install",
            Status::PendingUpgrade => "pending-upgrade",
            Status::PendingRollback => "pending-rollback",
            Status::Unknown => "unknown",
        }
    }

    /// Whether an operation on the release is under way (or died mid-way): Helm
    /// refuses to upgrade or roll back such a release ("another operation is in progress").
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            Status::PendingInstall | Status::PendingUpgrade | Status::PendingRollback
        )
    }
}

/// The chart a revision was made from. Helm stores the whole chart; orch writes its
/// metadata and default values, which is all `helm list/history/get/rollback` read.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChartInfo {
    pub metadata: ChartMetadata,
    /// The chart's default values: `helm get values --all` and
    /// `helm upgrade --reuse-values` merge `config` over them.
    #[serde(default, deserialize_with = "null_as_default")]
    pub values: Map<String, Value>,
    /// The rest of a Helm-written chart (`templates`, `files`, `schema`, `lock`), kept
    /// as is so that rewriting such a record, e.g. to supersede it, loses nothing.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Chart.yaml, with Helm's camelCase keys.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ChartMetadata {
    pub name: String,
    pub version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// "v2" for Helm 3 charts.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// The APP VERSION column of `helm list`.
    #[serde(rename = "appVersion", skip_serializing_if = "String::is_empty")]
    pub app_version: String,
    /// The other Chart.yaml fields (`type`, `keywords`, `dependencies`, ...), kept as is.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A hook object of the revision and how its last run went.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HookRecord {
    pub name: String,
    pub kind: String,
    /// The template, e.g. `mychart/templates/job.yaml`.
    pub path: String,
    /// The object's YAML, without `---` or `# Source:` lines.
    pub manifest: String,
    /// Helm's event names, e.g. `pre-install`, `post-upgrade`.
    pub events: Vec<String>,
    pub last_run: HookRun,
    pub weight: i32,
    /// Helm's policy names, e.g. `before-hook-creation`, `hook-succeeded`.
    pub delete_policies: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HookRun {
    #[serde(default, with = "helm_time")]
    pub started_at: Option<Timestamp>,
    #[serde(default, with = "helm_time")]
    pub completed_at: Option<Timestamp>,
    #[serde(default)]
    pub phase: HookRunPhase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum HookRunPhase {
    /// Helm writes an empty phase for a hook that has not run in this revision.
    #[default]
    #[serde(rename = "")]
    NotRun,
    Running,
    Succeeded,
    Failed,
    #[serde(other)]
    Unknown,
}

/// Go's `encoding/json` writes `null` for an empty map that has no `omitempty`.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Helm's own time type writes an unset time as `""` rather than Go's zero time; set
/// times are RFC 3339 with as many fraction digits as needed, which is also how jiff
/// prints a `Timestamp`.
mod helm_time {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(time: &Option<Timestamp>, out: S) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => out.collect_str(time),
            None => out.serialize_str(""),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Option<Timestamp>, D::Error> {
        match Option::<String>::deserialize(input)?.as_deref() {
            None | Some("") => Ok(None),
            Some(text) => text.parse().map(Some).map_err(D::Error::custom),
        }
    }
}
