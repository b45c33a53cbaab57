//! The response envelope: `{"status","data","errorType","error","warnings","infos"}` with
//! Prometheus' error types and HTTP status codes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::json::write_str;

/// Prometheus' `errorType` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    Timeout,
    Canceled,
    Execution,
    BadData,
    Internal,
    Unavailable,
    NotFound,
}

impl ErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::Timeout => "timeout",
            ErrorType::Canceled => "canceled",
            ErrorType::Execution => "execution",
            ErrorType::BadData => "bad_data",
            ErrorType::Internal => "internal",
            ErrorType::Unavailable => "unavailable",
            ErrorType::NotFound => "not_found",
        }
    }

    /// Prometheus' default status code per error type (`getDefaultErrorCode`).
    pub fn status(self) -> StatusCode {
        match self {
            ErrorType::BadData => StatusCode::BAD_REQUEST,
            ErrorType::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            // Prometheus answers 499 (client closed request) for canceled queries.
            ErrorType::Canceled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            ErrorType::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::NotFound => StatusCode::NOT_FOUND,
            ErrorType::Internal | ErrorType::Unavailable => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Maps an `errorType` string (as the engine reports it) to the enum.
    pub fn from_name(s: &str) -> ErrorType {
        match s {
            "timeout" => ErrorType::Timeout,
            "canceled" => ErrorType::Canceled,
            "bad_data" => ErrorType::BadData,
            "internal" => ErrorType::Internal,
            "unavailable" => ErrorType::Unavailable,
            "not_found" => ErrorType::NotFound,
            _ => ErrorType::Execution,
        }
    }
}

/// An API error: a type and a message, rendered as the error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub typ: ErrorType,
    pub message: String,
}

impl ApiError {
    pub fn new(typ: ErrorType, message: impl Into<String>) -> ApiError {
        ApiError { typ, message: message.into() }
    }

    pub fn bad_data(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorType::BadData, message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorType::Internal, message)
    }

    /// `invalid parameter "<name>": <err>`, as Prometheus' `invalidParamError`.
    pub fn invalid_param(name: &str, err: impl std::fmt::Display) -> ApiError {
        ApiError::bad_data(format!("invalid parameter {name:?}: {err}"))
    }

    /// The error envelope JSON.
    pub fn to_json(&self) -> String {
        let mut out = String::from(r#"{"status":"error","errorType":"#);
        write_str(&mut out, self.typ.as_str());
        out.push_str(r#","error":"#);
        write_str(&mut out, &self.message);
        out.push('}');
        out
    }
}

impl From<storage::StorageError> for ApiError {
    fn from(e: storage::StorageError) -> ApiError {
        ApiError::internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.typ.status(), self.to_json())
    }
}

/// A successful API result: the `data` JSON (already rendered) plus annotations.
#[derive(Debug, Clone, Default)]
pub struct ApiSuccess {
    /// Rendered JSON of `data`; `None` answers 204 No Content (as Prometheus for nil data).
    pub data: Option<String>,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

impl ApiSuccess {
    pub fn data(json: String) -> ApiSuccess {
        ApiSuccess { data: Some(json), ..ApiSuccess::default() }
    }

    /// Data serialised with serde, re-escaped as Go does.
    pub fn serialize<T: serde::Serialize>(value: &T) -> Result<ApiSuccess, ApiError> {
        let json = serde_json::to_string(value).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(ApiSuccess::data(crate::json::go_escape(json)))
    }

    pub fn with_warnings(mut self, warnings: Vec<String>) -> ApiSuccess {
        self.warnings.extend(warnings);
        self
    }

    /// The success envelope JSON.
    pub fn to_json(&self) -> String {
        let data = self.data.as_deref().unwrap_or("null");
        let mut out = String::with_capacity(data.len() + 40);
        out.push_str(r#"{"status":"success""#);
        if self.data.is_some() {
            out.push_str(r#","data":"#);
            out.push_str(data);
        }
        for (key, list) in [("warnings", &self.warnings), ("infos", &self.infos)] {
            if list.is_empty() {
                continue;
            }
            out.push_str(",\"");
            out.push_str(key);
            out.push_str("\":[");
            for (i, w) in list.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(&mut out, w);
            }
            out.push(']');
        }
        out.push('}');
        out
    }
}

impl IntoResponse for ApiSuccess {
    fn into_response(self) -> Response {
        if self.data.is_none() {
            return StatusCode::NO_CONTENT.into_response();
        }
        json_response(StatusCode::OK, self.to_json())
    }
}

/// The result type of every API handler.
pub type ApiResult = Result<ApiSuccess, ApiError>;

/// A JSON body with the given status.
pub fn json_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes() {
        let e = ApiError::invalid_param("start", "cannot parse \"x\" to a valid timestamp");
        assert_eq!(
            e.to_json(),
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": cannot parse \"x\" to a valid timestamp"}"#
        );
        let ok = ApiSuccess::data("[]".into()).with_warnings(vec!["w".into()]);
        assert_eq!(ok.to_json(), r#"{"status":"success","data":[],"warnings":["w"]}"#);
        assert_eq!(ApiSuccess::data("1".into()).to_json(), r#"{"status":"success","data":1}"#);
    }
}
