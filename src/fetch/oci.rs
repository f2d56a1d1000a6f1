//! Helm charts in OCI registries, over the distribution API: tags to choose a version from,
//! the manifest naming the chart layer, the layer itself. Registries that want a token
//! answer 401 with a `Bearer` challenge; the token comes from the challenge's realm, with
//! the repository's credentials when it has them.

use serde::Deserialize;

use super::FetchError;
use super::http::Remote;

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

/// One chart's repository in a registry: `{scheme}://{host}/v2/{path}/...`.
pub struct Registry<'a> {
    pub remote: &'a Remote,
    pub base: String,
    pub path: &'a str,
}

#[derive(Deserialize)]
struct Tags {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    layers: Vec<Layer>,
}

#[derive(Deserialize)]
struct Layer {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
}

#[derive(Deserialize)]
struct Token {
    token: Option<String>,
    access_token: Option<String>,
}

impl Registry<'_> {
    /// The chart's versions: its tags, with Helm's `_` for the `+` tags cannot hold.
    pub fn versions(&self) -> Result<Vec<String>, FetchError> {
        let url = format!("{}/v2/{}/tags/list", self.base, self.path);
        let body = self.get(&url, None)?;
        let tags: Tags =
            serde_json::from_slice(&body).map_err(|_| self.invalid(&url, "tag list"))?;
        Ok(tags
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.replace('_', "+"))
            .collect())
    }

    /// The chart archive of `version`, and its layer's digest.
    pub fn pull(&self, version: &str) -> Result<(Vec<u8>, String), FetchError> {
        let tag = version.replace('+', "_");
        let url = format!("{}/v2/{}/manifests/{tag}", self.base, self.path);
        let body = self.get(&url, Some(MANIFEST))?;
        let manifest: Manifest =
            serde_json::from_slice(&body).map_err(|_| self.invalid(&url, "manifest"))?;
        let Some(layer) = manifest.layers.iter().find(|l| l.media_type == CHART_LAYER) else {
            return Err(FetchError::Reference {
                message: format!(
                    "{}:{tag} in {} is not a Helm chart (no layer of type {CHART_LAYER})",
                    self.path, self.remote.what
                ),
            });
        };
        let url = format!("{}/v2/{}/blobs/{}", self.base, self.path, layer.digest);
        Ok((self.get(&url, None)?, layer.digest.clone()))
    }

    fn invalid(&self, url: &str, what: &str) -> FetchError {
        FetchError::Corrupt {
            origin: url.to_string(),
            message: format!("{} answered with an invalid {what}", self.remote.what),
        }
    }

    /// GET with the registry's challenge answered: basic credentials, or a bearer token.
    fn get(&self, url: &str, accept: Option<&str>) -> Result<Vec<u8>, FetchError> {
        let response = self.remote.request(url, accept, None)?;
        if response.status != 401 {
            return self.remote.success(url, response);
        }
        let Some(challenge) = response
            .authenticate
            .as_deref()
            .and_then(|c| c.strip_prefix("Bearer "))
        else {
            return self.remote.success(url, response);
        };
        let token = self.token(challenge)?;
        let response = self
            .remote
            .request(url, accept, Some(&format!("Bearer {token}")))?;
        self.remote.success(url, response)
    }

    fn token(&self, challenge: &str) -> Result<String, FetchError> {
        let params = challenge_params(challenge);
        let param = |key: &str| {
            params
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let Some(realm) = param("realm") else {
            return Err(self.invalid(self.path, "authentication challenge"));
        };
        let mut url = realm.to_string();
        let query: Vec<String> = ["service", "scope"]
            .iter()
            .filter_map(|k| param(k).map(|v| format!("{k}={}", encode(v))))
            .collect();
        if !query.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&query.join("&"));
        }
        let basic = self.remote.credentials().map(|c| c.basic());
        let response = self.remote.request(&url, None, basic.as_deref())?;
        let body = self.remote.success(&url, response)?;
        let token: Token =
            serde_json::from_slice(&body).map_err(|_| self.invalid(&url, "token"))?;
        token
            .token
            .or(token.access_token)
            .ok_or_else(|| self.invalid(&url, "token"))
    }
}

/// `realm="https://auth",service="registry",scope="repository:a/b:pull"` -> pairs.
fn challenge_params(challenge: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut rest = challenge.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key.trim().trim_start_matches(',').trim().to_string();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.split_once('"') {
                Some((value, remaining)) => (value, remaining),
                None => (quoted, ""),
            }
        } else {
            match after.split_once(',') {
                Some((value, remaining)) => (value, remaining),
                None => (after, ""),
            }
        };
        params.push((key, value.to_string()));
        rest = remaining.trim_start_matches(',');
    }
    params
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~:/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenges() {
        let params = challenge_params(
            r#"realm="https://auth.example/token",service="registry.example",scope="repository:charts/app:pull""#,
        );
        assert_eq!(
            params,
            [
                ("realm".into(), "https://auth.example/token".into()),
                ("service".into(), "registry.example".into()),
                ("scope".into(), "repository:charts/app:pull".into()),
            ]
        );
        assert_eq!(encode("a b,c"), "a%20b%2Cc");
    }
}
