//! `api::ConfigView`: the effective configuration, the flags and runtime information.

use std::collections::BTreeMap;
use std::sync::Arc;

use api::{GoTime, RuntimeInfo};
use parking_lot::RwLock;

use crate::ServerOptions;

/// What changes on reload: the configuration and whether the last reload worked.
#[derive(Debug)]
pub struct ConfigState {
    pub config: config::Config,
    pub last_reload_success: bool,
    pub last_config_time_ms: i64,
}

/// The config view shared with the API.
pub struct ServerConfigView {
    pub state: Arc<RwLock<ConfigState>>,
    pub flags: BTreeMap<String, String>,
    pub start_time_ms: i64,
    pub retention: String,
}

impl ServerConfigView {
    pub fn new(opts: &ServerOptions, state: Arc<RwLock<ConfigState>>, start_time_ms: i64) -> Self {
        ServerConfigView {
            state,
            flags: flag_map(opts),
            start_time_ms,
            retention: retention_string(opts),
        }
    }
}

fn duration(d: std::time::Duration) -> String {
    model::duration::format_duration(d.as_millis() as i64)
}

fn retention_string(opts: &ServerOptions) -> String {
    let time = opts.effective_retention_time().map(duration);
    let size = opts.retention_size.map(|b| format!("{b}B"));
    match (time, size) {
        (Some(t), Some(s)) => format!("{t} or {s}"),
        (Some(t), None) => t,
        (None, Some(s)) => s,
        (None, None) => "unlimited".into(),
    }
}

/// The flags by name, as `/api/v1/status/flags` lists them.
fn flag_map(opts: &ServerOptions) -> BTreeMap<String, String> {
    let path = |p: &Option<std::path::PathBuf>| {
        p.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
    };
    let mut m = BTreeMap::new();
    m.insert("config.file".into(), path(&opts.config_file));
    m.insert("storage.tsdb.path".into(), opts.storage_path.display().to_string());
    m.insert(
        "storage.tsdb.retention.time".into(),
        opts.retention_time.map(duration).unwrap_or_else(|| "0s".into()),
    );
    m.insert(
        "storage.tsdb.retention.size".into(),
        opts.retention_size.map(|b| format!("{b}B")).unwrap_or_else(|| "0B".into()),
    );
    m.insert("storage.tsdb.dense-compaction".into(), opts.tsdb_dense_compaction.to_string());
    let wal_type = match opts.tsdb_wal_compression {
        tsdb::WalCompression::Zstd => "zstd",
        _ => "snappy",
    };
    m.insert(
        "storage.tsdb.wal-compression".into(),
        (opts.tsdb_wal_compression != tsdb::WalCompression::None).to_string(),
    );
    m.insert("storage.tsdb.wal-compression-type".into(), wal_type.into());
    m.insert("web.listen-address".into(), opts.listen_address.clone());
    m.insert("web.external-url".into(), opts.external_url.clone().unwrap_or_default());
    m.insert("web.enable-lifecycle".into(), opts.enable_lifecycle.to_string());
    m.insert("web.enable-admin-api".into(), opts.enable_admin_api.to_string());
    m.insert(
        "web.enable-remote-write-receiver".into(),
        opts.enable_remote_write_receiver.to_string(),
    );
    m.insert("web.config.file".into(), path(&opts.web_config_file));
    m.insert("query.timeout".into(), duration(opts.query_timeout));
    m.insert("query.max-samples".into(), opts.query_max_samples.to_string());
    m.insert("query.lookback-delta".into(), duration(opts.query_lookback_delta));
    m.insert("query.max-concurrency".into(), opts.query_max_concurrency.to_string());
    m.insert("agent".into(), opts.agent.to_string());
    m
}

impl api::ConfigView for ServerConfigView {
    fn config_yaml(&self) -> String {
        self.state.read().config.to_string()
    }

    fn flags(&self) -> BTreeMap<String, String> {
        self.flags.clone()
    }

    fn runtime_info(&self) -> RuntimeInfo {
        let state = self.state.read();
        let threads = std::fs::read_dir("/proc/self/task").map(|d| d.count() as i64).unwrap_or(0);
        RuntimeInfo {
            start_time: GoTime(Some(self.start_time_ms)),
            cwd: std::env::current_dir().map(|p| p.display().to_string()).unwrap_or_default(),
            hostname: crate::host::hostname().unwrap_or_default(),
            server_time: GoTime(Some(chrono::Utc::now().timestamp_millis())),
            reload_config_success: state.last_reload_success,
            last_config_time: GoTime(Some(state.last_config_time_ms)),
            corruption_count: 0,
            goroutine_count: threads,
            gomaxprocs: std::thread::available_parallelism().map(|n| n.get() as i64).unwrap_or(1),
            gomemlimit: i64::MAX,
            gogc: String::new(),
            godebug: String::new(),
            storage_retention: self.retention.clone(),
        }
    }
}
