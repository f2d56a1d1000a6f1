//! Release records in Helm's storage format, so `helm list/history/get` see orch's releases.
//!
//! Pure data, no IO: `release` is Helm 3's release JSON as types, `revision` how a
//! revision begins and ends, `codec` the Secret Helm's storage driver keeps it in. The
//! `cluster` module reads and writes those Secrets.

mod codec;
mod release;
mod revision;

pub use codec::{from_secret, secret_name, to_secret};
pub use release::{
    ChartInfo, ChartMetadata, HookRecord, HookRun, HookRunPhase, Info, ReleaseRecord, Status,
};
pub use revision::{Revision, deployed, latest, manifest_text};

/// A Secret that does not hold a release record Helm could read either.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("Secret {secret} has no data.release, so it is not a Helm release record")]
    MissingData { secret: String },
    #[error("Secret {secret}: data.release is not base64 ({source})")]
    Base64 {
        secret: String,
        source: base64::DecodeError,
    },
    #[error("Secret {secret}: data.release is not valid gzip ({source})")]
    Gzip {
        secret: String,
        source: std::io::Error,
    },
    #[error("Secret {secret}: the release JSON is not in Helm's format ({source})")]
    Json {
        secret: String,
        source: serde_json::Error,
    },
}

#[cfg(test)]
mod tests;
