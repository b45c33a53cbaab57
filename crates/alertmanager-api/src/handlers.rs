//! The Alertmanager API v2 routes and lifecycle endpoints as an axum router.

use alertmanager::AlertQuery;
use alertmanager::matchers::{Matchers, parse_matcher};
use alertmanager::timefmt::format_api;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::json;
use crate::openapi::{self, OpenApiError};
use crate::params::{bool_param, pairs};
use crate::service::AlertmanagerService;

fn error_json(code: StatusCode, msg: impl Into<String>) -> Response {
    (code, axum::Json(Value::String(msg.into()))).into_response()
}

fn bad_request(msg: impl Into<String>) -> Response {
    error_json(StatusCode::BAD_REQUEST, msg)
}

fn ok_json(v: Value) -> Response {
    (StatusCode::OK, axum::Json(v)).into_response()
}

fn filter_matchers(p: &[(String, String)]) -> Result<Matchers, String> {
    let mut ms = Vec::new();
    for (_, v) in p.iter().filter(|(k, _)| k == "filter") {
        ms.push(parse_matcher(v).map_err(|e| e.to_string())?);
    }
    Ok(Matchers(ms))
}

/// The alert query parameters; as in Alertmanager, a bad filter is reported before a bad
/// receiver regex.
fn alert_query(raw: Option<&str>) -> Result<AlertQuery, String> {
    let p = pairs(raw);
    let filter = filter_matchers(&p)?;
    let receiver = match p.iter().rev().find(|(k, _)| k == "receiver") {
        Some((_, r)) if !r.is_empty() => Some(
            AlertQuery::receiver_regex(r)
                .map_err(|e| format!("failed to parse receiver param: {e}"))?,
        ),
        _ => None,
    };
    Ok(AlertQuery {
        active: bool_param(&p, "active", true),
        silenced: bool_param(&p, "silenced", true),
        inhibited: bool_param(&p, "inhibited", true),
        unprocessed: bool_param(&p, "unprocessed", true),
        filter,
        receiver,
    })
}

async fn status(State(s): State<AlertmanagerService>) -> Response {
    let original = s.with(|am| am.config().go_yaml());
    ok_json(json!({
        "cluster": {"peers": [], "status": "disabled"},
        "config": {"original": original},
        "uptime": format_api(s.0.started_at),
        "versionInfo": {
            "branch": "pharos",
            "buildDate": "",
            "buildUser": "",
            "goVersion": "",
            "revision": env!("CARGO_PKG_VERSION"),
            "version": "0.25.0",
        },
    }))
}

async fn receivers(State(s): State<AlertmanagerService>) -> Response {
    let names = s.with(|am| am.receivers());
    ok_json(Value::Array(names.into_iter().map(|n| json!({"name": n})).collect()))
}

async fn get_alerts(State(s): State<AlertmanagerService>, RawQuery(q): RawQuery) -> Response {
    let query = match alert_query(q.as_deref()) {
        Ok(q) => q,
        Err(e) => return bad_request(e),
    };
    let list = s.with(|am| am.alerts(&query));
    ok_json(Value::Array(list.iter().map(json::alert).collect()))
}

async fn get_groups(State(s): State<AlertmanagerService>, RawQuery(q): RawQuery) -> Response {
    let query = match alert_query(q.as_deref()) {
        Ok(q) => q,
        Err(e) => return bad_request(e),
    };
    let list = s.with(|am| am.groups(&query));
    ok_json(Value::Array(list.iter().map(json::group).collect()))
}

/// Valid alerts are kept; the 400 message lists why each invalid one was refused, joined by
/// "; " (Alertmanager's MultiError).
async fn post_alerts(State(s): State<AlertmanagerService>, body: Bytes) -> Response {
    let parsed: Vec<json::PostableAlertJson> = match openapi::check_alerts(&body)
        .and_then(|v| serde_json::from_value(v).map_err(|e| OpenApiError::body("alerts", &e)))
    {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let mut errors = Vec::new();
    let mut alerts = Vec::with_capacity(parsed.len());
    for p in parsed {
        match p.into_postable() {
            Ok(a) => alerts.push(a),
            Err(e) => errors.push(e),
        }
    }
    let report = s.push(alerts);
    errors.extend(report.rejected.into_iter().map(|(_, e)| e.to_string()));
    if errors.is_empty() { StatusCode::OK.into_response() } else { bad_request(errors.join("; ")) }
}

/// The deprecated v1 endpoint older Prometheus versions post to (same alert shape).
async fn post_alerts_v1(state: State<AlertmanagerService>, body: Bytes) -> Response {
    let r = post_alerts(state, body).await;
    if r.status().is_success() {
        return ok_json(json!({"status": "success"}));
    }
    r
}

async fn get_silences(State(s): State<AlertmanagerService>, RawQuery(q): RawQuery) -> Response {
    let filter = match filter_matchers(&pairs(q.as_deref())) {
        Ok(f) => f,
        Err(e) => return bad_request(e),
    };
    let (list, now) = s.with(|am| (am.silences(&filter), am.now()));
    ok_json(Value::Array(list.iter().map(|x| json::silence(x, now)).collect()))
}

async fn post_silences(State(s): State<AlertmanagerService>, body: Bytes) -> Response {
    let parsed: json::PostableSilenceJson = match openapi::check_silence(&body)
        .and_then(|v| serde_json::from_value(v).map_err(|e| OpenApiError::body("silence", &e)))
    {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let sil = match parsed.into_silence() {
        Ok(sil) => sil,
        Err(e) => return bad_request(e),
    };
    if sil.starts_at >= sil.ends_at {
        return bad_request("Failed to create silence: start time must be before end time");
    }
    let result = s.with(|am| {
        if sil.ends_at < am.now() {
            return Err((
                StatusCode::BAD_REQUEST,
                "Failed to create silence: end time can't be in the past".to_string(),
            ));
        }
        am.set_silence(sil).map_err(|e| match e {
            alertmanager::Error::SilenceNotFound(_) => (StatusCode::NOT_FOUND, e.to_string()),
            e => (StatusCode::BAD_REQUEST, e.to_string()),
        })
    });
    match result {
        Ok(id) => ok_json(json!({"silenceID": id})),
        Err((code, msg)) => error_json(code, msg),
    }
}

async fn get_silence(State(s): State<AlertmanagerService>, Path(id): Path<String>) -> Response {
    if let Err(e) = openapi::check_silence_id(&id) {
        return e.into_response();
    }
    match s.with(|am| am.silence(&id).map(|x| json::silence(&x, am.now()))) {
        Some(v) => ok_json(v),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Expiring an expired silence succeeds; an unknown id is a 500 with "silence not found",
/// as Alertmanager 0.25 answers (its API declares no 404 for this operation).
async fn delete_silence(State(s): State<AlertmanagerService>, Path(id): Path<String>) -> Response {
    if let Err(e) = openapi::check_silence_id(&id) {
        return e.into_response();
    }
    match s.with(|am| am.expire_silence(&id)) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => error_json(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn healthy() -> &'static str {
    "OK"
}

async fn ready(State(s): State<AlertmanagerService>) -> Response {
    if s.0.ready.load(std::sync::atomic::Ordering::SeqCst) {
        "OK".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response()
    }
}

async fn reload(State(s): State<AlertmanagerService>) -> Response {
    match s.reload_from_file() {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("failed to reload config: {e}"))
            .into_response(),
    }
}

impl AlertmanagerService {
    /// `/api/v2/*` plus `/-/healthy`, `/-/ready`, `/-/reload`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/api/v2/status", get(status))
            .route("/api/v2/receivers", get(receivers))
            .route("/api/v2/alerts", get(get_alerts).post(post_alerts))
            .route("/api/v2/alerts/groups", get(get_groups))
            .route("/api/v1/alerts", post(post_alerts_v1))
            .route("/api/v2/silences", get(get_silences).post(post_silences))
            .route("/api/v2/silence/{id}", get(get_silence).delete(delete_silence))
            .route("/-/healthy", get(healthy).head(healthy))
            .route("/-/ready", get(ready).head(ready))
            .route("/-/reload", post(reload).put(reload))
            .with_state(self.clone())
    }
}
