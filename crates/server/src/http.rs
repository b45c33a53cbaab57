//! The server's own HTTP routes: `/metrics` (its self-metrics).
//!
//! Lifecycle probes and the APIs come from `api`; the UI from `web`; `run` merges them.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::SelfMetrics;

pub(crate) fn router(metrics: SelfMetrics) -> Router {
    Router::new().route("/metrics", get(metrics_handler)).with_state(metrics)
}

async fn metrics_handler(State(metrics): State<SelfMetrics>) -> Response {
    let mut resp = metrics.encode().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    resp
}
