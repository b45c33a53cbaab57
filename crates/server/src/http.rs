//! The server's own HTTP routes: `/metrics` (its self-metrics) and the default "log"
//! receiver's `/api/pharos/v1/notifications`.
//!
//! Lifecycle probes and the APIs come from `api`; the UI from `web` ([`ui`]); `run` merges them.

use axum::extract::Request;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::alerting::NotificationLog;
use crate::{SelfMetrics, exposition};

pub(crate) fn router(metrics: SelfMetrics, log: NotificationLog) -> Router {
    let notifications = Router::new()
        .route("/api/pharos/v1/notifications", get(list_notifications).post(record_notification))
        .with_state(log);
    Router::new().route("/metrics", get(metrics_handler)).with_state(metrics).merge(notifications)
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

/// `/metrics` in OpenMetrics for clients that ask for it, else in the text format 0.0.4.
async fn metrics_handler(State(metrics): State<SelfMetrics>, headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let om = metrics.encode();
    let (body, content_type) = if exposition::wants_openmetrics(accept) {
        (om, exposition::OPENMETRICS)
    } else {
        (exposition::to_text(&om), exposition::TEXT)
    };
    let mut resp = body.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}
