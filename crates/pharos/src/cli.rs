//! The command-line grammar. `pharos server` takes Prometheus' own flag names so a systemd unit
//! or Kubernetes manifest written for Prometheus works after changing the binary name.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "pharos",
    version,
    about = "Prometheus, Alertmanager and dashboards in one binary"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the monitoring server (scraping, storage, PromQL, rules, alerting, UI).
    Server(Box<ServerArgs>),
    /// Check configuration, rule, Alertmanager and SLO files.
    #[command(subcommand)]
    Check(crate::check_cmd::CheckCommand),
    /// Run rule unit tests.
    #[command(subcommand)]
    Test(crate::check_cmd::TestCommand),
    /// Test Alertmanager routing.
    #[command(subcommand)]
    Route(crate::check_cmd::RouteCommand),
    /// What would have paged? Evaluate rules over stored history and run the routing tree.
    Replay(crate::replay_cmd::ReplayArgs),
    /// Run only the Alertmanager, with Alertmanager's own flags.
    Alertmanager(alertmanager_api::StandaloneOpts),
    /// Inspect and create TSDB blocks (as `promtool tsdb`).
    #[command(subcommand)]
    Tsdb(crate::tsdb_cmd::TsdbCommand),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Logfmt,
    Json,
}

/// Flags of `pharos server`, named and defaulted as Prometheus' flags.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Prometheus configuration file path. Without it, the embedded default configuration is used.
    #[arg(long = "config.file", value_name = "PATH")]
    pub config_file: Option<PathBuf>,

    /// Base path for metrics storage.
    #[arg(long = "storage.tsdb.path", value_name = "PATH", default_value = "data/")]
    pub storage_path: PathBuf,

    /// How long to retain samples in storage (e.g. 15d). Default 15d when no size limit is set.
    #[arg(long = "storage.tsdb.retention.time", value_name = "DURATION", value_parser = parse_duration)]
    pub retention_time: Option<std::time::Duration>,

    /// Maximum number of bytes that can be stored for blocks (e.g. 512MB, 10GB).
    #[arg(long = "storage.tsdb.retention.size", value_name = "SIZE", value_parser = parse_size)]
    pub retention_size: Option<u64>,

    /// Most series the head holds; appends that would create more fail (existing series still
    /// take samples) and count in pharos_tsdb_head_series_limit_reached_total. 0 = unlimited.
    #[arg(long = "storage.tsdb.max-series", value_name = "N", default_value_t = 0)]
    pub tsdb_max_series: usize,

    /// Write blocks merged by compaction with Pharos' dense chunks (about half the bytes of
    /// XOR). false keeps every block in Prometheus' XOR chunks, so a real Prometheus can open
    /// the data directory as it is (otherwise use `pharos tsdb export`).
    #[arg(
        long = "storage.tsdb.dense-compaction",
        value_name = "BOOL",
        default_value_t = true,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pub tsdb_dense_compaction: bool,

    /// Compress the WAL's records (as Prometheus, on by default).
    #[arg(
        long = "storage.tsdb.wal-compression",
        value_name = "BOOL",
        default_value_t = true,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pub tsdb_wal_compression: bool,

    /// Prometheus' negated form of `--storage.tsdb.wal-compression`.
    #[arg(long = "no-storage.tsdb.wal-compression", hide = true)]
    pub tsdb_no_wal_compression: bool,

    /// The WAL's compression when on: snappy (Prometheus' default; less CPU per sample here)
    /// or zstd (a few percent fewer bytes).
    #[arg(
        long = "storage.tsdb.wal-compression-type",
        value_name = "TYPE",
        default_value = "snappy",
        value_parser = ["snappy", "zstd"]
    )]
    pub tsdb_wal_compression_type: String,

    /// Stamp a scrape that starts at most `--scrape.timestamp-tolerance` late with the time
    /// it was due, as Prometheus does: aligned timestamps cost 1 bit a sample in XOR chunks
    /// instead of 16.
    #[arg(
        long = "scrape.adjust-timestamps",
        value_name = "BOOL",
        default_value_t = true,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pub scrape_adjust_timestamps: bool,

    /// How late a scrape may start and still get its due time (with
    /// `--scrape.adjust-timestamps`; only for intervals above 100 times it).
    #[arg(
        long = "scrape.timestamp-tolerance",
        value_name = "DURATION",
        default_value = "2ms",
        value_parser = parse_duration
    )]
    pub scrape_timestamp_tolerance: std::time::Duration,

    /// Targets of a scrape pool scraped together at one wake-up (Pharos only): each target
    /// keeps Prometheus' offset rounded down to a slot of the interval, one slot per this many
    /// targets. 1 spreads every target on its own, as Prometheus does.
    #[arg(
        long = "scrape.group-size",
        value_name = "TARGETS",
        default_value_t = scrape::DEFAULT_GROUP_SIZE
    )]
    pub scrape_group_size: usize,

    /// Address to listen on for UI, API, and telemetry.
    #[arg(long = "web.listen-address", value_name = "ADDRESS", default_value = "0.0.0.0:9090")]
    pub listen_address: String,

    /// The URL under which Pharos is externally reachable (for links in alerts and the UI).
    #[arg(long = "web.external-url", value_name = "URL")]
    pub external_url: Option<String>,

    /// Enable shutdown and reload via HTTP request.
    #[arg(long = "web.enable-lifecycle")]
    pub enable_lifecycle: bool,

    /// Enable API endpoints for admin control actions.
    #[arg(long = "web.enable-admin-api")]
    pub enable_admin_api: bool,

    /// Enable API endpoint accepting remote write requests.
    #[arg(long = "web.enable-remote-write-receiver")]
    pub enable_remote_write_receiver: bool,

    /// Path to a configuration file that can enable TLS or authentication.
    #[arg(long = "web.config.file", value_name = "PATH")]
    pub web_config_file: Option<PathBuf>,

    /// Maximum time a query may take before being aborted.
    #[arg(long = "query.timeout", value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub query_timeout: std::time::Duration,

    /// Maximum number of samples a single query can load into memory.
    #[arg(long = "query.max-samples", value_name = "N", default_value_t = 50_000_000)]
    pub query_max_samples: usize,

    /// The maximum lookback duration for retrieving metrics during expression evaluations.
    #[arg(long = "query.lookback-delta", value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub query_lookback_delta: std::time::Duration,

    /// Maximum number of queries executed concurrently.
    #[arg(long = "query.max-concurrency", value_name = "N", default_value_t = 20)]
    pub query_max_concurrency: usize,

    /// Maximum number of samples all running queries may hold in memory together; a query
    /// that would exceed it fails. Default: twice --query.max-samples. 0 disables the limit.
    #[arg(long = "query.max-samples-in-flight", value_name = "N")]
    pub query_max_samples_in_flight: Option<usize>,

    /// Comma-separated feature flags to enable, as Prometheus'. Supported:
    /// promql-delayed-name-removal. Features Pharos always has (promql-at-modifier,
    /// promql-negative-offset, remote-write-receiver, ...) are accepted; unknown ones are
    /// logged and ignored, as Prometheus does.
    #[arg(long = "enable-feature", value_name = "FEATURE", value_delimiter = ',')]
    pub enable_feature: Vec<String>,

    /// Folder of Grafana dashboard JSON files to provision into the UI.
    #[arg(long = "web.dashboards-dir", value_name = "PATH")]
    pub dashboards_dir: Option<PathBuf>,

    /// The built-in Alertmanager's configuration (alertmanager.yml). Without it an embedded
    /// default routes every alert to the log.
    #[arg(long = "alertmanager.config.file", value_name = "PATH")]
    pub alertmanager_config_file: Option<PathBuf>,

    /// An extra webhook URL for the embedded default Alertmanager route.
    #[arg(long = "alertmanager.default-webhook-url", value_name = "URL")]
    pub alertmanager_default_webhook: Option<String>,

    /// Do not run the built-in Alertmanager; send alerts only to those in `alerting:`.
    #[arg(long = "alertmanager.disable-builtin")]
    pub disable_builtin_alertmanager: bool,

    /// SLO definitions: their generated recording rules and burn-rate alerts are loaded with the
    /// configuration's rules, and their error-budget dashboard is added to the UI.
    #[arg(long = "slo.file", value_name = "PATH")]
    pub slo_file: Option<PathBuf>,

    /// Run in agent mode: scrape, write-ahead log and remote_write only.
    #[arg(long = "agent")]
    pub agent: bool,

    /// Only log messages with the given severity or above.
    #[arg(long = "log.level", value_enum, default_value = "info")]
    pub log_level: LogLevel,

    /// Output format of log messages.
    #[arg(long = "log.format", value_enum, default_value = "logfmt")]
    pub log_format: LogFormat,
}

/// Parses a Prometheus duration (`15d`, `1h30m`).
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let ms = model::duration::parse_duration(s).map_err(|e| e.to_string())?;
    Ok(std::time::Duration::from_millis(ms.max(0) as u64))
}

/// Parses a Prometheus duration into milliseconds.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    model::duration::parse_duration(s).map_err(|e| e.to_string())
}

/// Parses a size with Prometheus' units (`B`, `KB`, `MB`, `GB`, `TB`, `PB`, `EB`, powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[digits.len()..];
    let n: u64 = digits.parse().map_err(|_| format!("invalid size {s:?}"))?;
    let shift = match unit {
        "B" | "" => 0,
        "KB" => 10,
        "MB" => 20,
        "GB" => 30,
        "TB" => 40,
        "PB" => 50,
        "EB" => 60,
        _ => return Err(format!("invalid size unit {unit:?} in {s:?}")),
    };
    n.checked_mul(1u64 << shift).ok_or_else(|| format!("size {s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512MB"), Ok(512 << 20));
        assert_eq!(parse_size("10GB"), Ok(10 << 30));
        assert!(parse_size("10XB").is_err());
        assert!(parse_size("GB").is_err());
    }

    #[test]
    fn prometheus_flags_parse() {
        let cli = Cli::try_parse_from([
            "pharos",
            "server",
            "--config.file=/etc/prometheus/prometheus.yml",
            "--storage.tsdb.path",
            "/var/lib/prometheus",
            "--storage.tsdb.retention.time=30d",
            "--web.enable-lifecycle",
            "--query.lookback-delta=1m",
            "--enable-feature=promql-delayed-name-removal,exemplar-storage",
            "--enable-feature",
            "remote-write-receiver",
        ])
        .unwrap();
        let Command::Server(args) = cli.command else { panic!("expected server") };
        assert_eq!(args.retention_time, Some(std::time::Duration::from_secs(30 * 86400)));
        assert!(args.enable_lifecycle && !args.enable_admin_api);
        assert_eq!(args.query_lookback_delta.as_secs(), 60);
        assert_eq!(
            args.enable_feature,
            ["promql-delayed-name-removal", "exemplar-storage", "remote-write-receiver"]
        );
    }

    #[test]
    fn dense_compaction_is_on_unless_turned_off() {
        let dense = |flags: &[&str]| {
            let argv = ["pharos", "server"].iter().chain(flags);
            let Command::Server(args) = Cli::try_parse_from(argv).unwrap().command else {
                panic!("expected server")
            };
            args.tsdb_dense_compaction
        };
        assert!(dense(&[]));
        assert!(!dense(&["--storage.tsdb.dense-compaction=false"]));
        assert!(dense(&["--storage.tsdb.dense-compaction=true"]));
        assert!(dense(&["--storage.tsdb.dense-compaction"]));
        let bad = ["pharos", "server", "--storage.tsdb.dense-compaction=maybe"];
        assert!(Cli::try_parse_from(bad).is_err());
    }

    #[test]
    fn the_wal_is_snappy_compressed_unless_told_otherwise_in_prometheus_terms() {
        use tsdb::WalCompression::{None, Snappy, Zstd};
        let compression = |flags: &[&str]| {
            let argv = ["pharos", "server"].iter().chain(flags);
            let Command::Server(args) = Cli::try_parse_from(argv).unwrap().command else {
                panic!("expected server")
            };
            crate::server_cmd::options(&args).tsdb_wal_compression
        };
        assert_eq!(compression(&[]), Snappy);
        assert_eq!(compression(&["--storage.tsdb.wal-compression"]), Snappy);
        assert_eq!(compression(&["--storage.tsdb.wal-compression-type=zstd"]), Zstd);
        assert_eq!(compression(&["--storage.tsdb.wal-compression=false"]), None);
        assert_eq!(compression(&["--no-storage.tsdb.wal-compression"]), None);
        let bad = ["pharos", "server", "--storage.tsdb.wal-compression-type=lz4"];
        assert!(Cli::try_parse_from(bad).is_err());
    }

    #[test]
    fn scrape_timestamps_are_aligned_within_two_milliseconds_unless_turned_off() {
        let tolerance = |flags: &[&str]| {
            let argv = ["pharos", "server"].iter().chain(flags);
            let Command::Server(args) = Cli::try_parse_from(argv).unwrap().command else {
                panic!("expected server")
            };
            crate::server_cmd::options(&args).scrape_timestamp_tolerance
        };
        let ms = |n| Some(std::time::Duration::from_millis(n));
        assert_eq!(tolerance(&[]), ms(2));
        assert_eq!(tolerance(&["--scrape.timestamp-tolerance=10ms"]), ms(10));
        assert_eq!(tolerance(&["--scrape.adjust-timestamps=false"]), None);
        assert_eq!(tolerance(&["--scrape.adjust-timestamps"]), ms(2));
    }

    #[test]
    fn unknown_flags_are_errors() {
        assert!(Cli::try_parse_from(["pharos", "server", "--bogus"]).is_err());
        assert!(Cli::try_parse_from(["pharos", "server", "--query.timeout=soon"]).is_err());
    }
}
