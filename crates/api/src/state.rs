//! `ApiState`: everything the handlers read, as shared trait objects and flags.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use model::Labels;
use storage::{Appendable, Queryable};

use crate::views::{
    AlertmanagersView, BuildInfo, ConfigView, NoViews, RulesView, TargetsView, TsdbView,
};

/// Process lifecycle actions behind `/-/reload` and `/-/quit`. Called on a blocking thread.
pub trait Lifecycle: Send + Sync {
    /// Reloads the configuration and returns when done; the error text is shown to the caller.
    fn reload(&self) -> Result<(), String>;
    /// Requests an orderly shutdown (called at most once).
    fn quit(&self);
}

/// A lifecycle that does nothing (tests).
#[derive(Debug, Default)]
pub struct NoLifecycle;

impl Lifecycle for NoLifecycle {
    fn reload(&self) -> Result<(), String> {
        Ok(())
    }
    fn quit(&self) {}
}

/// Feature switches, as Prometheus' `--web.*` flags.
#[derive(Debug, Clone)]
pub struct ApiFlags {
    /// `--web.enable-admin-api`.
    pub enable_admin: bool,
    /// `--web.enable-lifecycle`.
    pub enable_lifecycle: bool,
    /// `--web.enable-remote-write-receiver`.
    pub enable_remote_write_receiver: bool,
    /// `--agent`: query, rules and TSDB endpoints answer "unavailable with Prometheus Agent".
    pub agent: bool,
    /// Default lookback delta for `/federate` (ms).
    pub lookback_delta_ms: i64,
    /// Largest accepted request body (remote write, form posts), bytes.
    pub max_body_bytes: usize,
    /// `--web.cors.origin`: a regex (fully anchored) of origins allowed cross-origin calls.
    pub cors_origin: String,
}

impl Default for ApiFlags {
    fn default() -> Self {
        ApiFlags {
            enable_admin: false,
            enable_lifecycle: false,
            enable_remote_write_receiver: false,
            agent: false,
            lookback_delta_ms: 300_000,
            max_body_bytes: 32 << 20,
            cors_origin: ".*".into(),
        }
    }
}

/// Milliseconds since the epoch; injected so tests control "now".
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The wall clock.
pub fn system_clock() -> Clock {
    Arc::new(|| chrono::Utc::now().timestamp_millis())
}

/// Everything the API handlers use. Cheap to clone (all shared).
#[derive(Clone)]
pub struct ApiState {
    /// What queries, `/series`, `/labels`, `/federate` and remote read read from.
    pub queryable: Arc<dyn Queryable>,
    /// Where the remote-write receiver appends (None: receiver answers 404 even if enabled).
    pub appendable: Option<Arc<dyn Appendable>>,
    pub engine: Arc<promql::Engine>,
    pub targets: Arc<dyn TargetsView>,
    pub rules: Arc<dyn RulesView>,
    pub alertmanagers: Arc<dyn AlertmanagersView>,
    pub tsdb: Arc<dyn TsdbView>,
    pub config: Arc<dyn ConfigView>,
    pub lifecycle: Arc<dyn Lifecycle>,
    pub flags: ApiFlags,
    /// `--web.external-url` (used for links; informational here).
    pub external_url: String,
    /// `global.external_labels`, read on every federation/remote-read request (changes on reload).
    pub external_labels: Arc<dyn Fn() -> Labels + Send + Sync>,
    pub build_info: BuildInfo,
    /// Set by the server once storage is open and the first config is applied.
    pub ready: Arc<AtomicBool>,
    pub clock: Clock,
    /// Set by the first `/-/quit`.
    pub quitting: Arc<AtomicBool>,
    /// `--query.max-concurrency`: one permit per concurrently evaluating query. A query waits
    /// for a permit at most until its timeout, then fails as Prometheus' "query queue" timeout.
    pub query_slots: Arc<tokio::sync::Semaphore>,
    /// `--query.timeout`: bounds a query's queueing plus evaluation (with its own `timeout`
    /// parameter, the smaller of the two).
    pub query_timeout: Duration,
    /// `--query.max-samples-in-flight`: the sample budget all API queries share (rule
    /// evaluation does not draw from it); `None` for none beyond each query's max samples.
    pub sample_budget: Option<Arc<promql::SampleBudget>>,
    /// Requests by handler and query timings (`prometheus_http_*`, `prometheus_engine_*`).
    pub http_metrics: Arc<crate::metrics::HttpMetrics>,
}

/// Prometheus' default `--query.max-concurrency`.
pub const DEFAULT_QUERY_MAX_CONCURRENCY: usize = 20;

impl ApiState {
    /// A state with empty views, default flags, the wall clock, and ready = true.
    pub fn new(queryable: Arc<dyn Queryable>, engine: Arc<promql::Engine>) -> ApiState {
        ApiState {
            queryable,
            appendable: None,
            engine,
            targets: Arc::new(NoViews),
            rules: Arc::new(NoViews),
            alertmanagers: Arc::new(NoViews),
            tsdb: Arc::new(NoViews),
            config: Arc::new(NoViews),
            lifecycle: Arc::new(NoLifecycle),
            flags: ApiFlags::default(),
            external_url: String::new(),
            external_labels: Arc::new(Labels::empty),
            build_info: BuildInfo::default(),
            ready: Arc::new(AtomicBool::new(true)),
            clock: system_clock(),
            quitting: Arc::new(AtomicBool::new(false)),
            query_slots: Arc::new(tokio::sync::Semaphore::new(DEFAULT_QUERY_MAX_CONCURRENCY)),
            query_timeout: Duration::from_secs(120),
            sample_budget: None,
            http_metrics: {
                let m = crate::metrics::HttpMetrics::default();
                m.set_concurrent_max(DEFAULT_QUERY_MAX_CONCURRENCY);
                Arc::new(m)
            },
        }
    }

    pub fn now(&self) -> i64 {
        (self.clock)()
    }

    /// Sets `--query.max-concurrency` (at least one query runs at a time).
    pub fn set_query_max_concurrency(&mut self, n: usize) {
        self.query_slots = Arc::new(tokio::sync::Semaphore::new(n.max(1)));
        self.http_metrics.set_concurrent_max(n.max(1));
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}
