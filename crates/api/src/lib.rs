//! The Prometheus HTTP API, exactly: `/api/v1/*`, `/federate`, `/-/healthy|ready|reload|quit`,
//! and the remote write/read endpoints.
//!
//! - [`router`] builds the axum router over an [`ApiState`].
//! - The API reads managers only through the view traits in [`views`]; the server implements
//!   them over the scrape manager, rule manager, notifier and TSDB.
//! - Queries go through `promql::Engine` on blocking threads; responses are rendered by hand
//!   ([`json`]) to match Prometheus byte for byte (values as strings, float-second timestamps).
//!
//! Architecture invariant: no concrete manager or storage engine is named here.

mod admin;
mod cors;
pub mod envelope;
mod federate;
mod gotime;
pub mod json;
mod lifecycle;
pub mod metrics;
pub mod params;
mod query;
mod remote_routes;
mod response_size;
mod rules;
mod series;
mod state;
mod status;
pub mod views;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

pub use envelope::{ApiError, ApiResult, ApiSuccess, ErrorType};
pub use federate::TEXT_CONTENT_TYPE;
pub use state::{
    ApiFlags, ApiState, Clock, DEFAULT_QUERY_MAX_CONCURRENCY, Lifecycle, NoLifecycle, system_clock,
};
pub use views::{
    ActiveTarget, Alert, AlertingRule, AlertmanagersView, BuildInfo, ConfigView, DroppedTarget,
    GoTime, HeadStats, MetricMetadata, NoViews, RecordingRule, Rule, RuleGroup, RulesView,
    RuntimeInfo, TargetsView, TsdbStat, TsdbStatus, TsdbView, WalReplayStatus, format_alert_value,
};

/// A known `/api/v1` path with another method: Go's `http.Error(w, "Method Not Allowed", 405)`,
/// as Prometheus' router (httprouter) answers.
async fn method_not_allowed() -> axum::response::Response {
    use axum::response::IntoResponse;
    let headers = [
        (axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        (axum::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    (StatusCode::METHOD_NOT_ALLOWED, headers, "Method Not Allowed\n").into_response()
}

/// The complete router: `/api/v1/...`, `/federate` and `/-/...`; anything else is 404.
pub fn router(state: ApiState) -> Router {
    let body_limit = state.flags.max_body_bytes;
    // Endpoints that need local query storage (refused in agent mode).
    let storage_api = Router::new()
        .route("/query", get(query::instant).post(query::instant))
        .route("/query_range", get(query::range).post(query::range))
        .route("/query_exemplars", get(query::exemplars).post(query::exemplars))
        .route("/format_query", get(query::format_query).post(query::format_query))
        .route("/parse_query", get(query::parse_query).post(query::parse_query))
        .route("/labels", get(series::labels).post(series::labels))
        .route("/label/{name}/values", get(series::label_values))
        .route("/series", get(series::series).post(series::series).delete(series::drop_series))
        .route("/alertmanagers", get(status::alertmanagers))
        .route("/status/tsdb", get(status::tsdb))
        .route("/alerts", get(rules::alerts))
        .route("/rules", get(rules::rules))
        .route("/admin/tsdb/delete_series", post(admin::delete_series).put(admin::delete_series))
        .route(
            "/admin/tsdb/clean_tombstones",
            post(admin::clean_tombstones).put(admin::clean_tombstones),
        )
        .route("/admin/tsdb/snapshot", post(admin::snapshot).put(admin::snapshot))
        .route_layer(from_fn_with_state(state.clone(), lifecycle::reject_in_agent));
    let api = Router::new()
        .merge(storage_api)
        .route("/scrape_pools", get(status::scrape_pools))
        .route("/targets", get(status::targets))
        .route("/targets/metadata", get(status::targets_metadata))
        .route("/metadata", get(status::metadata))
        .route("/status/config", get(status::config))
        .route("/status/runtimeinfo", get(status::runtime_info))
        .route("/status/buildinfo", get(status::build_info))
        .route("/status/flags", get(status::flags))
        .route("/status/walreplay", get(status::wal_replay))
        .route("/read", post(remote_routes::read))
        .route("/write", post(remote_routes::write))
        // Gzip as Prometheus, inside the request counting: the response size counted is the
        // bytes sent, as Prometheus counts them.
        .route_layer(tower_http::compression::CompressionLayer::new())
        .route_layer(from_fn_with_state(state.clone(), lifecycle::require_ready))
        .route_layer(from_fn_with_state(state.http_metrics.clone(), metrics::track))
        // Outside the layers: Prometheus' router answers before any handler.
        .method_not_allowed_fallback(method_not_allowed);
    let origin = cors::CorsOrigin::new(&state.flags.cors_origin);
    // CORS wraps the whole API (including OPTIONS preflights on any path).
    let api = Router::new()
        .nest("/api/v1", api)
        .layer(axum::middleware::from_fn(move |req, next| cors::cors(origin.clone(), req, next)));
    let federate = Router::new()
        .route("/federate", get(federate::federate))
        .route_layer(tower_http::compression::CompressionLayer::new())
        .route_layer(from_fn_with_state(state.clone(), lifecycle::require_ready))
        .route_layer(from_fn_with_state(state.http_metrics.clone(), metrics::track));
    let lifecycle_routes = Router::new()
        .route("/-/healthy", get(lifecycle::healthy))
        .route("/-/ready", get(lifecycle::ready))
        .route(
            "/-/reload",
            post(lifecycle::reload).put(lifecycle::reload).get(lifecycle::only_post),
        )
        .route("/-/quit", post(lifecycle::quit).put(lifecycle::quit).get(lifecycle::only_post))
        .route_layer(from_fn_with_state(state.http_metrics.clone(), metrics::track));
    Router::new()
        .merge(api)
        .merge(federate)
        .merge(lifecycle_routes)
        .fallback(|| async { (StatusCode::NOT_FOUND, "404 page not found\n") })
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}
