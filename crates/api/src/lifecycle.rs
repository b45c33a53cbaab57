//! `/-/healthy`, `/-/ready`, `/-/reload`, `/-/quit`, the readiness gate and the agent-mode gate.

use std::sync::atomic::Ordering;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::envelope::{ApiError, ErrorType};
use crate::state::ApiState;

fn text(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// `GET|HEAD /-/healthy`.
pub async fn healthy() -> Response {
    text(StatusCode::OK, "Prometheus Server is Healthy.\n")
}

/// `GET|HEAD /-/ready`.
pub async fn ready(State(st): State<ApiState>) -> Response {
    if st.is_ready() { text(StatusCode::OK, "Prometheus Server is Ready.\n") } else { not_ready() }
}

fn not_ready() -> Response {
    let mut r = text(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
    r.headers_mut().insert("X-Prometheus-Stopping", header::HeaderValue::from_static("false"));
    r
}

/// Middleware: 503 "Service Unavailable" until the server is ready.
pub async fn require_ready(State(st): State<ApiState>, req: Request, next: Next) -> Response {
    if !st.is_ready() {
        return not_ready();
    }
    next.run(req).await
}

/// Middleware for endpoints that need local query storage: refused in agent mode.
pub async fn reject_in_agent(State(st): State<ApiState>, req: Request, next: Next) -> Response {
    if st.flags.agent {
        return ApiError::new(ErrorType::Execution, "unavailable with Prometheus Agent")
            .into_response();
    }
    next.run(req).await
}

/// `POST|PUT /-/reload`.
pub async fn reload(State(st): State<ApiState>) -> Response {
    if !st.flags.enable_lifecycle {
        return text(StatusCode::FORBIDDEN, "Lifecycle API is not enabled.");
    }
    let lc = st.lifecycle.clone();
    match tokio::task::spawn_blocking(move || lc.reload()).await {
        Ok(Ok(())) => StatusCode::OK.into_response(),
        Ok(Err(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("failed to reload config: {e}\n"),
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// `POST|PUT /-/quit`.
pub async fn quit(State(st): State<ApiState>) -> Response {
    if !st.flags.enable_lifecycle {
        return text(StatusCode::FORBIDDEN, "Lifecycle API is not enabled.");
    }
    if st.quitting.swap(true, Ordering::AcqRel) {
        return text(StatusCode::OK, "Termination already in progress.");
    }
    st.lifecycle.quit();
    text(StatusCode::OK, "Requesting termination... Goodbye!")
}

/// `GET /-/reload` and `GET /-/quit`.
pub async fn only_post() -> Response {
    text(StatusCode::METHOD_NOT_ALLOWED, "Only POST or PUT requests allowed")
}
