//! Prometheus' `--web.config.file` (exporter-toolkit's web configuration): basic auth with
//! bcrypt hashes, extra response headers from an allow-list, and TLS with optional client
//! certificates.
//!
//! - [`load`] reads and checks the whole file (certificates included) once, at start.
//! - [`WebConfig::protect`] wraps a router with the [`HttpGuard`] middleware: every route
//!   except `/-/healthy` needs credentials when users are configured. Users and headers
//!   follow changes to the file; TLS settings other than the certificate need a restart.
//! - [`WebConfig::tls_acceptor`] plus [`TlsListener`] serve TLS with `axum::serve`.
//!
//! Depends on no other Pharos crate.

mod auth;
mod cert_reload;
mod config;
mod error;
mod listener;
mod tls;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue};

pub use auth::{HttpGuard, UNAUTHENTICATED_PATH, middleware};
pub use config::{FileConfig, HttpServerConfig, RateLimitConfig, TlsServerConfig};
pub use error::WebConfigError;
pub use listener::TlsListener;
pub use tokio_rustls::TlsAcceptor;

/// A loaded, validated web configuration.
#[derive(Debug, Clone)]
pub struct WebConfig {
    file: FileConfig,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    guard: Arc<HttpGuard>,
}

/// Reads and validates a web config file: YAML (unknown fields are errors with file and
/// line), header allow-list, bcrypt hashes, and the TLS certificate, key and client CAs.
/// The guard follows later changes to the file's users and headers.
pub fn load(path: &Path) -> Result<WebConfig, WebConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| WebConfigError::Read { path: path.display().to_string(), source })?;
    build(&text, path, true)
}

/// As [`load`], from text (no following of changes); `path` names the file in errors and
/// anchors relative file names.
pub fn from_str(text: &str, path: &Path) -> Result<WebConfig, WebConfigError> {
    build(text, path, false)
}

fn build(text: &str, path: &Path, follow: bool) -> Result<WebConfig, WebConfigError> {
    let file = config::parse(text, path)?;
    let invalid = |msg: String| WebConfigError::Invalid { path: path.display().to_string(), msg };
    let tls = if file.tls_server_config.is_enabled() {
        Some(tls::server_config(&file.tls_server_config).map_err(invalid)?)
    } else {
        None
    };
    let rules = rules_from(&file).map_err(invalid)?;
    let guard = Arc::new(HttpGuard::new(rules, follow.then(|| path.to_path_buf())));
    Ok(WebConfig { file, tls, guard })
}

/// The users and headers of a parsed file.
fn rules_from(file: &FileConfig) -> Result<auth::Rules, String> {
    let mut headers = Vec::new();
    for (k, v) in &file.http_server_config.headers {
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(|e| e.to_string())?;
        let value = HeaderValue::from_str(v).map_err(|e| e.to_string())?;
        headers.push((name, value));
    }
    let users: HashMap<String, String> =
        file.basic_auth_users.iter().map(|(u, h)| (u.clone(), h.clone())).collect();
    Ok(auth::Rules { users, headers })
}

/// Users and headers from the text of a changed file (the guard's live reload).
pub(crate) fn rules_from_text(text: &str, path: &Path) -> Result<auth::Rules, WebConfigError> {
    let file = config::parse(text, path)?;
    rules_from(&file)
        .map_err(|msg| WebConfigError::Invalid { path: path.display().to_string(), msg })
}

impl WebConfig {
    /// The parsed file.
    pub fn file(&self) -> &FileConfig {
        &self.file
    }

    /// The acceptor when `tls_server_config` is set; `None` serves plain HTTP.
    pub fn tls_acceptor(&self) -> Option<TlsAcceptor> {
        self.tls.clone().map(TlsAcceptor::from)
    }

    /// The auth and headers guard (shared; its verification cache lives as long as it).
    pub fn guard(&self) -> Arc<HttpGuard> {
        self.guard.clone()
    }

    /// Wraps `router` (call on the outermost router, after every merge and fallback) so every
    /// request passes the guard.
    pub fn protect(&self, router: Router) -> Router {
        router.layer(axum::middleware::from_fn_with_state(self.guard(), middleware))
    }
}
