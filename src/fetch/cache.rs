//! The chart cache: `$ORCH_CACHE_DIR` (default `${XDG_CACHE_HOME:-~/.cache}/orch`) holds
//! `indexes/<source>/index.yaml` and `charts/<source>/<name>-<version>.tgz`, each archive
//! beside its unpacked chart `<name>-<version>/`. `<source>` is the repository URL made
//! into one path element, so two files naming one repository differently share downloads.
//!
//! An archive enters the cache only whole: after its digest matched and it unpacked to a
//! chart, through a temporary name and a rename, so an interrupted or corrupt download
//! never leaves a file that a later run would trust.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::FetchError;

pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache root from `ORCH_CACHE_DIR`, `XDG_CACHE_HOME` or `HOME`.
    pub fn from_env() -> Result<Cache, FetchError> {
        let root = if let Some(dir) = std::env::var_os("ORCH_CACHE_DIR") {
            PathBuf::from(dir)
        } else if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
            PathBuf::from(dir).join("orch")
        } else if let Some(home) = std::env::var_os("HOME") {
            PathBuf::from(home).join(".cache/orch")
        } else {
            return Err(FetchError::Cache {
                message: "no cache directory: set ORCH_CACHE_DIR (or XDG_CACHE_HOME or HOME)"
                    .into(),
            });
        };
        Ok(Cache { root })
    }

    pub fn index(&self, source: &str) -> PathBuf {
        self.root
            .join("indexes")
            .join(path_element(source))
            .join("index.yaml")
    }

    /// The directory of the archives and unpacked charts that came from `source`.
    pub fn charts(&self, source: &str) -> PathBuf {
        self.root.join("charts").join(path_element(source))
    }

    /// Writes `bytes` to `path` whole, or not at all.
    pub fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), FetchError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let result = std::fs::create_dir_all(dir).and_then(|()| {
            let mut temp = tempfile::NamedTempFile::new_in(dir)?;
            std::io::Write::write_all(&mut temp, bytes)?;
            temp.persist(path).map(drop).map_err(|e| e.error)
        });
        result.map_err(|e| FetchError::Cache {
            message: format!("cannot write {}: {e}", path.display()),
        })
    }
}

/// A cached chart: its archive, and the chart unpacked beside it.
pub struct Entry {
    pub archive: PathBuf,
    pub dir: PathBuf,
}

impl Entry {
    pub fn new(charts: &Path, name: &str, version: &str) -> Entry {
        let stem = path_element(&format!("{name}-{version}"));
        Entry {
            archive: charts.join(format!("{stem}.tgz")),
            dir: charts.join(stem),
        }
    }

    /// True when the archive is cached, matches `digest` (when known), and is unpacked.
    pub fn holds(&self, digest: Option<&str>) -> bool {
        if !self.dir.join("Chart.yaml").is_file() {
            return false;
        }
        match (digest, std::fs::read(&self.archive)) {
            (_, Err(_)) => false,
            (None, Ok(_)) => true,
            (Some(digest), Ok(bytes)) => sha256(&bytes) == normalize_digest(digest),
        }
    }

    /// Checks a downloaded archive against `digest` and unpacks it; only then are the
    /// archive and the chart put in the cache, replacing what was there.
    pub fn store(
        &self,
        cache: &Cache,
        bytes: &[u8],
        digest: Option<&str>,
        origin: &str,
    ) -> Result<(), FetchError> {
        if let Some(digest) = digest {
            let actual = sha256(bytes);
            if actual != normalize_digest(digest) {
                return Err(FetchError::Corrupt {
                    origin: origin.to_string(),
                    message: format!(
                        "its sha256 digest is {actual}, not the published {}; the download was \
                         discarded",
                        normalize_digest(digest)
                    ),
                });
            }
        }
        let parent = self.dir.parent().unwrap_or(Path::new("."));
        let failed = |e: std::io::Error| FetchError::Cache {
            message: format!("cannot write under {}: {e}", parent.display()),
        };
        std::fs::create_dir_all(parent).map_err(failed)?;
        let staging = tempfile::Builder::new()
            .prefix(".unpack-")
            .tempdir_in(parent)
            .map_err(failed)?;
        unpack(bytes, staging.path()).map_err(|message| FetchError::Corrupt {
            origin: origin.to_string(),
            message: format!("{message}; the download was discarded"),
        })?;
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir).map_err(failed)?;
        }
        std::fs::rename(staging.keep(), &self.dir).map_err(failed)?;
        cache.write(&self.archive, bytes)
    }
}

/// `sha256:abc` or `abc` -> `abc`, lower case.
fn normalize_digest(digest: &str) -> String {
    digest.trim_start_matches("sha256:").to_ascii_lowercase()
}

pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Unpacks a chart archive's one top directory into `dest`; it must hold a Chart.yaml.
fn unpack(bytes: &[u8], dest: &Path) -> Result<(), String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let not_chart = |e: std::io::Error| format!("it is not a chart archive ({e})");
    let mut found_chart = false;
    for entry in archive.entries().map_err(not_chart)? {
        let mut entry = entry.map_err(not_chart)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(not_chart)?.into_owned();
        let mut components = path.components();
        components.next();
        let relative: PathBuf = components.collect();
        if relative.as_os_str().is_empty()
            || relative
                .components()
                .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(format!(
                "it holds a path outside its chart: {}",
                path.display()
            ));
        }
        found_chart |= relative == Path::new("Chart.yaml");
        let target = dest.join(&relative);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(not_chart)?;
        std::fs::write(&target, data).map_err(|e| e.to_string())?;
    }
    if !found_chart {
        return Err("it is not a chart archive (no Chart.yaml in its top directory)".into());
    }
    Ok(())
}

/// `https://charts.example:8443/a/b` -> `charts.example_8443_a_b`: one safe path element.
fn path_element(text: &str) -> String {
    let text = text.split_once("://").map_or(text, |(_, rest)| rest);
    text.trim_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+') {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_start_matches('.')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(files: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (path, text) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(&mut header, path, text.as_bytes())
                .unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn stores_only_whole_checked_charts() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache {
            root: root.path().to_path_buf(),
        };
        let entry = Entry::new(&cache.charts("http://127.0.0.1:1/charts"), "app", "1.0.0");
        let good = archive(&[("app/Chart.yaml", "name: app\n"), ("app/values.yaml", "")]);
        let digest = sha256(&good);

        let err = entry
            .store(&cache, b"garbage", Some(&digest), "app-1.0.0.tgz")
            .unwrap_err();
        assert!(err.to_string().contains("digest"), "{err}");
        let err = entry
            .store(&cache, b"garbage", None, "app-1.0.0.tgz")
            .unwrap_err();
        assert!(err.to_string().contains("not a chart archive"), "{err}");
        let not_a_chart = archive(&[("app/values.yaml", "")]);
        assert!(entry.store(&cache, &not_a_chart, None, "x").is_err());
        assert!(!entry.archive.exists() && !entry.dir.exists());

        entry
            .store(&cache, &good, Some(&format!("sha256:{digest}")), "x")
            .unwrap();
        assert!(entry.holds(Some(&digest)));
        assert!(!entry.holds(Some("0000")));
        assert!(entry.dir.join("values.yaml").is_file());
    }

    #[test]
    fn refuses_paths_outside_the_chart() {
        let dest = tempfile::tempdir().unwrap();
        let mut header = tar::Header::new_gnu();
        header.set_size(1);
        header.set_cksum();
        let mut raw = header.as_bytes().to_vec();
        raw[..13].copy_from_slice(b"app/../../x\0\0");
        let mut header = tar::Header::from_byte_slice(&raw).clone();
        header.set_cksum();
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        builder.append(&header, &b"x"[..]).unwrap();
        let bytes = builder.into_inner().unwrap().finish().unwrap();
        assert!(unpack(&bytes, dest.path()).unwrap_err().contains("outside"));
    }

    #[test]
    fn sources_become_one_path_element() {
        assert_eq!(
            path_element("https://charts.example:8443/a/b/"),
            "charts.example_8443_a_b"
        );
        assert_eq!(path_element("../x"), "_x");
    }
}
