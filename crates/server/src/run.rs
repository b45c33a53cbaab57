//! Starting, running and stopping the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Mutex, RwLock};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::alerting::NotificationLog;
use crate::components::{self, Alerting, AlertingContext, Storage};
use crate::host::{hostname, now_ms, raise_open_files_limit};
use crate::lifecycle::Reloader;
use crate::self_access::SelfAccess;
use crate::views::{
    ConfigState, DbView, NotifierView, RulesManagerView, ScrapeView, ServerConfigView,
};
use crate::{SelfMetrics, ServerError, ServerOptions, config_load, tsdb_open, web_security};

/// The Prometheus API version Pharos implements; Grafana needs at least 2.24 for its fast paths.
const API_COMPAT_VERSION: &str = "3.0.0";

/// How often the notifier re-resolves Alertmanager discovery.
const NOTIFIER_REFRESH: std::time::Duration = std::time::Duration::from_secs(30);

/// A started server: its address and a way to stop it.
pub struct Server {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    quit: watch::Receiver<bool>,
    http: tokio::task::JoinHandle<Result<(), ServerError>>,
    storage: Storage,
    scrape: Arc<scrape::Manager>,
    alerting: Option<Alerting>,
    background: Vec<tokio::task::JoinHandle<()>>,
    reloader: Arc<Reloader>,
}

fn engine(opts: &ServerOptions) -> promql::Engine {
    promql::Engine::new(promql::EngineOptions {
        lookback_delta_ms: opts.query_lookback_delta.as_millis() as i64,
        max_samples: opts.query_max_samples,
        timeout: opts.query_timeout,
        delayed_name_removal: opts.promql_delayed_name_removal,
    })
}

fn build_info() -> api::BuildInfo {
    api::BuildInfo {
        version: API_COMPAT_VERSION.to_string(),
        revision: String::new(),
        branch: format!("pharos-{}", env!("CARGO_PKG_VERSION")),
        build_user: "pharos".to_string(),
        build_date: String::new(),
        go_version: "rust".to_string(),
    }
}

/// The host name Prometheus puts into `globalUrl` for targets on localhost: this machine's.
fn global_host(addr: SocketAddr) -> String {
    hostname().unwrap_or_else(|| addr.ip().to_string())
}

/// `--web.external-url`, or `<scheme>://<host>:<port>` as Prometheus derives it (https when
/// the web config serves TLS).
fn external_url(opts: &ServerOptions, addr: SocketAddr, access: &SelfAccess) -> String {
    opts.external_url
        .clone()
        .map(|u| u.trim_end_matches('/').to_string())
        .unwrap_or_else(|| format!("{}://{}:{}", access.scheme(), global_host(addr), addr.port()))
}

impl Server {
    /// Binds the listener, builds every component and starts serving.
    pub async fn start(opts: ServerOptions) -> Result<Server, ServerError> {
        let start_ms = now_ms();
        if let Some((soft, hard)) = raise_open_files_limit() {
            tracing::info!(soft, hard, "open-files limit");
        }
        std::fs::create_dir_all(&opts.storage_path).map_err(|e| ServerError::Storage {
            path: opts.storage_path.display().to_string(),
            reason: e.to_string(),
        })?;
        let listener = TcpListener::bind(&opts.listen_address).await.map_err(|source| {
            ServerError::Listen { address: opts.listen_address.clone(), source }
        })?;
        let addr = listener.local_addr().map_err(ServerError::Http)?;
        let web = web_security::load(&opts)?;
        let access = SelfAccess::prepare(web.as_ref(), &opts.storage_path)?;
        let loaded = config_load::load(
            opts.config_file.as_deref(),
            &opts.storage_path,
            addr.port(),
            &access,
        )?;
        tracing::info!(file = %loaded.path.display(), agent = opts.agent, "loaded configuration file");
        let metrics = SelfMetrics::new(env!("CARGO_PKG_VERSION"));
        let (shutdown, stop_rx) = watch::channel(false);
        let (quit_tx, quit) = watch::channel(false);
        let config_state = Arc::new(RwLock::new(ConfigState {
            config: loaded.config.clone(),
            last_reload_success: true,
            last_config_time_ms: start_ms,
        }));
        let reloader = Arc::new(Reloader {
            config_path: loaded.path.clone(),
            slo_file: opts.slo_file.clone(),
            storage: opts.storage_path.clone(),
            state: config_state.clone(),
            metrics: metrics.clone(),
            components: Mutex::new(Vec::new()),
            quit: quit_tx,
        });

        // The effective configuration: the file plus the rules generated from --slo.file.
        let loaded = config_load::LoadedConfig {
            config: reloader.load().map_err(ServerError::Config)?,
            path: loaded.path,
        };
        config_state.write().config = loaded.config.clone();
        let storage = components::open_storage(&opts, &loaded.config, &reloader).await?;
        let scrape = components::scrape(
            &storage,
            &reloader,
            &global_host(addr),
            opts.scrape_timestamp_tolerance,
            opts.scrape_group_size,
        );
        let engine = Arc::new(engine(&opts));
        let alerting = if opts.agent {
            None
        } else {
            let ctx = AlertingContext {
                opts: &opts,
                cfg: &loaded.config,
                addr,
                external_url: external_url(&opts, addr, &access),
                self_access: &access,
            };
            Some(components::alerting(&ctx, &storage, &engine, &reloader)?)
        };

        let ready = Arc::new(AtomicBool::new(false));
        let mut state = api_state(&opts, &storage, engine, &config_state, &reloader, start_ms);
        crate::component_metrics::register_api(&state, &metrics);
        crate::component_metrics::register_scrape(&scrape, &metrics);
        state.ready = ready.clone();
        state.targets = Arc::new(ScrapeView { manager: scrape.clone() });
        if let Some(a) = &alerting {
            state.rules = Arc::new(RulesManagerView { manager: a.rules.clone() });
            state.alertmanagers = Arc::new(NotifierView { notifier: a.notifier.clone() });
        }
        let app = http_app(&opts, state, &metrics, alerting.as_ref(), web.as_ref());
        let http = serve(listener, app, web.as_ref(), stop_rx.clone());

        let mut background = vec![spawn_sighup(reloader.clone(), stop_rx.clone())];
        if let Some(db) = &storage.db {
            background.push(tsdb_open::spawn_maintenance(db.clone(), stop_rx));
            tsdb_open::register_metrics(db, &metrics);
        }
        if let Some(a) = &alerting {
            crate::component_metrics::rules::register(&a.rules, &metrics);
            let n = a.notifier.clone();
            background.push(tokio::spawn(async move { n.run(NOTIFIER_REFRESH).await }));
        }
        crate::component_metrics::register(&storage, alerting.as_ref(), &metrics);

        // Components apply configuration on a blocking thread (some block on async work).
        let (r, cfg) = (reloader.clone(), loaded.config.clone());
        tokio::task::spawn_blocking(move || r.apply(&cfg))
            .await
            .map_err(|e| ServerError::Config(e.to_string()))?
            .map_err(ServerError::Config)?;
        if let Some(a) = &alerting {
            a.rules.run(tokio::runtime::Handle::current());
        }
        metrics.config_last_reload_successful.set(1);
        metrics.config_last_reload_success_timestamp_seconds.set(start_ms as f64 / 1000.0);
        metrics.ready.set(1);
        ready.store(true, Ordering::Release);
        tracing::info!(address = %addr, "server is ready to receive web requests");
        Ok(Server { addr, shutdown, quit, http, storage, scrape, alerting, background, reloader })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Reloads the configuration file, as SIGHUP does. Call from a blocking context.
    pub fn reload(&self) -> Result<(), String> {
        self.reloader.reload()
    }

    /// Resolves when `/-/quit` was called.
    pub async fn quit_requested(&mut self) {
        let _ = self.quit.wait_for(|q| *q).await;
    }

    /// Stops every component in order and waits for the HTTP server to drain: ingestion,
    /// rules and notifications, remote write, HTTP, then storage.
    pub async fn stop(self) -> Result<(), ServerError> {
        self.scrape.stop();
        if let Some(a) = &self.alerting {
            a.stop();
        }
        if let Some(rw) = &self.storage.remote {
            rw.manager.stop().await;
        }
        let _ = self.shutdown.send(true);
        for task in self.background {
            let _ = task.await;
        }
        let served = match self.http.await {
            Ok(result) => result,
            Err(e) => Err(ServerError::Http(std::io::Error::other(e.to_string()))),
        };
        if let Some(db) = self.storage.db {
            let closed = tokio::task::spawn_blocking(move || db.close()).await;
            if let Ok(Err(e)) = closed {
                tracing::error!(err = %e, "closing the tsdb failed");
            }
        }
        served
    }
}

/// The one router: the Prometheus API first, then the Alertmanager API, then the UI, all
/// behind the web config's guard (basic auth, headers) when there is one.
fn http_app(
    opts: &ServerOptions,
    state: api::ApiState,
    metrics: &SelfMetrics,
    alerting: Option<&Alerting>,
    web: Option<&webconfig::WebConfig>,
) -> axum::Router {
    let mut web_opts = web::Options::new(opts.storage_path.join("web"));
    web_opts.dashboards_dir = opts.dashboards_dir.clone();
    let ui = crate::http::ui(web_opts);
    let behind_api = match alerting.and_then(|a| a.alertmanager.as_ref()) {
        Some(am) => am.router().fallback_service(ui),
        None => ui,
    };
    let http_metrics = state.http_metrics.clone();
    let app = api::router(state)
        .merge(crate::http::router(metrics.clone(), NotificationLog::default(), http_metrics))
        .fallback_service(behind_api);
    web_security::protect(app, web)
}

/// Serves the app on the listener (over TLS when the web config says so) until `stop`.
fn serve(
    listener: TcpListener,
    app: axum::Router,
    web: Option<&webconfig::WebConfig>,
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<Result<(), ServerError>> {
    let tls = web.and_then(webconfig::WebConfig::tls_acceptor);
    tokio::spawn(web_security::serve(listener, app, tls, stop))
}

fn api_state(
    opts: &ServerOptions,
    storage: &Storage,
    engine: Arc<promql::Engine>,
    config_state: &Arc<RwLock<ConfigState>>,
    reloader: &Arc<Reloader>,
    start_ms: i64,
) -> api::ApiState {
    let mut state = api::ApiState::new(storage.queryable.clone(), engine);
    state.appendable = Some(storage.appendable.clone());
    if let Some(db) = &storage.db {
        state.tsdb = Arc::new(DbView { db: db.clone() });
    }
    state.config = Arc::new(ServerConfigView::new(opts, config_state.clone(), start_ms));
    state.lifecycle = reloader.clone();
    state.flags = api::ApiFlags {
        enable_admin: opts.enable_admin_api,
        enable_lifecycle: opts.enable_lifecycle,
        enable_remote_write_receiver: opts.enable_remote_write_receiver,
        agent: opts.agent,
        lookback_delta_ms: opts.query_lookback_delta.as_millis() as i64,
        ..api::ApiFlags::default()
    };
    state.external_url = opts.external_url.clone().unwrap_or_default();
    state.set_query_max_concurrency(opts.query_max_concurrency);
    state.sample_budget =
        opts.effective_samples_in_flight().map(|n| Arc::new(promql::SampleBudget::new(n)));
    state.query_timeout = opts.query_timeout;
    let labels_state = config_state.clone();
    state.external_labels = Arc::new(move || labels_state.read().config.global.external_labels());
    state.build_info = build_info();
    state
}

fn spawn_sighup(
    reloader: Arc<Reloader>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else { return };
        loop {
            let stopped = tokio::select! {
                _ = hup.recv() => false,
                _ = stop.changed() => true,
            };
            if stopped || *stop.borrow() {
                return;
            }
            let r = reloader.clone();
            let _ = tokio::task::spawn_blocking(move || r.reload()).await;
        }
    })
}

/// Runs the server until SIGTERM, SIGINT or `/-/quit`, then shuts down cleanly.
pub async fn run(opts: ServerOptions) -> Result<(), ServerError> {
    let mut server = Server::start(opts).await?;
    tokio::select! {
        _ = wait_for_signal() => tracing::info!("received termination signal, shutting down"),
        _ = server.quit_requested() => tracing::info!("quit requested over http, shutting down"),
    }
    server.stop().await?;
    tracing::info!("see you next time");
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        // Without signal handlers the only way to stop is to be killed; wait forever.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
}
