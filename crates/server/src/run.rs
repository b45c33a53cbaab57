//! Starting, running and stopping the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Mutex, RwLock};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::alerting::{self, AlertmanagerReload, BuiltinReceiver, NotificationLog};
use crate::lifecycle::Reloader;
use crate::views::{
    ConfigState, DbView, NotifierView, RulesManagerView, RulesReload, ScrapeReload, ScrapeView,
    ServerConfigView,
};
use crate::{SelfMetrics, ServerError, ServerOptions, config_load, tsdb_open};

/// The Prometheus API version Pharos implements; Grafana needs at least 2.24 for its fast paths.
const API_COMPAT_VERSION: &str = "3.0.0";

/// A started server: its address and a way to stop it.
pub struct Server {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    quit: watch::Receiver<bool>,
    http: tokio::task::JoinHandle<Result<(), ServerError>>,
    db: Arc<tsdb::Db>,
    scrape: Arc<scrape::Manager>,
    rules: Arc<rules::Manager>,
    notifier: Arc<notifier::Notifier>,
    alertmanager: Option<alertmanager_api::AlertmanagerService>,
    background: Vec<tokio::task::JoinHandle<()>>,
    reloader: Arc<Reloader>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn engine(opts: &ServerOptions) -> promql::Engine {
    promql::Engine::new(promql::EngineOptions {
        lookback_delta_ms: opts.query_lookback_delta.as_millis() as i64,
        max_samples: opts.query_max_samples,
        timeout: opts.query_timeout,
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

impl Server {
    /// Binds the listener, builds every component and starts serving.
    pub async fn start(opts: ServerOptions) -> Result<Server, ServerError> {
        let start_ms = now_ms();
        std::fs::create_dir_all(&opts.storage_path).map_err(|e| ServerError::Storage {
            path: opts.storage_path.display().to_string(),
            reason: e.to_string(),
        })?;
        let listener = TcpListener::bind(&opts.listen_address).await.map_err(|source| {
            ServerError::Listen { address: opts.listen_address.clone(), source }
        })?;
        let addr = listener.local_addr().map_err(ServerError::Http)?;
        let loaded =
            config_load::load(opts.config_file.as_deref(), &opts.storage_path, addr.port())?;
        tracing::info!(file = %loaded.path.display(), "loaded configuration file");
        let db = tsdb_open::open(&opts, &loaded.config).await?;
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
            state: config_state.clone(),
            metrics: metrics.clone(),
            components: Mutex::new(Vec::new()),
            quit: quit_tx,
        });

        let scrape = Arc::new(scrape::Manager::new(db.clone(), scrape::ManagerOptions::default()));
        scrape.set_global_url_host(&global_host(addr));
        reloader.register("scrape manager", Arc::new(ScrapeReload(scrape.clone())));

        let engine = Arc::new(engine(&opts));
        let notifier = Arc::new(notifier::Notifier::new(notifier::NotifierOptions {
            external_labels: loaded.config.global.external_labels(),
            ..notifier::NotifierOptions::default()
        }));
        let rules = Arc::new(rules_manager(&opts, &loaded.config, &db, &engine, &notifier));
        reloader.register(
            "rule manager",
            Arc::new(RulesReload {
                manager: rules.clone(),
                notifier: notifier.clone(),
                config_dir: loaded.path.parent().map(|p| p.to_path_buf()).unwrap_or_default(),
                external_url: external_url(&opts, addr),
            }),
        );

        let alertmanager = if opts.disable_builtin_alertmanager {
            None
        } else {
            let (am_cfg, am_path) = alerting::load_config(
                opts.alertmanager_config_file.as_deref(),
                &opts.storage_path,
                addr.port(),
                opts.alertmanager_default_webhook.as_deref(),
            )?;
            let svc =
                alerting::start(am_cfg, am_path, &opts.storage_path, external_url(&opts, addr))?;
            notifier.set_local_receivers(vec![Arc::new(BuiltinReceiver(svc.clone()))]);
            reloader.register("built-in alertmanager", Arc::new(AlertmanagerReload(svc.clone())));
            Some(svc)
        };

        let ready = Arc::new(AtomicBool::new(false));
        let mut api_state =
            api_state(&opts, &db, engine, &config_state, &reloader, ready.clone(), start_ms);
        api_state.targets = Arc::new(ScrapeView { manager: scrape.clone() });
        api_state.rules = Arc::new(RulesManagerView { manager: rules.clone() });
        api_state.alertmanagers = Arc::new(NotifierView { notifier: notifier.clone() });
        let mut web_opts = web::Options::new(opts.storage_path.join("web"));
        web_opts.dashboards_dir = opts.dashboards_dir.clone();
        let ui = crate::http::ui(web_opts);
        let behind_api = match &alertmanager {
            Some(am) => am.router().fallback_service(ui),
            None => ui,
        };
        let app = api::router(api_state)
            .merge(crate::http::router(metrics.clone(), NotificationLog::default()))
            .fallback_service(behind_api);
        let mut stop_http = stop_rx.clone();
        let http = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop_http.wait_for(|stop| *stop).await;
                })
                .await
                .map_err(ServerError::Http)
        });
        let notifier_loop = notifier.clone();
        let background = vec![
            tokio::spawn(async move { notifier_loop.run(NOTIFIER_REFRESH).await }),
            tsdb_open::spawn_maintenance(db.clone(), stop_rx.clone()),
            spawn_sighup(reloader.clone(), stop_rx),
        ];

        reloader.apply(&loaded.config).map_err(ServerError::Config)?;
        rules.run(tokio::runtime::Handle::current());
        metrics.config_last_reload_successful.set(1);
        metrics.config_last_reload_success_timestamp_seconds.set(start_ms as f64 / 1000.0);
        metrics.ready.set(1);
        ready.store(true, Ordering::Release);
        tracing::info!(address = %addr, "server is ready to receive web requests");
        Ok(Server {
            addr,
            shutdown,
            quit,
            http,
            db,
            scrape,
            rules,
            notifier,
            alertmanager,
            background,
            reloader,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Reloads the configuration file, as SIGHUP does.
    pub fn reload(&self) -> Result<(), String> {
        self.reloader.reload()
    }

    /// Resolves when `/-/quit` was called.
    pub async fn quit_requested(&mut self) {
        let _ = self.quit.wait_for(|q| *q).await;
    }

    /// Stops every component in order and waits for the HTTP server to drain.
    pub async fn stop(self) -> Result<(), ServerError> {
        self.scrape.stop();
        self.rules.stop();
        self.notifier.stop();
        if let Some(am) = &self.alertmanager
            && let Err(e) = am.shutdown()
        {
            tracing::error!(err = %e, "saving the alertmanager state failed");
        }
        let _ = self.shutdown.send(true);
        for task in self.background {
            let _ = task.await;
        }
        let served = match self.http.await {
            Ok(result) => result,
            Err(e) => Err(ServerError::Http(std::io::Error::other(e.to_string()))),
        };
        let db = self.db;
        let closed = tokio::task::spawn_blocking(move || db.close()).await;
        if let Ok(Err(e)) = closed {
            tracing::error!(err = %e, "closing the tsdb failed");
        }
        served
    }
}

/// The host name Prometheus puts into `globalUrl` for targets on localhost: this machine's.
fn global_host(addr: SocketAddr) -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| addr.ip().to_string())
}

/// How often the notifier re-resolves Alertmanager discovery.
const NOTIFIER_REFRESH: std::time::Duration = std::time::Duration::from_secs(30);

/// `--web.external-url`, or `http://<listen address>` as Prometheus derives it.
fn external_url(opts: &ServerOptions, addr: SocketAddr) -> String {
    opts.external_url
        .clone()
        .unwrap_or_else(|| format!("http://{}:{}", global_host(addr), addr.port()))
}

/// The rule manager over the TSDB and the engine, sending alerts to the notifier. Prometheus'
/// defaults for `--rules.alert.*`.
fn rules_manager(
    opts: &ServerOptions,
    cfg: &config::Config,
    db: &Arc<tsdb::Db>,
    engine: &Arc<promql::Engine>,
    notifier: &Arc<notifier::Notifier>,
) -> rules::Manager {
    let group = rules::GroupOptions {
        query: Arc::new(rules::EngineQuery::new(engine.clone(), db.clone())),
        appendable: db.clone(),
        queryable: db.clone(),
        sink: notifier.clone(),
        clock: Arc::new(rules::SystemClock),
        external_labels: cfg.global.external_labels(),
        external_url: opts.external_url.clone().unwrap_or_default(),
        resend_delay_ms: 60_000,
        outage_tolerance_ms: 3_600_000,
        for_grace_period_ms: 600_000,
        default_query_offset_ms: 0,
    };
    rules::Manager::new(rules::ManagerOptions { group })
}

fn api_state(
    opts: &ServerOptions,
    db: &Arc<tsdb::Db>,
    engine: Arc<promql::Engine>,
    config_state: &Arc<RwLock<ConfigState>>,
    reloader: &Arc<Reloader>,
    ready: Arc<AtomicBool>,
    start_ms: i64,
) -> api::ApiState {
    let mut state = api::ApiState::new(db.clone(), engine);
    state.appendable = Some(db.clone());
    state.tsdb = Arc::new(DbView { db: db.clone() });
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
    let labels_state = config_state.clone();
    state.external_labels = Arc::new(move || labels_state.read().config.global.external_labels());
    state.build_info = build_info();
    state.ready = ready;
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
