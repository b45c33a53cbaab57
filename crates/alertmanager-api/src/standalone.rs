//! `pharos alertmanager`: the standalone server with Alertmanager's flag names.

use std::path::PathBuf;
use std::sync::Arc;

use alertmanager::{Config, Options, SystemClock};

use crate::error::ApiError;
use crate::service::AlertmanagerService;

/// Alertmanager's command-line flags (the subset Pharos honours; cluster flags are accepted
/// and ignored since Pharos does not gossip).
#[derive(Clone, Debug, clap::Args)]
pub struct StandaloneOpts {
    #[arg(long = "config.file", default_value = "alertmanager.yml")]
    pub config_file: PathBuf,
    #[arg(long = "storage.path", default_value = "data/")]
    pub storage_path: PathBuf,
    #[arg(long = "web.listen-address", default_value = ":9093")]
    pub listen_address: String,
    #[arg(long = "web.external-url", default_value = "")]
    pub external_url: String,
    /// Prefix for all routes; defaults to the path of `--web.external-url`.
    #[arg(long = "web.route-prefix")]
    pub route_prefix: Option<String>,
    #[arg(long = "data.retention", default_value = "120h")]
    pub data_retention: String,
    #[arg(long = "cluster.listen-address", default_value = "")]
    pub cluster_listen_address: String,
    #[arg(long = "log.level", default_value = "info")]
    pub log_level: String,
}

/// `:9093` -> `0.0.0.0:9093`.
pub fn listen_addr(s: &str) -> String {
    if s.starts_with(':') { format!("0.0.0.0{s}") } else { s.to_string() }
}

/// The route prefix: the flag if given, else the external URL's path; "" for the root.
pub fn route_prefix(flag: Option<&str>, external_url: &str) -> String {
    let raw = match flag {
        Some(p) => p.to_string(),
        None => {
            let after_scheme = external_url.split_once("://").map_or(external_url, |(_, r)| r);
            after_scheme.find('/').map_or(String::new(), |i| after_scheme[i..].to_string())
        }
    };
    let trimmed = raw.trim_end_matches('/');
    if trimmed.is_empty() {
        return String::new();
    }
    if trimmed.starts_with('/') { trimmed.to_string() } else { format!("/{trimmed}") }
}

/// Runs until the process is stopped (SIGINT/SIGTERM), then snapshots state.
pub async fn run_standalone(opts: StandaloneOpts) -> Result<(), ApiError> {
    let config = Config::load_file(&opts.config_file.to_string_lossy())?;
    let retention_ms = model::duration::parse_duration(&opts.data_retention)
        .map_err(|e| ApiError::Flag { flag: "--data.retention".into(), message: e.to_string() })?;
    let addr = listen_addr(&opts.listen_address);
    let external_url = if opts.external_url.is_empty() {
        format!("http://{}", addr.replace("0.0.0.0", "localhost"))
    } else {
        opts.external_url.trim_end_matches('/').to_string()
    };
    let am_opts = Options {
        storage_dir: Some(opts.storage_path.clone()),
        retention_ms,
        external_url,
        ..Options::default()
    };
    let svc = AlertmanagerService::start(
        config,
        am_opts,
        Arc::new(SystemClock),
        Some(opts.config_file.clone()),
    )?;
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| ApiError::Listen { addr: addr.clone(), source })?;
    tracing::info!(address = %addr, "alertmanager listening");
    let prefix = route_prefix(opts.route_prefix.as_deref(), &opts.external_url);
    let app = svc.router().merge(crate::metrics::router(svc.clone()));
    let router = if prefix.is_empty() { app } else { axum::Router::new().nest(&prefix, app) };
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(ApiError::Serve)?;
    svc.shutdown()
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_addresses() {
        assert_eq!(route_prefix(None, "http://h:9093/am/"), "/am");
        assert_eq!(route_prefix(None, "http://h:9093"), "");
        assert_eq!(route_prefix(Some("x"), "http://h/am"), "/x");
        assert_eq!(route_prefix(Some("/"), ""), "");
        assert_eq!(listen_addr(":9093"), "0.0.0.0:9093");
    }
}
