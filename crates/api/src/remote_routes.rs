//! `/api/v1/write` (remote-write 1.0 and 2.0 receiver) and `/api/v1/read` (remote-read server), thin HTTP
//! glue over the `remote` crate.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::ApiState;

fn plain(status: StatusCode, msg: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{msg}\n"))
        .into_response()
}

fn status_of(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The remote-write protocol version of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// Checks the content type and encoding (absent headers mean 1.0/snappy).
fn check_write_headers(h: &HeaderMap) -> Result<Version, String> {
    let get = |n: header::HeaderName| h.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ct = get(header::CONTENT_TYPE);
    let mut version = Version::V1;
    if !ct.is_empty() {
        let mut parts = ct.split(';').map(str::trim);
        if parts.next() != Some("application/x-protobuf") {
            return Err(format!(
                "expected application/x-protobuf as the first (media) part, got {ct} content-type"
            ));
        }
        for p in parts {
            match p.strip_prefix("proto=") {
                None | Some("prometheus.WriteRequest") => {}
                Some("io.prometheus.write.v2.Request") => version = Version::V2,
                Some(_) => return Err(format!("unknown remote write content type {ct}")),
            }
        }
    }
    let enc = get(header::CONTENT_ENCODING);
    if !enc.is_empty() && enc != "snappy" {
        return Err(format!(
            "{enc} encoding (compression) is not accepted by this server; only snappy is acceptable"
        ));
    }
    Ok(version)
}

/// `POST /api/v1/write`.
pub async fn write(State(st): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(app) = st.appendable.clone().filter(|_| st.flags.enable_remote_write_receiver) else {
        return plain(
            StatusCode::NOT_FOUND,
            "remote write receiver needs to be enabled with --web.enable-remote-write-receiver"
                .into(),
        );
    };
    let version = match check_write_headers(&headers) {
        Ok(v) => v,
        Err(e) => return plain(StatusCode::UNSUPPORTED_MEDIA_TYPE, e),
    };
    let now = st.now();
    let res = tokio::task::spawn_blocking(move || match version {
        Version::V1 => remote::receive_write(app.as_ref(), &body, now),
        Version::V2 => remote::receive_write_v2(app.as_ref(), &body, now),
    })
    .await;
    match res {
        Ok(Ok(stats)) if version == Version::V2 => (
            StatusCode::NO_CONTENT,
            [
                ("X-Prometheus-Remote-Write-Samples-Written", stats.samples.to_string()),
                ("X-Prometheus-Remote-Write-Histograms-Written", "0".to_string()),
                ("X-Prometheus-Remote-Write-Exemplars-Written", "0".to_string()),
            ],
        )
            .into_response(),
        Ok(Ok(_)) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(e)) => plain(status_of(e.status_code()), e.to_string()),
        Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `POST /api/v1/read` (SAMPLES response type).
pub async fn read(State(st): State<ApiState>, body: Bytes) -> Response {
    let q = st.queryable.clone();
    let external = (st.external_labels)();
    let res =
        tokio::task::spawn_blocking(move || remote::serve_read(q.as_ref(), &body, &external)).await;
    match res {
        Ok(Ok(out)) => (
            [
                (header::CONTENT_TYPE, remote::READ_CONTENT_TYPE),
                (header::CONTENT_ENCODING, "snappy"),
            ],
            out,
        )
            .into_response(),
        Ok(Err(e)) => plain(status_of(e.status_code()), e.to_string()),
        Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
