//! Building the components behind the HTTP server: storage (TSDB, remote-write buffer or both),
//! scraping, and the alerting chain (rules → notifier → built-in Alertmanager).

use std::net::SocketAddr;
use std::sync::Arc;

use storage::{Appendable, Queryable};

use crate::alerting::{self, AlertmanagerReload, BuiltinReceiver};
use crate::lifecycle::Reloader;
use crate::remote_write::{self, RemoteWrite, RemoteWriteNotBuffered, RemoteWriteReload};
use crate::views::{RulesReload, ScrapeReload};
use crate::{ServerError, ServerOptions, tsdb_open};

/// Where samples go and where queries read.
pub struct Storage {
    /// `None` in agent mode.
    pub db: Option<Arc<tsdb::Db>>,
    pub remote: Option<RemoteWrite>,
    pub appendable: Arc<dyn Appendable>,
    pub queryable: Arc<dyn Queryable>,
}

/// Opens storage. With `remote_write` configured (or in agent mode) every commit is also
/// recorded in the buffer the remote-write queues tail.
pub async fn open_storage(
    opts: &ServerOptions,
    cfg: &config::Config,
    reloader: &Reloader,
) -> Result<Storage, ServerError> {
    let remote = if opts.agent || !cfg.remote_write.is_empty() {
        let dir = opts.storage_path.join(if opts.agent { "wal" } else { "remote-write-buffer" });
        let rw = remote_write::open(&dir)?;
        reloader.register("remote write", Arc::new(RemoteWriteReload(rw.manager.clone())));
        Some(rw)
    } else {
        reloader.register("remote write", Arc::new(RemoteWriteNotBuffered));
        None
    };
    let db = if opts.agent { None } else { Some(tsdb_open::open(opts, cfg).await?) };
    let appendable: Arc<dyn Appendable> = match (&db, &remote) {
        (Some(db), Some(rw)) => {
            Arc::new(remote::TeeAppendable { primary: db.clone(), buffer: rw.buffer.clone() })
        }
        (Some(db), None) => db.clone(),
        (None, Some(rw)) => Arc::new(remote::BufferAppendable(rw.buffer.clone())),
        (None, None) => return Err(ServerError::Config("agent mode needs a buffer".into())),
    };
    // Agent mode has nothing to query; the API answers "unavailable with Prometheus Agent".
    let queryable: Arc<dyn Queryable> = match &db {
        Some(db) => db.clone(),
        None => Arc::new(storage::MemStorage::new()),
    };
    Ok(Storage { db, remote, appendable, queryable })
}

/// The scrape manager, applied on every reload.
pub fn scrape(
    storage: &Storage,
    reloader: &Reloader,
    host: &str,
    timestamp_tolerance: Option<std::time::Duration>,
    group_size: usize,
) -> Arc<scrape::Manager> {
    let manager = Arc::new(scrape::Manager::new(
        storage.appendable.clone(),
        scrape::ManagerOptions {
            timestamp_tolerance,
            group_size,
            ..scrape::ManagerOptions::default()
        },
    ));
    manager.set_global_url_host(host);
    reloader.register("scrape manager", Arc::new(ScrapeReload(manager.clone())));
    manager
}

/// Rules, the notifier and the built-in Alertmanager.
pub struct Alerting {
    pub rules: Arc<rules::Manager>,
    pub notifier: Arc<notifier::Notifier>,
    pub alertmanager: Option<alertmanager_api::AlertmanagerService>,
}

/// Everything `alerting` needs to know about the server.
pub struct AlertingContext<'a> {
    pub opts: &'a ServerOptions,
    pub cfg: &'a config::Config,
    pub addr: SocketAddr,
    pub external_url: String,
    /// How the built-in Alertmanager's default "log" webhook reaches the server.
    pub self_access: &'a crate::self_access::SelfAccess,
}

pub fn alerting(
    ctx: &AlertingContext<'_>,
    storage: &Storage,
    engine: &Arc<promql::Engine>,
    reloader: &Reloader,
) -> Result<Alerting, ServerError> {
    let notifier = Arc::new(notifier::Notifier::new(notifier::NotifierOptions {
        external_labels: ctx.cfg.global.external_labels(),
        ..notifier::NotifierOptions::default()
    }));
    let group = rules::GroupOptions {
        query: Arc::new(rules::EngineQuery::new(engine.clone(), storage.queryable.clone())),
        appendable: storage.appendable.clone(),
        queryable: storage.queryable.clone(),
        sink: notifier.clone(),
        clock: Arc::new(rules::SystemClock),
        external_labels: ctx.cfg.global.external_labels(),
        external_url: ctx.external_url.clone(),
        // Prometheus' defaults for --rules.alert.*.
        resend_delay_ms: 60_000,
        outage_tolerance_ms: 3_600_000,
        for_grace_period_ms: 600_000,
        default_query_offset_ms: 0,
    };
    let rules = Arc::new(rules::Manager::new(rules::ManagerOptions { group }));
    reloader.register(
        "rule manager",
        Arc::new(RulesReload {
            manager: rules.clone(),
            notifier: notifier.clone(),
            external_url: ctx.external_url.clone(),
        }),
    );
    let alertmanager = if ctx.opts.disable_builtin_alertmanager {
        None
    } else {
        let (am_cfg, am_path) = alerting::load_config(
            ctx.opts.alertmanager_config_file.as_deref(),
            &ctx.opts.storage_path,
            ctx.addr.port(),
            ctx.opts.alertmanager_default_webhook.as_deref(),
            ctx.self_access,
        )?;
        let svc =
            alerting::start(am_cfg, am_path, &ctx.opts.storage_path, ctx.external_url.clone())?;
        notifier.set_local_receivers(vec![Arc::new(BuiltinReceiver(svc.clone()))]);
        reloader.register("built-in alertmanager", Arc::new(AlertmanagerReload(svc.clone())));
        Some(svc)
    };
    Ok(Alerting { rules, notifier, alertmanager })
}

impl Alerting {
    /// Stops rule evaluation, drains the notifier and saves the Alertmanager's state.
    pub fn stop(&self) {
        self.rules.stop();
        self.notifier.stop();
        if let Some(am) = &self.alertmanager
            && let Err(e) = am.shutdown()
        {
            tracing::error!(err = %e, "saving the alertmanager state failed");
        }
    }
}
