//! Handlers of `/api/pharos/v1/dashboards` and `/api/pharos/v1/annotations`, answering in the
//! Prometheus API envelope (`{"status": "success", "data": ...}` or an error object).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::annotations::{NewAnnotation, parse_time};
use crate::{AnnotationStore, DashboardStore, Error};

#[derive(Clone)]
struct AppState {
    dashboards: Arc<DashboardStore>,
    annotations: Arc<AnnotationStore>,
}

pub(crate) fn routes(dashboards: Arc<DashboardStore>, annotations: Arc<AnnotationStore>) -> Router {
    Router::new()
        .route("/api/pharos/v1/dashboards", get(list_dashboards).post(import_dashboard))
        .route("/api/pharos/v1/dashboards/{uid}", get(get_dashboard).delete(delete_dashboard))
        .route("/api/pharos/v1/annotations", get(query_annotations).post(add_annotation))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(AppState { dashboards, annotations })
}

/// Large exported dashboards (node-exporter-full is about 0.5 MB) must fit; axum's default is 2 MB.
const MAX_BODY_BYTES: usize = 32 << 20;

fn success(data: Value) -> Response {
    Json(json!({"status": "success", "data": data})).into_response()
}

fn parse_body<T: serde::de::DeserializeOwned>(
    body: &Bytes,
    what: fn(String) -> Error,
) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| what(format!("request body: {e}")))
}

async fn list_dashboards(State(s): State<AppState>) -> Response {
    success(json!(s.dashboards.list()))
}

async fn get_dashboard(
    State(s): State<AppState>,
    Path(uid): Path<String>,
) -> Result<Response, Error> {
    let (entry, model) = s.dashboards.get(&uid)?;
    let mut data = json!(entry);
    data["dashboard"] = model;
    Ok(success(data))
}

async fn import_dashboard(State(s): State<AppState>, body: Bytes) -> Result<Response, Error> {
    let value: Value = parse_body(&body, Error::InvalidDashboard)?;
    let entry = s.dashboards.import(value)?;
    Ok((StatusCode::OK, success(json!(entry))).into_response())
}

async fn delete_dashboard(
    State(s): State<AppState>,
    Path(uid): Path<String>,
) -> Result<Response, Error> {
    s.dashboards.delete(&uid)?;
    Ok(success(Value::Null))
}

async fn add_annotation(State(s): State<AppState>, body: Bytes) -> Result<Response, Error> {
    let new: NewAnnotation = parse_body(&body, Error::InvalidAnnotation)?;
    let a = s.annotations.add(new)?;
    Ok(success(a.to_json()))
}

async fn query_annotations(
    State(s): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, Error> {
    let bound = |name: &'static str, default: i64| -> Result<i64, Error> {
        match params.get(name).filter(|v| !v.is_empty()) {
            None => Ok(default),
            Some(v) => parse_time(v).ok_or_else(|| {
                Error::InvalidParam(name, format!("{v:?} is not RFC 3339 or Unix seconds"))
            }),
        }
    };
    let start = bound("start", i64::MIN)?;
    let end = bound("end", i64::MAX)?;
    if end < start {
        return Err(Error::InvalidParam(
            "end",
            "end timestamp must not be before start time".into(),
        ));
    }
    let service = params.get("service").map(String::as_str).filter(|s| !s.is_empty());
    let items: Vec<Value> =
        s.annotations.query(start, end, service).iter().map(|a| a.to_json()).collect();
    Ok(success(Value::Array(items)))
}
