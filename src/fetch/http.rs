//! HTTP to chart repositories and registries: TLS and credentials from the repository's
//! settings, credentials sent only to the repository's own origin (Helm's rule since
//! 3.6.1, unless `passCredentials`), and failures worded in terms of the repository.
//! Credentials never reach a message or a log line.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};

use crate::config::Repository;

use super::FetchError;
use super::reference::redact;

/// The largest body read: big public repositories have index.yaml files of tens of MB.
const BODY_LIMIT: u64 = 512 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const CALL_TIMEOUT: Duration = Duration::from_secs(300);

/// A username and password; `Debug` shows neither.
#[derive(Clone)]
pub struct Credentials {
    username: String,
    password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials(hidden)")
    }
}

impl Credentials {
    /// The repository's `username`/`password`, else `<NAME>_USERNAME`/`<NAME>_PASSWORD`
    /// from the environment (NAME upper-cased, `-` as `_`), as helmfile reads them.
    pub fn of(repository: &Repository) -> Option<Credentials> {
        let from_env = |suffix: &str| {
            let name = repository.name.to_uppercase().replace('-', "_");
            std::env::var(format!("{name}_{suffix}")).ok()
        };
        let username = repository
            .username
            .clone()
            .or_else(|| from_env("USERNAME"))?;
        let password = repository
            .password
            .clone()
            .or_else(|| from_env("PASSWORD"))
            .unwrap_or_default();
        Some(Credentials { username, password })
    }

    pub fn basic(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

pub struct Response {
    pub status: u16,
    pub authenticate: Option<String>,
    pub body: Vec<u8>,
}

/// One repository's (or registry's) connection settings.
pub struct Remote {
    agent: ureq::Agent,
    credentials: Option<Credentials>,
    /// scheme://host:port of the repository: where credentials may go.
    origin: String,
    pass_credentials: bool,
    /// How messages name it: repository `NAME` (URL), or the URL alone.
    pub what: String,
}

impl Remote {
    pub fn new(url: &str, repository: Option<&Repository>) -> Result<Remote, FetchError> {
        let what = match repository {
            Some(r) => format!("repository `{}` ({})", r.name, redact(url)),
            None => format!("repository {}", redact(url)),
        };
        let tls = tls_config(repository).map_err(|message| FetchError::Settings {
            what: what.clone(),
            message,
        })?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(CALL_TIMEOUT))
            .user_agent(concat!("orch/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls)
            .build()
            .new_agent();
        Ok(Remote {
            agent,
            credentials: repository.and_then(Credentials::of),
            origin: origin(url).to_string(),
            pass_credentials: repository.is_some_and(|r| r.pass_credentials),
            what,
        })
    }

    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// GET `url`; any status is a response, only a transport failure is an error.
    pub fn request(
        &self,
        url: &str,
        accept: Option<&str>,
        authorization: Option<&str>,
    ) -> Result<Response, FetchError> {
        let mut request = self.agent.get(url);
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        let basic;
        let authorization = match (authorization, &self.credentials) {
            (Some(given), _) => Some(given),
            (None, Some(credentials)) if self.pass_credentials || origin(url) == self.origin => {
                basic = credentials.basic();
                Some(basic.as_str())
            }
            _ => None,
        };
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        let unreachable = |err: ureq::Error| FetchError::Unreachable {
            what: self.what.clone(),
            // The error may quote the URL, and with it credentials written into the URL.
            reason: err
                .to_string()
                .replace(url, &redact(url))
                .trim_start_matches("io: ")
                .to_string(),
        };
        let mut response = request.call().map_err(unreachable)?;
        let authenticate = response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_vec()
            .map_err(unreachable)?;
        Ok(Response {
            status: response.status().as_u16(),
            authenticate,
            body,
        })
    }

    /// GET `url` and its body, with any status but 2xx an error saying what it means.
    pub fn get(&self, url: &str, accept: Option<&str>) -> Result<Vec<u8>, FetchError> {
        let response = self.request(url, accept, None)?;
        self.success(url, response)
    }

    pub fn success(&self, url: &str, response: Response) -> Result<Vec<u8>, FetchError> {
        match response.status {
            200..=299 => Ok(response.body),
            401 | 403 => Err(FetchError::Refused {
                what: self.what.clone(),
                status: response.status,
                had_credentials: self.credentials.is_some(),
            }),
            status => Err(FetchError::Status {
                what: self.what.clone(),
                url: redact(url),
                status,
            }),
        }
    }
}

/// scheme://host[:port] of a URL.
fn origin(url: &str) -> &str {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..].find('/').map_or(url.len(), |i| start + i);
    &url[..end]
}

/// Resolves a chart URL from an index against the repository URL, as Helm does: absolute
/// URLs stay, others are relative to the repository's directory.
pub fn resolve(repository_url: &str, chart_url: &str) -> String {
    if chart_url.contains("://") {
        return chart_url.to_string();
    }
    if let Some(path) = chart_url.strip_prefix('/') {
        return format!("{}/{path}", origin(repository_url));
    }
    format!("{}/{chart_url}", repository_url.trim_end_matches('/'))
}

fn tls_config(repository: Option<&Repository>) -> Result<TlsConfig, String> {
    let mut tls = TlsConfig::builder();
    let Some(repository) = repository else {
        return Ok(tls.build());
    };
    let read = |path: &str| std::fs::read(path).map_err(|e| format!("{path}: {e}"));
    if let Some(ca_file) = &repository.ca_file {
        let pem = read(ca_file)?;
        let certificates = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
                Ok(_) => None,
                Err(e) => Some(Err(format!("{ca_file}: {e}"))),
            })
            .collect::<Result<Vec<Certificate<'static>>, String>>()?;
        if certificates.is_empty() {
            return Err(format!("{ca_file} holds no PEM certificate"));
        }
        tls = tls.root_certs(RootCerts::new_with_certs(&certificates));
    }
    if let (Some(cert_file), Some(key_file)) = (&repository.cert_file, &repository.key_file) {
        let chain =
            Certificate::from_pem(&read(cert_file)?).map_err(|e| format!("{cert_file}: {e}"))?;
        let key = PrivateKey::from_pem(&read(key_file)?).map_err(|e| format!("{key_file}: {e}"))?;
        tls = tls.client_cert(Some(ClientCert::new_with_certs(&[chain], key)));
    }
    Ok(tls
        .disable_verification(repository.insecure_skip_tls_verify)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_chart_urls_like_helm() {
        let repo = "https://charts.example/stable/";
        assert_eq!(
            resolve(repo, "app-1.0.0.tgz"),
            "https://charts.example/stable/app-1.0.0.tgz"
        );
        assert_eq!(
            resolve(repo, "/dl/app-1.0.0.tgz"),
            "https://charts.example/dl/app-1.0.0.tgz"
        );
        assert_eq!(
            resolve(repo, "https://cdn.example/app.tgz"),
            "https://cdn.example/app.tgz"
        );
        assert_eq!(origin("http://127.0.0.1:80/x/y"), "http://127.0.0.1:80");
    }

    #[test]
    fn credentials_never_print() {
        let c = Credentials {
            username: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
