//! Scraping: service discovery, scrape pools and per-target loops.
//!
//! - [`Manager`]: one pool per `scrape_configs` entry; [`Manager::apply_config`] reloads without
//!   restarting unchanged pools; [`Manager::targets`] and [`Manager::metadata`] feed the API.
//! - `discovery`: static, file, HTTP, DNS (and Kubernetes) providers producing target groups.
//! - `target`: Prometheus' `PopulateLabels` (job/instance, relabeling, default port) and URLs.
//! - [`check_config_targets`]: `promtool check config`'s check of static and file targets.
//! - [`metrics`]: Prometheus' `prometheus_target_*` and `prometheus_sd_*` self-metrics.
//! - [`align`]: Prometheus' scrape timestamp alignment (due time within 2 ms).
//! - [`spread`]: where in the interval each target is scraped (Prometheus' per-target
//!   offsets, in slots of `--scrape.group-size` targets that share a wake-up).
//! - `scrape_loop`: fetch (gzip, timeout, body limit), parse with `textparse`, merge target
//!   labels, metric relabeling, limits, append through `storage::Appender` as one batch (rolled
//!   back on any error), report series and staleness markers.
//!
//! Architecture invariant: samples reach storage only through `storage::Appendable`.

pub mod align;
mod buffers;
mod check;
pub mod discovery;
mod error;
mod http1;
mod http1_body;
mod http1_gzip;
pub mod http_client;
pub mod labels;
mod manager;
mod metadata;
pub mod metrics;
mod pool;
pub mod scrape_loop;
mod series_cache;
mod shown_discovered;
pub mod spread;
pub mod target;

pub use align::SCRAPE_TIMESTAMP_TOLERANCE;
pub use check::check_config_targets;
pub use error::ScrapeError;
pub use manager::{ActiveTarget, DroppedTarget, Manager, ManagerOptions, TargetMetadata, Targets};
pub use spread::{DEFAULT_GROUP_SIZE, Spread};
pub use target::Health;
pub use textparse::MetricType;

/// Source of "now" in milliseconds since the epoch (injected so tests control timestamps).
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// Metadata of one metric family from a target (`# TYPE`, `# HELP`, `# UNIT`).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricMetadata {
    pub metric: String,
    pub metric_type: MetricType,
    pub help: String,
    pub unit: String,
}
