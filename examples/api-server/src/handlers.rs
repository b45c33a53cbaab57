//! The service's routes: a few API paths, `/metrics`, and `/admin/chaos`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rand::Rng;

use crate::chaos::Chaos;
use crate::metrics::{Metrics, RequestLabels};

#[derive(Clone)]
pub struct AppState {
    pub chaos: Arc<Chaos>,
    pub metrics: Arc<Metrics>,
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/users", get(api_handler))
        .route("/api/orders", get(api_handler).post(api_handler))
        .route("/api/search", get(api_handler))
        .route_layer(middleware::from_fn_with_state(state.clone(), instrument));
    Router::new()
        .merge(api)
        .route("/metrics", get(metrics_handler))
        .route("/admin/chaos", get(get_chaos).post(set_chaos))
        .with_state(state)
}

/// Records one request in both metric families, labelled by its route (not the raw URL).
async fn instrument(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    s.metrics.observe(RequestLabels { method, path, status }, start.elapsed().as_secs_f64());
    resp
}

/// Sleeps around the configured latency and fails with the configured ratio.
async fn api_handler(State(s): State<AppState>) -> Response {
    let (delay, fail, unavailable) = {
        let mut rng = rand::thread_rng();
        let median = s.chaos.latency_ms() as f64;
        // A log-normal-ish spread: most requests near the median, a tail up to ~4x.
        let factor: f64 = (rng.gen_range(-1.0f64..1.0) * 0.7).exp() * rng.gen_range(0.5..1.5);
        let fail = rng.r#gen::<f64>() < s.chaos.error_ratio();
        (Duration::from_secs_f64(median * factor / 1000.0), fail, rng.gen_bool(0.3))
    };
    tokio::time::sleep(delay).await;
    if fail {
        let code = if unavailable {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        return (code, "simulated failure\n").into_response();
    }
    (StatusCode::OK, "{\"ok\":true}\n").into_response()
}

async fn metrics_handler(State(s): State<AppState>) -> Response {
    let mut resp = s.metrics.encode().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    resp
}

#[derive(serde::Deserialize)]
struct ChaosParams {
    error_ratio: Option<f64>,
    latency_ms: Option<u64>,
}

fn chaos_json(c: &Chaos) -> String {
    format!("{{\"error_ratio\":{},\"latency_ms\":{}}}\n", c.error_ratio(), c.latency_ms())
}

async fn get_chaos(State(s): State<AppState>) -> String {
    chaos_json(&s.chaos)
}

/// `POST /admin/chaos?error_ratio=0.2&latency_ms=300`.
async fn set_chaos(State(s): State<AppState>, Query(p): Query<ChaosParams>) -> Response {
    match s.chaos.set(p.error_ratio, p.latency_ms) {
        Ok(()) => chaos_json(&s.chaos).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    }
}
