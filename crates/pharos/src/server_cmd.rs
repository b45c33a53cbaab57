//! `pharos server`: maps flags to [`server::ServerOptions`] and runs the server.

use std::process::ExitCode;

use crate::cli::ServerArgs;

/// The WAL compression the flags ask for.
fn wal_compression(args: &ServerArgs) -> tsdb::WalCompression {
    if !args.tsdb_wal_compression || args.tsdb_no_wal_compression {
        tsdb::WalCompression::None
    } else if args.tsdb_wal_compression_type == "zstd" {
        tsdb::WalCompression::Zstd
    } else {
        tsdb::WalCompression::Snappy
    }
}

pub(crate) fn options(args: &ServerArgs) -> server::ServerOptions {
    server::ServerOptions {
        config_file: args.config_file.clone(),
        storage_path: args.storage_path.clone(),
        retention_time: args.retention_time,
        retention_size: args.retention_size,
        tsdb_max_series: args.tsdb_max_series,
        tsdb_dense_compaction: args.tsdb_dense_compaction,
        tsdb_wal_compression: wal_compression(args),
        scrape_timestamp_tolerance: args
            .scrape_adjust_timestamps
            .then_some(args.scrape_timestamp_tolerance),
        scrape_group_size: args.scrape_group_size,
        listen_address: args.listen_address.clone(),
        external_url: args.external_url.clone(),
        enable_lifecycle: args.enable_lifecycle,
        enable_admin_api: args.enable_admin_api,
        enable_remote_write_receiver: args.enable_remote_write_receiver
            || feature_on(args, "remote-write-receiver"),
        web_config_file: args.web_config_file.clone(),
        query_timeout: args.query_timeout,
        query_max_samples: args.query_max_samples,
        query_lookback_delta: args.query_lookback_delta,
        query_max_concurrency: args.query_max_concurrency,
        query_max_samples_in_flight: args.query_max_samples_in_flight,
        promql_delayed_name_removal: feature_on(args, "promql-delayed-name-removal"),
        agent: args.agent || feature_on(args, "agent"),
        dashboards_dir: args.dashboards_dir.clone(),
        alertmanager_config_file: args.alertmanager_config_file.clone(),
        alertmanager_default_webhook: args.alertmanager_default_webhook.clone(),
        disable_builtin_alertmanager: args.disable_builtin_alertmanager,
        slo_file: args.slo_file.clone(),
    }
}

/// Feature flags Pharos acts on, and those it always has (accepted so that a Prometheus
/// command line keeps working).
const FEATURES_ACTED_ON: &[&str] =
    &["promql-delayed-name-removal", "remote-write-receiver", "agent"];
const FEATURES_ALWAYS_ON: &[&str] = &[
    "promql-at-modifier",
    "promql-negative-offset",
    "expand-external-labels",
    "new-service-discovery-manager",
    "auto-gomaxprocs",
    "no-default-scrape-port",
];

fn feature_on(args: &ServerArgs, name: &str) -> bool {
    args.enable_feature.iter().any(|f| f.trim() == name)
}

/// Logs each `--enable-feature` value Pharos neither acts on nor always has.
fn log_features(args: &ServerArgs) {
    for f in args.enable_feature.iter().map(|f| f.trim()).filter(|f| !f.is_empty()) {
        if FEATURES_ACTED_ON.contains(&f) || FEATURES_ALWAYS_ON.contains(&f) {
            tracing::info!(feature = f, "feature enabled");
        } else {
            tracing::warn!(option = f, "Unknown option for --enable-feature");
        }
    }
}

pub fn run(args: Box<ServerArgs>) -> ExitCode {
    crate::logging::init(args.log_level, args.log_format);
    log_features(&args);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pharos: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::run(options(&args))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(err = %e, "server stopped with an error");
            eprintln!("pharos: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `pharos alertmanager`: only the Alertmanager, configured as Alertmanager is.
pub fn run_alertmanager(opts: alertmanager_api::StandaloneOpts) -> ExitCode {
    crate::logging::init(crate::cli::LogLevel::Info, crate::cli::LogFormat::Logfmt);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pharos: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(alertmanager_api::run_standalone(opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pharos alertmanager: {e}");
            ExitCode::FAILURE
        }
    }
}
