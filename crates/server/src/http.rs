//! The server's own HTTP routes: lifecycle probes and `/metrics`.
//!
//! The Prometheus API, the Alertmanager API and the UI bring their own routers; `run` merges them.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::SelfMetrics;
use crate::run::Readiness;

#[derive(Clone)]
struct HttpState {
    metrics: SelfMetrics,
    readiness: Readiness,
}

pub(crate) fn router(metrics: SelfMetrics, readiness: Readiness) -> Router {
    Router::new()
        .route("/-/healthy", get(healthy).head(healthy))
        .route("/-/ready", get(ready).head(ready))
        .route("/metrics", get(metrics_handler))
        .with_state(HttpState { metrics, readiness })
}

async fn healthy() -> &'static str {
    "Prometheus Server is Healthy.\n"
}

async fn ready(State(s): State<HttpState>) -> Response {
    if s.readiness.is_ready() {
        "Prometheus Server is Ready.\n".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response()
    }
}

async fn metrics_handler(State(s): State<HttpState>) -> Response {
    let body = s.metrics.encode();
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    resp
}
