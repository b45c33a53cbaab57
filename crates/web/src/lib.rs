//! Pharos' web UI crate: serves the embedded single-page app and owns the dashboard and
//! annotation endpoints under `/api/pharos/v1/`.
//!
//! The UI itself talks to the Prometheus HTTP API (`/api/v1/...`) and the Alertmanager API v2
//! (`/api/v2/...`), which other crates serve on the same port; [`router`] only adds what Grafana
//! would otherwise provide. Merge it last: it owns the fallback that serves `index.html` for
//! client-side routes.

mod annotations;
mod api;
mod assets;
mod dashboards;
mod error;

use std::path::PathBuf;
use std::sync::Arc;

pub use annotations::{Annotation, AnnotationStore, NewAnnotation};
pub use assets::{asset, is_placeholder_build};
pub use dashboards::{DashboardEntry, DashboardSource, DashboardStore, SERVICE_OVERVIEW_UID};
pub use error::Error;

/// A clock giving the current time in milliseconds since the Unix epoch.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The wall clock.
pub fn system_clock() -> Clock {
    Arc::new(|| chrono::Utc::now().timestamp_millis())
}

/// Configuration of the web router.
#[derive(Clone)]
pub struct Options {
    /// Folder of provisioned Grafana dashboard JSON files (`*.json`), read-only, re-read on each
    /// request so edits show up without a restart. `None` provisions nothing.
    pub dashboards_dir: Option<PathBuf>,
    /// Folder for state written by the UI: imported dashboards (`dashboards/`) and deployment
    /// annotations (`annotations.jsonl`). Created when first needed.
    pub data_dir: PathBuf,
    /// Where "now" comes from (annotations posted without a time).
    pub clock: Clock,
    /// Annotations kept; the oldest are dropped beyond this.
    pub max_annotations: usize,
}

impl Options {
    /// Options with no provisioning folder, the system clock and 10 000 annotations.
    pub fn new(data_dir: impl Into<PathBuf>) -> Options {
        Options {
            dashboards_dir: None,
            data_dir: data_dir.into(),
            clock: system_clock(),
            max_annotations: 10_000,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("dashboards_dir", &self.dashboards_dir)
            .field("data_dir", &self.data_dir)
            .field("max_annotations", &self.max_annotations)
            .finish_non_exhaustive()
    }
}

/// The web router: `/api/pharos/v1/dashboards[/{uid}]`, `/api/pharos/v1/annotations`, the
/// embedded assets, and a fallback serving `index.html` for every other GET outside `/api/`.
///
/// Never fails: an unreadable provisioning folder or annotation log is logged and treated as
/// empty; write errors surface on the requests that write.
pub fn router(opts: Options) -> axum::Router {
    let dashboards =
        DashboardStore::new(opts.dashboards_dir.clone(), opts.data_dir.join("dashboards"));
    let annotations = AnnotationStore::open(
        opts.data_dir.join("annotations.jsonl"),
        opts.clock.clone(),
        opts.max_annotations,
    )
    .unwrap_or_else(|e| {
        tracing::warn!(error = %e, "annotation log unreadable; starting empty");
        AnnotationStore::empty(
            opts.data_dir.join("annotations.jsonl"),
            opts.clock.clone(),
            opts.max_annotations,
        )
    });
    api::routes(Arc::new(dashboards), Arc::new(annotations)).fallback(assets::serve)
}
