//! Opening the TSDB from flags and config, and its periodic maintenance.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::{SelfMetrics, ServerError, ServerOptions};

/// How often the head is checked for a block to cut, compaction and retention.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(60);

/// TSDB options from the flags (retention) and the config (`storage.tsdb`).
pub fn options(opts: &ServerOptions, cfg: &config::Config) -> tsdb::Options {
    let defaults = tsdb::Options::default();
    tsdb::Options {
        retention_ms: opts.effective_retention_time().map_or(0, |d| d.as_millis() as i64),
        retention_bytes: opts.retention_size.unwrap_or(0),
        out_of_order_time_window_ms: cfg
            .storage
            .tsdb
            .as_ref()
            .map_or(0, |t| t.out_of_order_time_window.as_millis()),
        max_series: (opts.tsdb_max_series > 0).then_some(opts.tsdb_max_series),
        dense_compaction: opts.tsdb_dense_compaction,
        wal_compression: opts.tsdb_wal_compression,
        ..defaults
    }
}

/// Opens (and replays) the TSDB on a blocking thread.
pub async fn open(
    opts: &ServerOptions,
    cfg: &config::Config,
) -> Result<Arc<tsdb::Db>, ServerError> {
    let dir = opts.storage_path.clone();
    let tsdb_opts = options(opts, cfg);
    let started = std::time::Instant::now();
    let db = tokio::task::spawn_blocking(move || {
        let _paused = crate::huge_pages::HugePagesPaused::new();
        tsdb::Db::open(&dir, tsdb_opts)
    })
    .await
    .map_err(|e| storage_error(opts, e.to_string()))?
    .map_err(|e| storage_error(opts, e.to_string()))?;
    tracing::info!(duration = ?started.elapsed(), "tsdb started");
    Ok(Arc::new(db))
}

fn storage_error(opts: &ServerOptions, reason: String) -> ServerError {
    ServerError::Storage { path: opts.storage_path.display().to_string(), reason }
}

/// Runs `Db::maintain` every minute until `stop` turns true.
pub fn spawn_maintenance(
    db: Arc<tsdb::Db>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(MAINTENANCE_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            let db = db.clone();
            match tokio::task::spawn_blocking(move || db.maintain(crate::host::now_ms())).await {
                Ok(Ok(report)) => tracing::debug!(?report, "tsdb maintenance done"),
                Ok(Err(e)) => tracing::error!(err = %e, "tsdb maintenance failed"),
                Err(e) => tracing::error!(err = %e, "tsdb maintenance panicked"),
            }
        }
    })
}

/// Registers the TSDB's metrics in the server's `/metrics`.
pub fn register_metrics(db: &Arc<tsdb::Db>, metrics: &SelfMetrics) {
    crate::component_metrics::tsdb::register(db, metrics);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_compaction_follows_the_flag() {
        let cfg = config::Config::default();
        assert!(options(&ServerOptions::default(), &cfg).dense_compaction);
        let off = ServerOptions { tsdb_dense_compaction: false, ..ServerOptions::default() };
        assert!(!options(&off, &cfg).dense_compaction);
    }
}
