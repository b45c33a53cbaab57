//! HTTP sending shared by the HTTP integrations, honouring `http_config`.

use alertmanager::config::HttpConfig;

use crate::context::secret;
use crate::error::NotifyError;

/// A client for an integration: the shared one unless TLS or proxy settings need their own.
pub fn client_for(
    shared: &reqwest::Client,
    cfg: Option<&HttpConfig>,
) -> Result<reqwest::Client, NotifyError> {
    let Some(cfg) = cfg else { return Ok(shared.clone()) };
    let insecure = cfg.tls_config.as_ref().is_some_and(|t| t.insecure_skip_verify);
    if !insecure && cfg.proxy_url.is_none() {
        return Ok(shared.clone());
    }
    let mut b = reqwest::Client::builder().danger_accept_invalid_certs(insecure);
    if let Some(p) = &cfg.proxy_url {
        b = b.proxy(reqwest::Proxy::all(p).map_err(|e| NotifyError::permanent(e.to_string()))?);
    }
    b.build().map_err(|e| NotifyError::permanent(e.to_string()))
}

/// Adds basic auth, bearer token or `authorization` credentials to a request.
pub fn authorize(
    req: reqwest::RequestBuilder,
    cfg: Option<&HttpConfig>,
) -> Result<reqwest::RequestBuilder, NotifyError> {
    let Some(cfg) = cfg else { return Ok(req) };
    if let Some(b) = &cfg.basic_auth {
        let password = secret(b.password.as_deref(), b.password_file.as_deref()).ok();
        return Ok(req.basic_auth(&b.username, password));
    }
    if let Some(a) = &cfg.authorization {
        let creds = secret(a.credentials.as_deref(), a.credentials_file.as_deref())?;
        let kind = a.kind.as_deref().unwrap_or("Bearer");
        return Ok(req.header("Authorization", format!("{kind} {creds}")));
    }
    if cfg.bearer_token.is_some() || cfg.bearer_token_file.is_some() {
        let token = secret(cfg.bearer_token.as_deref(), cfg.bearer_token_file.as_deref())?;
        return Ok(req.bearer_auth(token));
    }
    Ok(req)
}

/// POSTs JSON and classifies the outcome.
pub async fn post_json(
    integration: &str,
    shared: &reqwest::Client,
    cfg: Option<&HttpConfig>,
    url: &str,
    body: &serde_json::Value,
    headers: &[(&str, String)],
) -> Result<(), NotifyError> {
    let bytes = serde_json::to_vec(body).map_err(|e| NotifyError::permanent(e.to_string()))?;
    post_json_bytes(integration, shared, cfg, url, bytes, headers).await
}

/// POSTs an already encoded JSON body (`Content-Type: application/json`) and classifies the
/// outcome.
pub async fn post_json_bytes(
    integration: &str,
    shared: &reqwest::Client,
    cfg: Option<&HttpConfig>,
    url: &str,
    body: Vec<u8>,
    headers: &[(&str, String)],
) -> Result<(), NotifyError> {
    let client = client_for(shared, cfg)?;
    let mut req = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::USER_AGENT, "Alertmanager/0.25.0")
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let req = authorize(req, cfg)?;
    let resp =
        req.send().await.map_err(|e| NotifyError::retryable(format!("{integration}: {e}")))?;
    let status = resp.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(());
    }
    let text = resp.text().await.unwrap_or_default();
    Err(NotifyError::from_status(integration, status, &text))
}
