//! A release record as the Secret Helm's "secret" storage driver keeps it in the
//! release's namespace: labels Helm queries by, and the release JSON gzipped and
//! base64-encoded in `data.release`.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

use super::RecordError;
use super::release::ReleaseRecord;

/// The Secret type Helm 3 gives its records; Helm bumps it if the format ever changes.
const SECRET_TYPE: &str = "helm.sh/release.v1";

/// What Helm's decoder looks for to tell gzipped records from the plain JSON that
/// Helm wrote before it compressed them.
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// `sh.helm.release.v1.<release>.v<revision>`: Helm finds a revision by this name.
pub fn secret_name(release: &str, version: u32) -> String {
    format!("sh.helm.release.v1.{release}.v{version}")
}

/// The v1 Secret, as JSON for the API server, that Helm reads as this revision.
///
/// Labels are the ones Helm queries by. Helm also writes an informational
/// `createdAt` (on create) or `modifiedAt` (on update) label holding the Unix time,
/// but never reads either; they are left out so that the Secret depends on the record
/// alone.
pub fn to_secret(record: &ReleaseRecord) -> Value {
    // The release JSON is gzipped and base64-encoded into a string, and Helm stores
    // that string's bytes as the Secret's data, which the API object base64-encodes
    // once more.
    let helm_data = STANDARD.encode(gzip(&release_json(record)));
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": secret_name(&record.name, record.version),
            "namespace": record.namespace,
            "labels": {
                "name": record.name,
                "owner": "helm",
                "status": record.info.status.as_str(),
                "version": record.version.to_string(),
            },
        },
        "type": SECRET_TYPE,
        "data": { "release": STANDARD.encode(helm_data) },
    })
}

/// Reads a record from a Secret as the API server returns it, whether orch or Helm
/// wrote it. Like Helm, it does not look at labels or type, ignores fields of the
/// release JSON it does not know, and accepts uncompressed JSON.
pub fn from_secret(secret: &Value) -> Result<ReleaseRecord, RecordError> {
    let name = secret
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)");
    let data = secret
        .pointer("/data/release")
        .and_then(Value::as_str)
        .ok_or_else(|| RecordError::MissingData {
            secret: name.to_owned(),
        })?;
    let base64_error = |source| RecordError::Base64 {
        secret: name.to_owned(),
        source,
    };
    let helm_data = STANDARD.decode(data).map_err(base64_error)?;
    let mut bytes = STANDARD.decode(helm_data).map_err(base64_error)?;
    if bytes.starts_with(&GZIP_MAGIC) {
        let mut plain = Vec::new();
        GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut plain)
            .map_err(|source| RecordError::Gzip {
                secret: name.to_owned(),
                source,
            })?;
        bytes = plain;
    }
    serde_json::from_slice(&bytes).map_err(|source| RecordError::Json {
        secret: name.to_owned(),
        source,
    })
}

fn release_json(record: &ReleaseRecord) -> Vec<u8> {
    // Every key is a string and every timestamp prints, so this cannot fail.
    serde_json::to_vec(record).expect("a release record always serializes to JSON")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    // Helm compresses at the best level; any level decodes the same.
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    // Writing into a Vec cannot fail.
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .expect("gzip into memory cannot fail")
}
