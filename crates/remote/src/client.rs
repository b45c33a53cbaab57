//! The remote-write HTTP client: one POST per batch with Prometheus' headers, and the
//! classification of failures into retryable (5xx, 429, transport) or not (other 4xx).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::RemoteError;

/// HTTP settings shared by the write and read clients (Prometheus' `http_config` subset).
#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    pub headers: BTreeMap<String, String>,
    /// `basic_auth`: username and password.
    pub basic_auth: Option<(String, String)>,
    /// `bearer_token` / `bearer_token_file`: the bearer credentials.
    pub bearer_token: Option<String>,
    /// `authorization`: the complete `Authorization` header value (`<type> <credentials>`).
    pub authorization: Option<String>,
    /// `tls_config.ca_file`.
    pub ca_file: Option<PathBuf>,
    /// `tls_config.cert_file` + `key_file` (PEM), for client certificates.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// `tls_config.insecure_skip_verify`.
    pub insecure_skip_verify: bool,
}

impl HttpOptions {
    /// Builds a reqwest client with these settings and `timeout`.
    pub fn client(&self, timeout: Duration) -> Result<reqwest::Client, RemoteError> {
        let mut headers = HeaderMap::new();
        for (k, v) in &self.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| RemoteError::Config(format!("header {k:?}: {e}")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|e| RemoteError::Config(format!("header {k:?}: {e}")))?;
            headers.insert(name, value);
        }
        let mut b = reqwest::Client::builder()
            .timeout(timeout)
            .default_headers(headers)
            .user_agent(concat!("Pharos/", env!("CARGO_PKG_VERSION")))
            .danger_accept_invalid_certs(self.insecure_skip_verify);
        if let Some(ca) = &self.ca_file {
            let pem = std::fs::read(ca)?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| RemoteError::Config(format!("ca_file: {e}")))?;
            b = b.add_root_certificate(cert);
        }
        if let Some((cert, key)) = &self.client_cert {
            let mut pem = std::fs::read(cert)?;
            pem.extend(std::fs::read(key)?);
            let id = reqwest::Identity::from_pem(&pem)
                .map_err(|e| RemoteError::Config(format!("cert_file/key_file: {e}")))?;
            b = b.identity(id);
        }
        b.build().map_err(|e| RemoteError::Config(e.to_string()))
    }

    /// Adds the authentication of these options to a request.
    pub fn auth(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match (&self.basic_auth, &self.authorization, &self.bearer_token) {
            (Some((u, p)), _, _) => req.basic_auth(u, Some(p)),
            (None, Some(h), _) => req.header(reqwest::header::AUTHORIZATION, h),
            (None, None, Some(t)) => req.bearer_auth(t),
            _ => req,
        }
    }
}

/// The outcome of one failed send.
#[derive(Debug)]
pub struct SendError {
    pub error: RemoteError,
    /// Whether sending the same batch again may succeed.
    pub retryable: bool,
    /// A `Retry-After` delay the server asked for.
    pub retry_after: Option<Duration>,
}

/// Posts one compressed remote-write 1.0 body.
pub async fn post_write(
    client: &reqwest::Client,
    http: &HttpOptions,
    url: &str,
    body: Vec<u8>,
    retry_on_429: bool,
) -> Result<(), SendError> {
    let req = client
        .post(url)
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body);
    let resp = http.auth(req).send().await.map_err(|e| SendError {
        error: RemoteError::Transport(e.to_string()),
        retryable: true,
        retry_after: None,
    })?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let retry_after = resp
        .headers()
        .get("Retry-After")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let mut message = resp.text().await.unwrap_or_default();
    message.truncate(512);
    let code = status.as_u16();
    let retryable = status.is_server_error() || (code == 429 && retry_on_429);
    Err(SendError {
        error: RemoteError::Http { status: code, message: message.trim_end().to_string() },
        retryable,
        retry_after,
    })
}
