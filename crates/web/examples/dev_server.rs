//! Development server: `web::router` (embedded UI, dashboards, annotations) plus a reverse proxy
//! sending `/api/v1/*` to a Prometheus and `/api/v2/*` to an Alertmanager, so the UI can be run
//! and browser-tested against the real reference programs before the Pharos server serves both.
//!
//! `cargo run -p web --example dev_server -- --listen 127.0.0.1:9099 --prometheus http://127.0.0.1:9090
//!  --alertmanager http://127.0.0.1:9093 --data-dir /tmp/pharos-web [--dashboards-dir DIR]`

use std::path::PathBuf;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

#[derive(Clone)]
struct Upstreams {
    client: reqwest::Client,
    prometheus: String,
    alertmanager: String,
}

async fn proxy(State(up): State<Upstreams>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let base = if path.starts_with("/api/v2/") { &up.alertmanager } else { &up.prometheus };
    let query = req.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
    let url = format!("{base}{path}{query}");
    let method = req.method().clone();
    let mut headers = HeaderMap::new();
    for (k, v) in req.headers() {
        if k == "content-type" || k == "accept" {
            headers.insert(k.clone(), v.clone());
        }
    }
    let body = match axum::body::to_bytes(req.into_body(), 16 << 20).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let resp = up.client.request(method, &url).headers(headers).body(body).send().await;
    match resp {
        Ok(r) => {
            let status = r.status();
            let ct = r.headers().get("content-type").cloned();
            let bytes: Bytes = r.bytes().await.unwrap_or_default();
            let mut out = Response::new(Body::from(bytes));
            *out.status_mut() = status;
            if let Some(ct) = ct {
                out.headers_mut().insert("content-type", ct);
            }
            out
        }
        Err(e) => (StatusCode::BAD_GATEWAY, format!("upstream {url}: {e}")).into_response(),
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let listen = arg(&args, "--listen").unwrap_or_else(|| "127.0.0.1:9099".into());
    let upstreams = Upstreams {
        client: reqwest::Client::new(),
        prometheus: arg(&args, "--prometheus").unwrap_or_else(|| "http://127.0.0.1:9090".into()),
        alertmanager: arg(&args, "--alertmanager")
            .unwrap_or_else(|| "http://127.0.0.1:9093".into()),
    };
    let mut opts = web::Options::new(
        arg(&args, "--data-dir").map(PathBuf::from).unwrap_or_else(std::env::temp_dir),
    );
    opts.dashboards_dir = arg(&args, "--dashboards-dir").map(PathBuf::from);
    let proxied = Router::new()
        .route("/api/v1/{*rest}", any(proxy))
        .route("/api/v2/{*rest}", any(proxy))
        .with_state(upstreams);
    let app = proxied.merge(web::router(opts));
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
