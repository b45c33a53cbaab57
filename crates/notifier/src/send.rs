//! One HTTP client per Alertmanager set, and posting a batch to one Alertmanager.

use std::time::Duration;

use reqwest::Client;

use crate::NotifierError;
use config::AlertmanagerConfig;

/// How to reach the Alertmanagers of one set.
#[derive(Debug, Clone)]
pub struct SetClient {
    client: Client,
    auth_header: Option<String>,
}

fn read_secret(inline: &str, file: &str) -> Result<String, NotifierError> {
    if !file.is_empty() {
        let path = file;
        let s = std::fs::read_to_string(path)
            .map_err(|e| NotifierError::Config(format!("reading {path}: {e}")))?;
        return Ok(s.trim().to_string());
    }
    Ok(inline.to_string())
}

impl SetClient {
    pub fn new(cfg: &AlertmanagerConfig) -> Result<SetClient, NotifierError> {
        let timeout = Duration::from_millis(cfg.timeout.as_millis().max(1) as u64);
        let mut b = Client::builder().timeout(timeout).user_agent("Prometheus/3.0.0");
        if !cfg.follow_redirects {
            b = b.redirect(reqwest::redirect::Policy::none());
        }
        if cfg.tls_config.insecure_skip_verify {
            b = b.danger_accept_invalid_certs(true);
        }
        let client = b.build().map_err(|e| NotifierError::Config(e.to_string()))?;
        let auth_header = auth_header(cfg)?;
        Ok(SetClient { client, auth_header })
    }

    /// POSTs a JSON body; any non-2xx status is an error.
    pub async fn post(&self, url: &str, body: bytes_body::Body) -> Result<(), NotifierError> {
        let err = |reason: String| NotifierError::Send { url: url.to_string(), reason };
        let mut req = self.client.post(url).header("Content-Type", "application/json").body(body.0);
        if let Some(h) = &self.auth_header {
            req = req.header("Authorization", h);
        }
        let resp = req.send().await.map_err(|e| err(e.to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(err(format!("bad response status {status}")));
        }
        Ok(())
    }
}

fn auth_header(cfg: &AlertmanagerConfig) -> Result<Option<String>, NotifierError> {
    use base64::Engine as _;
    if let Some(ba) = &cfg.basic_auth {
        let user = read_secret(&ba.username, &ba.username_file)?;
        let pass = read_secret(ba.password.expose(), &ba.password_file)?;
        let enc = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        return Ok(Some(format!("Basic {enc}")));
    }
    if let Some(a) = &cfg.authorization {
        let kind = if a.kind.is_empty() { "Bearer" } else { a.kind.as_str() };
        let cred = read_secret(a.credentials.expose(), &a.credentials_file)?;
        return Ok(Some(format!("{kind} {cred}")));
    }
    if !cfg.bearer_token.is_empty() || !cfg.bearer_token_file.is_empty() {
        let cred = read_secret(cfg.bearer_token.expose(), &cfg.bearer_token_file)?;
        return Ok(Some(format!("Bearer {cred}")));
    }
    Ok(None)
}

/// A shareable request body.
pub mod bytes_body {
    /// The serialised JSON of one batch.
    #[derive(Debug, Clone)]
    pub struct Body(pub Vec<u8>);
}
