//! Everything `pharos server` can be told on its command line, in Prometheus' terms.

use std::path::PathBuf;
use std::time::Duration;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Logfmt,
    Json,
}

/// The server's flags. Defaults are Prometheus' defaults.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// `--config.file`; `None` runs on the embedded default configuration.
    pub config_file: Option<PathBuf>,
    pub storage_path: PathBuf,
    pub retention_time: Option<Duration>,
    pub retention_size: Option<u64>,
    /// `--storage.tsdb.max-series`: most series the head holds (0 = unlimited).
    pub tsdb_max_series: usize,
    /// `--storage.tsdb.dense-compaction`: compaction writes Pharos' dense chunks (false:
    /// Prometheus' XOR chunks, readable by Prometheus without `pharos tsdb export`).
    pub tsdb_dense_compaction: bool,
    /// `--storage.tsdb.wal-compression` and `--storage.tsdb.wal-compression-type`.
    pub tsdb_wal_compression: tsdb::WalCompression,
    /// `--scrape.timestamp-tolerance` when `--scrape.adjust-timestamps` (the default) is on.
    pub scrape_timestamp_tolerance: Option<Duration>,
    /// `--scrape.group-size`: targets of a pool scraped together at one wake-up (1:
    /// Prometheus' spread).
    pub scrape_group_size: usize,
    pub listen_address: String,
    pub external_url: Option<String>,
    pub enable_lifecycle: bool,
    pub enable_admin_api: bool,
    pub enable_remote_write_receiver: bool,
    pub web_config_file: Option<PathBuf>,
    pub query_timeout: Duration,
    pub query_max_samples: usize,
    pub query_lookback_delta: Duration,
    pub query_max_concurrency: usize,
    /// `--query.max-samples-in-flight`: samples all API queries may hold in memory at once
    /// (a shared budget; a query that would exceed it fails). `None`: twice
    /// `query_max_samples`; `Some(0)`: no shared budget.
    pub query_max_samples_in_flight: Option<usize>,
    /// `--enable-feature=promql-delayed-name-removal`: keep `__name__` until the end of a query.
    pub promql_delayed_name_removal: bool,
    pub agent: bool,
    /// `--web.dashboards-dir`: provisioned Grafana dashboard JSON files.
    pub dashboards_dir: Option<PathBuf>,
    /// `--alertmanager.config.file`: the built-in Alertmanager's `alertmanager.yml`.
    pub alertmanager_config_file: Option<PathBuf>,
    /// `--alertmanager.default-webhook-url`: an extra webhook in the embedded default route.
    pub alertmanager_default_webhook: Option<String>,
    /// `--alertmanager.disable-builtin`: send only to the Alertmanagers in `alerting:`.
    pub disable_builtin_alertmanager: bool,
    /// `--slo.file`: SLO definitions whose generated rules and dashboard are loaded.
    pub slo_file: Option<PathBuf>,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            config_file: None,
            storage_path: PathBuf::from("data"),
            retention_time: None,
            retention_size: None,
            tsdb_max_series: 0,
            tsdb_dense_compaction: true,
            tsdb_wal_compression: tsdb::WalCompression::default(),
            scrape_timestamp_tolerance: Some(scrape::SCRAPE_TIMESTAMP_TOLERANCE),
            scrape_group_size: scrape::DEFAULT_GROUP_SIZE,
            listen_address: "0.0.0.0:9090".to_string(),
            external_url: None,
            enable_lifecycle: false,
            enable_admin_api: false,
            enable_remote_write_receiver: false,
            web_config_file: None,
            query_timeout: Duration::from_secs(120),
            query_max_samples: 50_000_000,
            query_lookback_delta: Duration::from_secs(300),
            query_max_concurrency: 20,
            query_max_samples_in_flight: None,
            promql_delayed_name_removal: false,
            agent: false,
            dashboards_dir: None,
            alertmanager_config_file: None,
            alertmanager_default_webhook: None,
            disable_builtin_alertmanager: false,
            slo_file: None,
        }
    }
}

impl ServerOptions {
    /// The shared sample budget of API queries: `--query.max-samples-in-flight`, by default
    /// twice `--query.max-samples` (two maximal queries at once); `None` when set to 0.
    pub fn effective_samples_in_flight(&self) -> Option<usize> {
        match self.query_max_samples_in_flight {
            Some(0) => None,
            Some(n) => Some(n),
            None => Some(self.query_max_samples.saturating_mul(2)),
        }
    }

    /// The retention Prometheus applies when neither time nor size is set: 15 days.
    pub fn effective_retention_time(&self) -> Option<Duration> {
        match (self.retention_time, self.retention_size) {
            (None, None) => Some(Duration::from_secs(15 * 24 * 3600)),
            (t, _) => t,
        }
    }
}
