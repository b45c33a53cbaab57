//! The server's own HTTP routes: `/metrics` (its self-metrics, gzipped when accepted and
//! counted as Prometheus counts it: in `prometheus_http_*{handler="/metrics"}` and
//! `promhttp_metric_handler_*`) and the
//! default "log" receiver's `/api/pharos/v1/notifications`.
//!
//! Lifecycle probes and the APIs come from `api`; the UI from `web` ([`ui`]); `run` merges them.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use axum::extract::Request;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::alerting::NotificationLog;
use crate::{SelfMetrics, exposition};

pub(crate) fn router(
    metrics: SelfMetrics,
    log: NotificationLog,
    http_metrics: Arc<api::metrics::HttpMetrics>,
) -> Router {
    let notifications = Router::new()
        .route("/api/pharos/v1/notifications", get(list_notifications).post(record_notification))
        .with_state(log);
    let handler = Arc::new(MetricHandler::default());
    let counted = handler.clone();
    metrics.add_text_section(Box::new(move |out| counted.render(out)));
    // Gzip for clients that accept it, as promhttp; inside the counting, so that the response
    // size is the bytes sent, as Prometheus counts them.
    Router::new()
        .route("/metrics", get(metrics_handler))
        .route_layer(tower_http::compression::CompressionLayer::new())
        .route_layer(from_fn_with_state(http_metrics, api::metrics::track))
        .with_state((metrics, handler))
        .merge(notifications)
}

/// client_golang's `promhttp.Handler()` counters: scrapes of `/metrics` being served and
/// served by status code (encoding cannot fail here: only 200 ever counts).
#[derive(Default)]
struct MetricHandler {
    in_flight: AtomicI64,
    ok: AtomicU64,
}

impl MetricHandler {
    fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = write!(
            out,
            "# HELP promhttp_metric_handler_requests_in_flight Current number of scrapes being served.\n\
             # TYPE promhttp_metric_handler_requests_in_flight gauge\n\
             promhttp_metric_handler_requests_in_flight {}\n\
             # HELP promhttp_metric_handler_requests Total number of scrapes by HTTP status code.\n\
             # TYPE promhttp_metric_handler_requests counter\n\
             promhttp_metric_handler_requests_total{{code=\"200\"}} {}\n\
             promhttp_metric_handler_requests_total{{code=\"500\"}} 0\n\
             promhttp_metric_handler_requests_total{{code=\"503\"}} 0\n",
            self.in_flight.load(Ordering::Relaxed),
            self.ok.load(Ordering::Relaxed),
        );
    }
}

/// The default "log" receiver's webhook target.
async fn record_notification(
    State(log): State<NotificationLog>,
    Json(payload): Json<serde_json::Value>,
) -> StatusCode {
    log.record(payload);
    StatusCode::OK
}

async fn list_notifications(State(log): State<NotificationLog>) -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "success", "data": log.recent()}))
}

/// The UI, behind everything else. Unknown API paths stay 404s instead of reaching the UI's
/// single-page fallback.
pub(crate) fn ui(opts: web::Options) -> Router {
    web::router(opts).layer(middleware::from_fn(api_paths_not_found))
}

async fn api_paths_not_found(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/v1/") || path.starts_with("/api/v2/") {
        return (StatusCode::NOT_FOUND, "404 page not found\n").into_response();
    }
    next.run(req).await
}

/// `/metrics` in the text format 0.0.4, whatever the client asks for, as Prometheus answers.
async fn metrics_handler(
    State((metrics, handler)): State<(SelfMetrics, Arc<MetricHandler>)>,
) -> Response {
    // As promhttp: the scrape being served is in flight, and counted once served.
    handler.in_flight.fetch_add(1, Ordering::Relaxed);
    let body = exposition::to_text(&metrics.encode());
    handler.in_flight.fetch_sub(1, Ordering::Relaxed);
    handler.ok.fetch_add(1, Ordering::Relaxed);
    let content_type = exposition::TEXT;
    let mut resp = body.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}
