//! What a release's `chart:` names: a local directory, `REPO/NAME` in an HTTP repository or
//! an OCI registry declared in `repositories:`, or an `oci://` reference.

use std::path::{Path, PathBuf};

use crate::config::{ReleaseSpec, Repository};

use super::FetchError;

#[derive(Debug)]
pub enum ChartRef<'a> {
    Local(PathBuf),
    /// A chart in a Helm HTTP repository, found through the repository's index.yaml.
    Indexed {
        repository: Source<'a>,
        name: String,
    },
    /// A chart in an OCI registry: `oci://{host}/{path}` where path ends in the chart name.
    Oci {
        host: String,
        path: String,
        repository: Option<&'a Repository>,
    },
}

/// Where an indexed chart comes from: a declared repository, or a dependency's bare URL.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub url: &'a str,
    pub repository: Option<&'a Repository>,
}

impl<'a> ChartRef<'a> {
    pub fn of_release(
        release: &ReleaseSpec,
        repositories: &'a [Repository],
    ) -> Result<ChartRef<'a>, FetchError> {
        Self::of_chart(&release.chart, &release.base_dir, repositories)
    }

    /// The chart a release's `chart` (or a `dependencies` entry's) names: `oci://…`, a
    /// directory relative to `base_dir`, or `repo/name`.
    pub fn of_chart(
        chart: &str,
        base_dir: &Path,
        repositories: &'a [Repository],
    ) -> Result<ChartRef<'a>, FetchError> {
        if let Some(rest) = chart.strip_prefix("oci://") {
            return oci(rest, repositories);
        }
        if let Some(dir) = crate::config::local_chart_dir(chart, base_dir) {
            return Ok(ChartRef::Local(dir));
        }
        let missing_dir = || FetchError::Reference {
            message: format!(
                "chart directory {} does not exist",
                base_dir.join(chart).display()
            ),
        };
        let Some((repo, name)) = chart.split_once('/') else {
            return Err(missing_dir());
        };
        if name.contains('/') {
            return Err(missing_dir());
        }
        let Some(repository) = repositories.iter().find(|r| r.name == repo) else {
            let known: Vec<&str> = repositories.iter().map(|r| r.name.as_str()).collect();
            return Err(FetchError::Reference {
                message: format!(
                    "chart `{chart}` is not a local directory, and `{repo}` is not a repository in \
                     `repositories:` ({})",
                    if known.is_empty() {
                        "none are declared".to_string()
                    } else {
                        format!("declared: {}", known.join(", "))
                    }
                ),
            });
        };
        ChartRef::in_repository(repository, name, repositories)
    }

    /// Chart `name` of a declared repository: in its index, or `oci://URL/NAME`.
    pub fn in_repository(
        repository: &'a Repository,
        name: &str,
        repositories: &'a [Repository],
    ) -> Result<ChartRef<'a>, FetchError> {
        if repository.oci {
            let url = repository
                .url
                .trim_start_matches("oci://")
                .trim_end_matches('/');
            return oci(&format!("{url}/{name}"), repositories);
        }
        Ok(ChartRef::Indexed {
            repository: Source {
                url: &repository.url,
                repository: Some(repository),
            },
            name: name.to_string(),
        })
    }
}

/// `host/path/name` (without `oci://`), with the settings of the declared OCI repository
/// whose URL it starts with, if any.
pub fn oci<'a>(
    reference: &str,
    repositories: &'a [Repository],
) -> Result<ChartRef<'a>, FetchError> {
    let Some((host, path)) = reference.split_once('/') else {
        return Err(FetchError::Reference {
            message: format!("`oci://{reference}` names no chart: write oci://HOST/PATH/CHART"),
        });
    };
    if host.is_empty() || path.is_empty() || path.split('/').any(str::is_empty) {
        return Err(FetchError::Reference {
            message: format!("`oci://{reference}` is not a valid OCI reference"),
        });
    }
    if path.contains(':') || path.contains('@') {
        return Err(FetchError::Reference {
            message: format!(
                "`oci://{reference}`: give the chart's version in `version:`, not as a tag or digest"
            ),
        });
    }
    let repository = repositories
        .iter()
        .filter(|r| r.oci)
        .filter(|r| {
            let url = r.url.trim_start_matches("oci://").trim_end_matches('/');
            reference
                .strip_prefix(url)
                .is_some_and(|rest| rest.starts_with('/'))
        })
        .max_by_key(|r| r.url.len());
    Ok(ChartRef::Oci {
        host: host.to_string(),
        path: path.to_string(),
        repository,
    })
}

/// The URL with any `user:password@` removed, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_user_info() {
        assert_eq!(
            redact("https://u:secret@charts.example/x"),
            "https://charts.example/x"
        );
        assert_eq!(
            redact("http://127.0.0.1:8080/a@b"),
            "http://127.0.0.1:8080/a@b"
        );
    }

    #[test]
    fn oci_references_split_host_and_path() {
        let ChartRef::Oci { host, path, .. } = oci("127.0.0.1:5000/charts/app", &[]).unwrap()
        else {
            panic!("not oci")
        };
        assert_eq!(
            (host.as_str(), path.as_str()),
            ("127.0.0.1:5000", "charts/app")
        );
        assert!(oci("127.0.0.1:5000", &[]).is_err());
        assert!(oci("host/charts/app:1.0.0", &[]).is_err());
    }
}
