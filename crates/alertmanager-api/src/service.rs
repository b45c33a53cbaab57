//! [`AlertmanagerService`]: the core behind a mutex, the receiver queues, and the async
//! driver that ticks the core on wall time and feeds delivery outcomes back.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use alertmanager::template::Templates;
use alertmanager::{Alertmanager, Clock, Config, Options, PostableAlert, PushReport};
use parking_lot::Mutex;
use receivers::{Outcome, QueueOptions, ReceiverQueues};
use tokio::sync::mpsc;

use crate::driver::Signals;
use crate::error::ApiError;
use crate::metrics::AlertmanagerMetrics;

pub(crate) struct Inner {
    pub am: Mutex<Alertmanager>,
    pub queues: ReceiverQueues,
    pub signals: Signals,
    pub config_path: Option<PathBuf>,
    pub started_at: i64,
    pub ready: AtomicBool,
    pub reload: ReloadState,
}

/// The outcome of the last configuration (re)load, for `/metrics`.
#[derive(Default)]
pub(crate) struct ReloadState {
    successful: AtomicBool,
    success_ms: AtomicI64,
    /// `f64` bits of the loaded file's hash.
    hash: AtomicU64,
}

impl ReloadState {
    /// A load of the file with this text succeeded at `now_ms`.
    fn success(&self, text: &str, now_ms: i64) {
        self.successful.store(true, Ordering::Relaxed);
        self.success_ms.store(now_ms, Ordering::Relaxed);
        let hash = crate::metrics::config_hash(text);
        self.hash.store(hash.to_bits(), Ordering::Relaxed);
    }

    fn failure(&self) {
        self.successful.store(false, Ordering::Relaxed);
    }
}

/// A running Alertmanager: share it (cheap clone), serve [`AlertmanagerService::router`],
/// push alerts in-process with [`AlertmanagerService::push`].
#[derive(Clone)]
pub struct AlertmanagerService(pub(crate) Arc<Inner>);

impl std::fmt::Debug for AlertmanagerService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertmanagerService").finish_non_exhaustive()
    }
}

impl AlertmanagerService {
    /// Builds the core (restoring state from `opts.storage_dir`) and spawns the driver.
    /// `config_path` is re-read by `/-/reload` and [`AlertmanagerService::reload_from_file`].
    /// Must be called inside a tokio runtime.
    pub fn start(
        config: Config,
        opts: Options,
        clock: Arc<dyn Clock>,
        config_path: Option<PathBuf>,
    ) -> Result<AlertmanagerService, ApiError> {
        let templates = Arc::new(Templates::from_config(&config)?);
        let external_url = opts.external_url.clone();
        let reload = ReloadState::default();
        reload.success(&config.original, clock.now_ms());
        let am = Alertmanager::new(config, opts, clock)?;
        let started_at = am.now();
        let (tx, rx) = mpsc::unbounded_channel();
        let queues = ReceiverQueues::new(QueueOptions::default(), templates, external_url, tx);
        let inner = Inner {
            am: Mutex::new(am),
            queues,
            signals: Signals::default(),
            config_path,
            started_at,
            ready: AtomicBool::new(true),
            reload,
        };
        let svc = AlertmanagerService(Arc::new(inner));
        tokio::spawn(drive(svc.0.clone(), rx));
        Ok(svc)
    }

    /// Accepts alerts in-process (the rules engine's sink); invalid ones are reported.
    pub fn push(&self, alerts: Vec<PostableAlert>) -> PushReport {
        let report = self.0.am.lock().push(alerts);
        self.0.signals.wake.notify_one();
        report
    }

    /// Applies a new configuration (keeps the old one on error).
    pub fn reload(&self, config: Config) -> Result<(), ApiError> {
        let text = config.original.clone();
        let res = self.apply(config);
        match &res {
            Ok(()) => self.0.reload.success(&text, self.0.am.lock().now()),
            Err(_) => self.0.reload.failure(),
        }
        res
    }

    fn apply(&self, config: Config) -> Result<(), ApiError> {
        let templates = Arc::new(Templates::from_config(&config)?);
        self.0.am.lock().reload(config)?;
        self.0.queues.set_templates(templates);
        self.0.signals.wake.notify_one();
        Ok(())
    }

    /// Re-reads the config file given at start.
    pub fn reload_from_file(&self) -> Result<(), ApiError> {
        let Some(path) = &self.0.config_path else { return Ok(()) };
        match Config::load_file(&path.to_string_lossy()) {
            Ok(cfg) => self.reload(cfg),
            Err(e) => {
                self.0.reload.failure();
                Err(e.into())
            }
        }
    }

    /// The values of Alertmanager's own metrics (`/metrics`).
    pub fn metrics(&self) -> AlertmanagerMetrics {
        let core = self.0.am.lock().metrics();
        let integrations = self.0.queues.metrics().snapshot(&core.integration_kinds);
        let r = &self.0.reload;
        AlertmanagerMetrics {
            core,
            integrations,
            config_last_reload_successful: r.successful.load(Ordering::Relaxed),
            config_last_reload_success_timestamp_seconds: r.success_ms.load(Ordering::Relaxed)
                as f64
                / 1000.0,
            config_hash: f64::from_bits(r.hash.load(Ordering::Relaxed)),
        }
    }

    /// Runs `f` with the core locked (read views, silences).
    pub fn with<R>(&self, f: impl FnOnce(&mut Alertmanager) -> R) -> R {
        f(&mut self.0.am.lock())
    }

    /// Stops the driver and writes a final snapshot of the durable state.
    pub fn shutdown(&self) -> Result<(), ApiError> {
        self.0.signals.stopped.store(true, Ordering::SeqCst);
        self.0.signals.stop.notify_one();
        self.0.am.lock().snapshot()?;
        Ok(())
    }
}

/// The driver ([`crate::driver::run`]) delivering through the receiver lanes.
async fn drive(inner: Arc<Inner>, mut outcomes: mpsc::UnboundedReceiver<Outcome>) {
    crate::driver::run(&inner.am, &inner.signals, &mut outcomes, |n| inner.queues.submit(n)).await;
}
