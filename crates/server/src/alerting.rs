//! The built-in Alertmanager: its configuration, its place behind the notifier, and the
//! default "log" receiver.
//!
//! Alerts reach it in-process through the notifier's local receivers (after external labels
//! and `alert_relabel_configs`, exactly what an external Alertmanager would be sent). The
//! embedded default routes everything to a webhook on Pharos itself, which logs each
//! notification and keeps the recent ones for `/api/pharos/v1/notifications`.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use alertmanager_api::AlertmanagerService;
use parking_lot::Mutex;

use crate::ServerError;
use crate::self_access::SelfAccess;

const DEFAULT_AM_CONFIG: &str = include_str!("../defaults/alertmanager.yml");

/// Loads `--alertmanager.config.file`, or writes the embedded default (with an optional extra
/// webhook, and its "log" webhook reaching the server as `access` says) under
/// `<storage>/default-config/` and loads that.
pub fn load_config(
    file: Option<&Path>,
    storage: &Path,
    port: u16,
    extra_webhook: Option<&str>,
    access: &SelfAccess,
) -> Result<(alertmanager::Config, PathBuf), ServerError> {
    let path = match file {
        Some(p) => p.to_path_buf(),
        None => write_default(storage, port, extra_webhook, access)?,
    };
    let cfg = alertmanager::Config::load_file(&path.to_string_lossy())
        .map_err(|e| ServerError::Config(e.to_string()))?;
    Ok((cfg, path))
}

fn write_default(
    storage: &Path,
    port: u16,
    extra_webhook: Option<&str>,
    access: &SelfAccess,
) -> Result<PathBuf, ServerError> {
    let extra = match extra_webhook {
        Some(url) => format!("      - url: {url:?}\n        send_resolved: true\n"),
        None => String::new(),
    };
    let text = DEFAULT_AM_CONFIG
        .replace("${PHAROS_PORT}", &port.to_string())
        .replace("${PHAROS_SELF_SCHEME}", access.scheme())
        .replace("${PHAROS_SELF_HTTP_CONFIG}\n", &access.webhook_yaml())
        .replace("${PHAROS_EXTRA_WEBHOOK}\n", &extra);
    let path = storage.join("default-config").join("alertmanager.yml");
    crate::config_load::write_file(&path, text.as_bytes())?;
    Ok(path)
}

/// Starts the built-in Alertmanager with durable state under `<storage>/alertmanager`.
pub fn start(
    cfg: alertmanager::Config,
    path: PathBuf,
    storage: &Path,
    external_url: String,
) -> Result<AlertmanagerService, ServerError> {
    let opts = alertmanager::Options {
        storage_dir: Some(storage.join("alertmanager")),
        external_url,
        ..alertmanager::Options::default()
    };
    AlertmanagerService::start(cfg, opts, Arc::new(alertmanager::SystemClock), Some(path))
        .map_err(|e| ServerError::Config(format!("built-in alertmanager: {e}")))
}

/// Hands the notifier's alerts to the built-in Alertmanager.
pub struct BuiltinReceiver(pub AlertmanagerService);

fn opt_ms(ms: i64) -> Option<i64> {
    (ms != 0).then_some(ms)
}

impl notifier::LocalReceiver for BuiltinReceiver {
    fn receive(&self, alerts: Vec<notifier::Alert>) {
        let postable = alerts
            .into_iter()
            .map(|a| alertmanager::PostableAlert {
                labels: a.labels,
                annotations: a.annotations,
                starts_at: opt_ms(a.starts_at_ms),
                ends_at: opt_ms(a.ends_at_ms),
                generator_url: a.generator_url,
            })
            .collect();
        let report = self.0.push(postable);
        for (i, e) in report.rejected {
            tracing::warn!(index = i, err = %e, "built-in alertmanager rejected an alert");
        }
    }
}

/// The recent notifications the default "log" receiver got.
#[derive(Clone, Default)]
pub struct NotificationLog(Arc<Mutex<VecDeque<serde_json::Value>>>);

/// How many notifications the log keeps.
const KEEP: usize = 200;

impl NotificationLog {
    /// Logs one webhook payload and keeps it.
    pub fn record(&self, payload: serde_json::Value) {
        let status = payload["status"].as_str().unwrap_or("");
        let receiver = payload["receiver"].as_str().unwrap_or("");
        for alert in payload["alerts"].as_array().into_iter().flatten() {
            tracing::warn!(
                receiver,
                group_status = status,
                status = alert["status"].as_str().unwrap_or(""),
                labels = %alert["labels"],
                summary = alert["annotations"]["summary"].as_str().unwrap_or(""),
                "notification"
            );
        }
        let mut log = self.0.lock();
        if log.len() == KEEP {
            log.pop_front();
        }
        log.push_back(payload);
    }

    /// Newest first.
    pub fn recent(&self) -> Vec<serde_json::Value> {
        self.0.lock().iter().rev().cloned().collect()
    }
}

/// Reloads the built-in Alertmanager's file with the server's reload.
pub struct AlertmanagerReload(pub AlertmanagerService);

impl crate::Reloadable for AlertmanagerReload {
    fn apply(&self, _cfg: &config::Config) -> Result<(), String> {
        self.0.reload_from_file().map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_routes_to_the_log_receiver_and_the_optional_webhook() {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, path) = load_config(
            None,
            dir.path(),
            9191,
            Some("http://127.0.0.1:5001/hook"),
            &SelfAccess::default(),
        )
        .unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains("127.0.0.1:9191/api/pharos/v1/notifications"), "{text}");
        assert!(text.contains("http://127.0.0.1:5001/hook"), "{text}");
        let receivers =
            alertmanager::check::route_test(&cfg, &model::Labels::new([("alertname", "X")]))
                .unwrap();
        assert_eq!(receivers, vec!["log".to_string()]);
    }

    #[test]
    fn the_log_keeps_the_newest_notifications() {
        let log = NotificationLog::default();
        for i in 0..(KEEP + 5) {
            log.record(serde_json::json!({"status": "firing", "n": i, "alerts": []}));
        }
        let recent = log.recent();
        assert_eq!(recent.len(), KEEP);
        assert_eq!(recent[0]["n"], KEEP + 4);
    }
}
