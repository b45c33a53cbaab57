//! Cross-origin headers on API responses (`--web.cors.origin`, default `.*`) and answers to
//! `OPTIONS` preflight requests, as Prometheus' `httputil.SetCORS`.

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The allowed-origin rule compiled once per router.
#[derive(Clone, Debug)]
pub enum CorsOrigin {
    /// `.*`: answer `Access-Control-Allow-Origin: *`.
    Any,
    Regex(regex::Regex),
    /// An invalid pattern allows nothing.
    None,
}

impl CorsOrigin {
    pub fn new(pattern: &str) -> CorsOrigin {
        if pattern == ".*" {
            return CorsOrigin::Any;
        }
        match regex::Regex::new(&format!("^(?:{pattern})$")) {
            Ok(r) => CorsOrigin::Regex(r),
            Err(e) => {
                tracing::error!(pattern, err = %e, "invalid CORS origin regex; cross-origin calls disabled");
                CorsOrigin::None
            }
        }
    }
}

/// Middleware: adds CORS headers when the request has an `Origin`; `OPTIONS` answers 204.
pub async fn cors(origin_rule: CorsOrigin, req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let mut resp = if req.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    let Some(origin) = origin else { return resp };
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Accept, Authorization, Content-Type, Origin"),
    );
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, OPTIONS"));
    h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("Date"));
    match &origin_rule {
        CorsOrigin::Any => {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
        CorsOrigin::Regex(r) if origin.to_str().is_ok_and(|o| r.is_match(o)) => {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        }
        _ => {}
    }
    resp
}
