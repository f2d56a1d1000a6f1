use super::Target;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("kubeconfig: {0}")]
    Config(String),
    #[error("cannot reach the API server at {server}: {message}")]
    Unreachable { server: String, message: String },
    #[error("the API server does not serve {kind} in {api_version} (is its CRD installed?)")]
    UnknownKind { api_version: String, kind: String },
    #[error("{verb} {target}: {message}")]
    Api {
        verb: &'static str,
        target: String,
        /// The HTTP status, 0 when the request got no answer.
        code: u16,
        message: String,
    },
}

impl ClusterError {
    pub fn api(verb: &'static str, target: &Target, error: kube::Error) -> Self {
        let (code, message) = match &error {
            kube::Error::Api(status) if status.code == 403 => {
                (status.code, format!("forbidden: {}", status.message))
            }
            kube::Error::Api(status) => (status.code, status.message.clone()),
            other => (0, format!("no answer from the API server ({other})")),
        };
        ClusterError::Api {
            verb,
            target: target.to_string(),
            code,
            message,
        }
    }

    /// The identity may not do this.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, ClusterError::Api { code: 403, .. })
    }

    /// 409: the object exists already (create), or a field-manager conflict (apply).
    pub fn is_conflict(&self) -> bool {
        matches!(self, ClusterError::Api { code: 409, .. })
    }

    /// 422 for a field that cannot change once the object exists (a Job's template, a
    /// StorageClass's parameters, an immutable ConfigMap's data).
    pub fn is_immutable_field(&self) -> bool {
        matches!(self, ClusterError::Api { code: 422, message, .. } if message.contains("immutable"))
    }
}
