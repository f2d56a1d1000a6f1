//! helmfile's `secrets`: values files encrypted with sops. orch runs `sops --decrypt` (what
//! helmfile's helm-secrets plugin runs) and reads its output from a pipe: the decrypted text
//! is never logged, printed, or written to disk, and an error about it never quotes it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

use super::error::{ConfigError, Location};
use super::layering::{missing_file, values_map};
use super::schema::MissingFileHandler;

/// The values of one sops-encrypted file; `None` when it is missing and `handler` allows it.
/// `at` is where the file was referenced.
pub fn read_secrets_file(
    sops: &Path,
    path: &Path,
    at: &Location,
    handler: MissingFileHandler,
) -> Result<Option<Value>, ConfigError> {
    if !path.exists() {
        return missing_file(path, at, handler).map(|()| None);
    }
    // Each file is decrypted once per run, as helmfile does: an environment's secrets are
    // read again for every templated part of the state.
    static DECRYPTED: OnceLock<Mutex<HashMap<PathBuf, Option<Value>>>> = OnceLock::new();
    let cache = DECRYPTED.get_or_init(Mutex::default);
    if let Some(values) = cache.lock().ok().and_then(|c| c.get(path).cloned()) {
        return Ok(values);
    }
    let values = decrypt(sops, path, at)?;
    if let Ok(mut cache) = cache.lock() {
        cache.insert(path.to_path_buf(), values.clone());
    }
    Ok(values)
}

fn decrypt(sops: &Path, path: &Path, at: &Location) -> Result<Option<Value>, ConfigError> {
    let fail = |message: String| ConfigError::Invalid {
        at: at.clone(),
        message: format!("secrets file {}: {message}", path.display()),
    };
    tracing::info!("decrypting {} with {}", path.display(), sops.display());
    let output = Command::new(sops)
        .arg("--decrypt")
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => fail(format!(
                "decrypting it needs sops, and `{}` is not found (--sops-binary names another)",
                sops.display()
            )),
            _ => fail(format!("cannot run {}: {e}", sops.display())),
        })?;
    if !output.status.success() {
        // sops reports what it could not do (no key, a bad MAC), never the plaintext.
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(fail(format!(
            "sops --decrypt failed ({}): {}",
            output.status,
            stderr.trim()
        )));
    }
    let text = String::from_utf8(output.stdout)
        .map_err(|_| fail("sops's decrypted output is not UTF-8 text".into()))?;
    // Read as any values file is; a YAML error would quote the text, so it is not passed on.
    let value: Value = super::yaml::parse_document(&text, path, 1).map_err(|_| {
        fail("sops's decrypted output is not valid YAML (not shown: it is secret)".into())
    })?;
    if value.is_null() {
        return Ok(None);
    }
    values_map(value, path).map(Some)
}
