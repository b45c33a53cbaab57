//! HTTP clients from `HttpClientConfig`: TLS settings at build time, credentials per request
//! (credential files are re-read on every request, as Prometheus does).

use config::http::HttpClientConfig;

/// Builds a client. `compression` enables gzip (`Accept-Encoding: gzip` and decoding).
pub fn build(cfg: &HttpClientConfig, compression: bool) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder();
    if !compression {
        b = b.no_gzip();
    }
    if !cfg.follow_redirects {
        b = b.redirect(reqwest::redirect::Policy::none());
    }
    let tls = &cfg.tls_config;
    if tls.insecure_skip_verify {
        b = b.danger_accept_invalid_certs(true);
    }
    let ca = if !tls.ca.is_empty() {
        Some(tls.ca.clone().into_bytes())
    } else if !tls.ca_file.is_empty() {
        Some(
            std::fs::read(&tls.ca_file)
                .map_err(|e| format!("unable to load specified CA cert {}: {e}", tls.ca_file))?,
        )
    } else {
        None
    };
    if let Some(pem) = ca {
        let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| e.to_string())?;
        b = b.add_root_certificate(cert);
    }
    if let Some(proxy) = &cfg.proxy_url {
        b = b.proxy(reqwest::Proxy::all(proxy).map_err(|e| e.to_string())?);
    } else {
        b = b.no_proxy();
    }
    b.build().map_err(|e| e.to_string())
}

fn read_secret(inline: &str, file: &str) -> Result<String, String> {
    if !file.is_empty() {
        let s = std::fs::read_to_string(file).map_err(|e| format!("unable to read {file}: {e}"))?;
        return Ok(s.trim().to_string());
    }
    Ok(inline.to_string())
}

/// The `Authorization` header value a request with `cfg` carries, if any: basic auth, an
/// `authorization` section or a bearer token, in that order, as `authorize` sets it.
pub(crate) fn authorization(cfg: &HttpClientConfig) -> Result<Option<String>, String> {
    use base64::Engine as _;
    if let Some(b) = &cfg.basic_auth {
        let user = read_secret(&b.username, &b.username_file)?;
        let pw = read_secret(b.password.expose(), &b.password_file)?;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"));
        return Ok(Some(format!("Basic {token}")));
    }
    if let Some(a) = &cfg.authorization {
        let cred = read_secret(a.credentials.expose(), &a.credentials_file)?;
        let kind = if a.kind.is_empty() { "Bearer" } else { a.kind.as_str() };
        return Ok(Some(format!("{kind} {cred}")));
    }
    let bearer = read_secret(cfg.bearer_token.expose(), &cfg.bearer_token_file)?;
    Ok((!bearer.is_empty()).then(|| format!("Bearer {bearer}")))
}

/// Adds basic auth or an `Authorization` header to a request.
pub fn authorize(
    req: reqwest::RequestBuilder,
    cfg: &HttpClientConfig,
) -> Result<reqwest::RequestBuilder, String> {
    if let Some(b) = &cfg.basic_auth {
        let user = read_secret(&b.username, &b.username_file)?;
        let pw = read_secret(b.password.expose(), &b.password_file)?;
        return Ok(req.basic_auth(user, Some(pw)));
    }
    if let Some(a) = &cfg.authorization {
        let cred = read_secret(a.credentials.expose(), &a.credentials_file)?;
        let kind = if a.kind.is_empty() { "Bearer" } else { a.kind.as_str() };
        return Ok(req.header("Authorization", format!("{kind} {cred}")));
    }
    let bearer = read_secret(cfg.bearer_token.expose(), &cfg.bearer_token_file)?;
    if !bearer.is_empty() {
        return Ok(req.header("Authorization", format!("Bearer {bearer}")));
    }
    Ok(req)
}
