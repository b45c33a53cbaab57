//! Reload and quit: `SIGHUP` and `POST /-/reload` re-read the configuration; `/-/quit`, SIGTERM
//! and SIGINT stop the server.
//!
//! A reload validates the whole new configuration before anything changes; on error the old
//! configuration stays in force and `prometheus_config_last_reload_successful` drops to 0.

use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;

use crate::SelfMetrics;
use crate::views::ConfigState;

/// Something that takes a newly loaded configuration (scrape manager, rule manager, ...).
pub trait Reloadable: Send + Sync {
    fn apply(&self, cfg: &config::Config) -> Result<(), String>;
}

/// Reloads the configuration file into every registered component.
pub struct Reloader {
    pub config_path: PathBuf,
    /// `--slo.file` and the storage directory its generated files go to.
    pub slo_file: Option<PathBuf>,
    pub storage: PathBuf,
    pub state: Arc<RwLock<ConfigState>>,
    pub metrics: SelfMetrics,
    pub components: Mutex<Vec<(&'static str, Arc<dyn Reloadable>)>>,
    pub quit: watch::Sender<bool>,
}

impl Reloader {
    pub fn register(&self, name: &'static str, c: Arc<dyn Reloadable>) {
        self.components.lock().push((name, c));
    }

    /// Applies `cfg` to every component in registration order.
    pub fn apply(&self, cfg: &config::Config) -> Result<(), String> {
        let components = self.components.lock().clone();
        for (name, c) in components {
            c.apply(cfg).map_err(|e| format!("applying configuration to {name}: {e}"))?;
        }
        Ok(())
    }

    /// Reads the configuration file, with the rules generated from `--slo.file` added.
    pub fn load(&self) -> Result<config::Config, String> {
        let mut cfg = config::load(&self.config_path).map_err(|e| {
            format!(
                "couldn't load configuration (--config.file={:?}): {e}",
                self.config_path.display().to_string()
            )
        })?;
        if let Some(slo_file) = &self.slo_file {
            crate::slo_rules::apply(&mut cfg, slo_file, &self.storage)?;
        }
        Ok(cfg)
    }

    /// Re-reads the configuration file and applies it, or keeps the old one and reports why.
    pub fn reload(&self) -> Result<(), String> {
        let result = self.load().and_then(|cfg| self.apply(&cfg).map(|()| cfg));
        let now_ms = chrono::Utc::now().timestamp_millis();
        let mut state = self.state.write();
        match result {
            Ok(cfg) => {
                state.config = cfg;
                state.last_reload_success = true;
                state.last_config_time_ms = now_ms;
                self.metrics.config_last_reload_successful.set(1);
                self.metrics
                    .config_last_reload_success_timestamp_seconds
                    .set(now_ms as f64 / 1000.0);
                tracing::info!(file = %self.config_path.display(), "completed loading of configuration file");
                Ok(())
            }
            Err(e) => {
                state.last_reload_success = false;
                self.metrics.config_last_reload_successful.set(0);
                tracing::error!(err = %e, "error reloading config");
                Err(e)
            }
        }
    }
}

impl api::Lifecycle for Reloader {
    fn reload(&self) -> Result<(), String> {
        Reloader::reload(self)
    }

    fn quit(&self) {
        let _ = self.quit.send(true);
    }
}
