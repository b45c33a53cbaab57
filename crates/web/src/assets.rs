//! The embedded front-end files and the fallback handler serving them, with `index.html` for
//! client-side routes (single-page app).

use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// The embedded file at `path` (relative to the web root, no leading slash).
pub fn asset(path: &str) -> Option<&'static [u8]> {
    embedded::FILES.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}

/// True when the binary carries only the "UI not built" placeholder page.
pub fn is_placeholder_build() -> bool {
    embedded::FILES.len() == 1 && asset("index.html").is_some_and(|b| b.len() < 2048)
}

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn file_response(path: &str, body: &'static [u8]) -> Response {
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut resp = body.into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}

fn not_found(what: &str) -> Response {
    let body = serde_json::json!({"status": "error", "errorType": "not_found", "error": what});
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

/// Fallback handler: an embedded file, or `index.html` for any other GET outside `/api/`.
pub(crate) async fn serve(method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, "method not allowed").into_response();
    }
    let path = uri.path().trim_start_matches('/');
    if path == "api" || path.starts_with("api/") {
        return not_found(&format!("no such endpoint: /{path}"));
    }
    if let Some(body) = asset(path).filter(|_| !path.is_empty()) {
        return file_response(path, body);
    }
    // Hashed bundles that are missing must not turn into HTML (the browser would run it as JS).
    if path.starts_with("assets/") {
        return not_found(&format!("no such asset: /{path}"));
    }
    match asset("index.html") {
        Some(body) => file_response("index.html", body),
        None => not_found("index.html is not embedded"),
    }
}
