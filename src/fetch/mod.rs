//! The fetch stage: each release's `chart:` -> a chart directory on disk, ready to render.
//!
//! Local charts stay where they are. Charts from Helm repositories and OCI registries are
//! resolved to a version (Helm's semver constraints), downloaded once into the cache (see
//! `cache`) and unpacked there; each repository's index is fetched at most once per run.
//! A chart whose Chart.yaml lists dependencies that its `charts/` lacks is assembled with
//! them in a directory of the run's own (see `deps`), leaving the user's chart untouched.
//! Offline (`--skip-deps`), only the cache is used.

mod cache;
mod deps;
mod http;
mod index;
mod oci;
mod reference;

use std::collections::HashMap;
use std::hash::Hash;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;

use crate::config::{ReleaseSpec, Repository};

use cache::{Cache, Entry};
use http::Remote;
use index::Index;
use reference::{ChartRef, Source};

#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("{message}")]
    Reference { message: String },
    #[error("cannot reach {what}: {reason}")]
    Unreachable { what: String, reason: String },
    #[error("{what} refused {} (HTTP {status})", if *had_credentials {
        "the credentials given"
    } else {
        "access without credentials: give the repository a username and password \
         (or set <NAME>_USERNAME and <NAME>_PASSWORD)"
    })]
    Refused {
        what: String,
        status: u16,
        had_credentials: bool,
    },
    #[error("{what}: HTTP {status} for {url}")]
    Status {
        what: String,
        url: String,
        status: u16,
    },
    #[error("{origin}: {message}")]
    Corrupt { origin: String, message: String },
    #[error("chart `{chart}` in {what}: {message}")]
    Version {
        chart: String,
        what: String,
        message: String,
    },
    #[error("{what}: {message}")]
    Settings { what: String, message: String },
    #[error("{message}")]
    Cache { message: String },
    #[error(
        "{what} is not in the cache, and --skip-deps forbids downloading it; run `orch deps` first"
    )]
    NotCached { what: String },
}

pub struct FetchOptions {
    /// Use only the cache: `--skip-deps`.
    pub offline: bool,
}

/// A release's chart, on disk.
#[derive(Debug, Clone)]
pub struct FetchedChart {
    pub dir: PathBuf,
    /// The version chosen, for charts from repositories.
    pub version: Option<String>,
    pub origin: Origin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Local,
    Cache,
    Download,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Local => "local",
            Origin::Cache => "cache",
            Origin::Download => "downloaded",
        }
    }
}

pub struct Fetcher<'a> {
    repositories: &'a [Repository],
    cache: Cache,
    offline: bool,
    remotes: Memo<String, Result<Arc<Remote>, FetchError>>,
    indexes: Memo<String, Result<Arc<Index>, FetchError>>,
    tags: Memo<String, Result<Arc<Vec<String>>, FetchError>>,
    archives: Memo<PathBuf, Result<Origin, FetchError>>,
    /// Charts assembled with their dependencies, for this run only.
    workdir: tempfile::TempDir,
}

impl<'a> Fetcher<'a> {
    pub fn new(repositories: &'a [Repository], options: &FetchOptions) -> Result<Self, FetchError> {
        let workdir = tempfile::Builder::new()
            .prefix("orch-charts-")
            .tempdir()
            .map_err(|e| FetchError::Cache {
                message: format!("cannot create a temporary directory: {e}"),
            })?;
        Ok(Fetcher {
            repositories,
            cache: Cache::from_env()?,
            offline: options.offline,
            remotes: Memo::default(),
            indexes: Memo::default(),
            tags: Memo::default(),
            archives: Memo::default(),
            workdir,
        })
    }

    /// Fetches the charts of `releases` (indices into `all`), in parallel; results come in
    /// the same order.
    pub fn fetch_all(
        &self,
        all: &[ReleaseSpec],
        releases: &[usize],
    ) -> Vec<Result<FetchedChart, FetchError>> {
        releases
            .par_iter()
            .map(|&index| self.fetch_release(&all[index]))
            .collect()
    }

    fn fetch_release(&self, release: &ReleaseSpec) -> Result<FetchedChart, FetchError> {
        let chart = ChartRef::of_release(release, self.repositories)?;
        let fetched = self.fetch(chart, release.wanted_version())?;
        let workdir = self
            .workdir
            .path()
            .join(&release.id.namespace)
            .join(&release.id.name);
        let chart_dir = if release.dependencies.is_empty() {
            fetched.dir.clone()
        } else {
            let base_dir = &release.base_dir;
            deps::with_added(
                self,
                &fetched.dir,
                &release.dependencies,
                base_dir,
                &workdir,
            )?
        };
        let dir = if release.skip_deps {
            chart_dir
        } else {
            deps::with_dependencies(self, &chart_dir, &workdir)?
        };
        Ok(FetchedChart { dir, ..fetched })
    }

    fn fetch(
        &self,
        chart: ChartRef<'_>,
        constraint: Option<&str>,
    ) -> Result<FetchedChart, FetchError> {
        match chart {
            ChartRef::Local(dir) => {
                if !dir.is_dir() {
                    return Err(FetchError::Reference {
                        message: format!("chart directory {} does not exist", dir.display()),
                    });
                }
                Ok(FetchedChart {
                    dir,
                    version: None,
                    origin: Origin::Local,
                })
            }
            ChartRef::Indexed { repository, name } => self.indexed(repository, &name, constraint),
            ChartRef::Oci {
                host,
                path,
                repository,
            } => self.oci(&host, &path, repository, constraint),
        }
    }

    fn remote(
        &self,
        url: &str,
        repository: Option<&Repository>,
    ) -> Result<Arc<Remote>, FetchError> {
        let key = format!("{}\n{url}", repository.map_or("", |r| r.name.as_str()));
        self.remotes
            .get(&key, || Remote::new(url, repository).map(Arc::new))
    }

    /// A repository's index: once per run from the network, or from the cache offline.
    fn index(&self, source: Source<'_>, remote: &Remote) -> Result<Arc<Index>, FetchError> {
        self.indexes.get(&source.url.to_string(), || {
            let path = self.cache.index(source.url);
            let bytes = if self.offline {
                std::fs::read(&path).map_err(|_| FetchError::NotCached {
                    what: format!("the index of {}", remote.what),
                })?
            } else {
                remote.get(&http::resolve(source.url, "index.yaml"), None)?
            };
            let index = Index::parse(&bytes).map_err(|message| FetchError::Corrupt {
                origin: remote.what.clone(),
                message,
            })?;
            // Cached only once it parsed, so a broken index never replaces a good one.
            if !self.offline {
                self.cache.write(&path, &bytes)?;
            }
            Ok(Arc::new(index))
        })
    }

    fn indexed(
        &self,
        source: Source<'_>,
        name: &str,
        constraint: Option<&str>,
    ) -> Result<FetchedChart, FetchError> {
        let remote = self.remote(source.url, source.repository)?;
        let index = self.index(source, &remote)?;
        let entry = index
            .find(name, constraint)
            .map_err(|message| FetchError::Version {
                chart: name.to_string(),
                what: remote.what.clone(),
                message,
            })?;
        let Some(chart_url) = entry.urls.first() else {
            return Err(FetchError::Version {
                chart: name.to_string(),
                what: remote.what.clone(),
                message: format!("its index lists no URL for version {}", entry.version),
            });
        };
        let url = http::resolve(source.url, chart_url);
        let cached = Entry::new(&self.cache.charts(source.url), name, &entry.version);
        let origin = self.archive(
            &cached,
            entry.digest.as_deref(),
            &format!("{name} {}", entry.version),
            || {
                let bytes = remote.get(&url, None)?;
                Ok((bytes, entry.digest.clone(), reference::redact(&url)))
            },
        )?;
        Ok(FetchedChart {
            dir: cached.dir,
            version: Some(entry.version.clone()),
            origin,
        })
    }

    fn oci(
        &self,
        host: &str,
        path: &str,
        repository: Option<&Repository>,
        constraint: Option<&str>,
    ) -> Result<FetchedChart, FetchError> {
        // Helm talks plain HTTP to a registry on loopback (containerd's MatchLocalhost),
        // and to another one with --plain-http (`plainHttp: true`).
        let scheme = if repository.is_some_and(|r| r.plain_http) || is_loopback(host) {
            "http"
        } else {
            "https"
        };
        let base = format!("{scheme}://{host}");
        let remote = self.remote(&base, repository)?;
        let registry = oci::Registry {
            remote: &remote,
            base: base.clone(),
            path,
        };
        let source = format!("oci://{host}/{path}");
        let name = path.rsplit('/').next().unwrap_or(path);
        let charts = self.cache.charts(&source);
        // A full version names its tag; anything else (`1.2`, `~1`, none) is matched against
        // the registry's tags, as Helm does.
        let exact = constraint
            .filter(|c| c.split('.').count() >= 3 && masterminds_semver::Version::parse(c).is_ok());
        let version = match exact {
            Some(version) => version.to_string(),
            None => {
                let versions = if self.offline {
                    Arc::new(cached_versions(&charts, name))
                } else {
                    self.tags
                        .get(&source, || registry.versions().map(Arc::new))?
                };
                let listed: Vec<&str> = versions.iter().map(String::as_str).collect();
                let chosen =
                    index::choose(&listed, constraint).map_err(|message| FetchError::Version {
                        chart: source.clone(),
                        what: remote.what.clone(),
                        message,
                    })?;
                listed[chosen].to_string()
            }
        };
        let cached = Entry::new(&charts, name, &version);
        let origin = self.archive(&cached, None, &format!("{source} {version}"), || {
            let (bytes, digest) = registry.pull(&version)?;
            Ok((bytes, Some(digest), format!("{source}:{version}")))
        })?;
        Ok(FetchedChart {
            dir: cached.dir,
            version: Some(version),
            origin,
        })
    }

    /// The cached chart of `entry` when it holds `digest`; else, online, `download` gives
    /// the archive, its digest and where it came from, and it is checked and cached.
    fn archive(
        &self,
        entry: &Entry,
        digest: Option<&str>,
        what: &str,
        download: impl FnOnce() -> Result<(Vec<u8>, Option<String>, String), FetchError>,
    ) -> Result<Origin, FetchError> {
        self.archives.get(&entry.archive, || {
            if entry.holds(digest) {
                return Ok(Origin::Cache);
            }
            if self.offline {
                return Err(FetchError::NotCached {
                    what: format!("chart {what}"),
                });
            }
            let (bytes, digest, origin) = download()?;
            entry.store(&self.cache, &bytes, digest.as_deref(), &origin)?;
            tracing::info!("downloaded chart {what}");
            Ok(Origin::Download)
        })
    }
}

/// Whether a registry's `host[:port]` is this machine: `localhost`, 127.0.0.1 or ::1.
fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Copies a fetched chart to `dest`, for `orch fetch`.
pub fn export(chart_dir: &Path, dest: &Path) -> std::io::Result<()> {
    deps::copy_dir(chart_dir, dest).map_err(std::io::Error::other)
}

/// The versions of chart `name` in a cache directory, from its archives' names.
fn cached_versions(charts: &Path, name: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(charts) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            let stem = file.strip_suffix(".tgz")?;
            stem.strip_prefix(name)?
                .strip_prefix('-')
                .map(str::to_string)
        })
        .collect()
}

/// Computes each key's value once, however many threads ask at the same time.
struct Memo<K, V> {
    cells: Mutex<HashMap<K, Arc<OnceLock<V>>>>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo {
            cells: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Memo<K, V> {
    fn get(&self, key: &K, init: impl FnOnce() -> V) -> V {
        let cell = self
            .cells
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(key.clone())
            .or_default()
            .clone();
        cell.get_or_init(init).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_registries_are_the_ones_helm_talks_plain_http_to() {
        for host in [
            "localhost:5000",
            "localhost",
            "127.0.0.1:5001",
            "[::1]:5000",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "registry.example.com",
            "10.0.0.1:5000",
            "localhost.example.com",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
