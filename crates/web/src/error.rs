//! The web crate's error type and its mapping to HTTP responses.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Errors of the dashboard and annotation endpoints.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid dashboard: {0}")]
    InvalidDashboard(String),
    #[error("invalid annotation: {0}")]
    InvalidAnnotation(String),
    #[error("invalid parameter {0}: {1}")]
    InvalidParam(&'static str, String),
    #[error("dashboard not found: {0}")]
    NotFound(String),
    #[error("a dashboard with uid {0:?} already exists; set \"overwrite\": true to replace it")]
    Conflict(String),
    #[error("dashboard {0:?} is {1} and cannot be changed through the API")]
    ReadOnly(String, &'static str),
    #[error("i/o error on {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

impl Error {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Error {
        Error::Io { path: path.display().to_string(), source }
    }

    fn status(&self) -> StatusCode {
        match self {
            Error::InvalidDashboard(_) | Error::InvalidAnnotation(_) | Error::InvalidParam(..) => {
                StatusCode::BAD_REQUEST
            }
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::ReadOnly(..) => StatusCode::FORBIDDEN,
            Error::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_type(&self) -> &'static str {
        match self.status() {
            StatusCode::BAD_REQUEST => "bad_data",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::CONFLICT => "conflict",
            StatusCode::FORBIDDEN => "forbidden",
            _ => "internal",
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "status": "error",
            "errorType": self.error_type(),
            "error": self.to_string(),
        });
        (self.status(), Json(body)).into_response()
    }
}
