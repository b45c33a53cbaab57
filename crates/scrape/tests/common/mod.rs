//! Test helpers: a tiny HTTP server on 127.0.0.1 with programmable responses, and polling.
#![allow(dead_code, clippy::unwrap_used)]

pub mod looping;
pub mod recorder;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A canned response.
#[derive(Clone, Debug)]
pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    pub gzip: bool,
    /// Announce this Content-Length instead of the real one (a truncated body).
    pub declared_len: Option<usize>,
}

impl Resp {
    pub fn text(body: &str) -> Resp {
        Resp {
            status: 200,
            content_type: "text/plain; version=0.0.4".into(),
            body: body.as_bytes().to_vec(),
            gzip: false,
            declared_len: None,
        }
    }
}

pub struct Server {
    pub addr: SocketAddr,
    routes: Arc<Mutex<HashMap<String, Resp>>>,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub async fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let routes: Arc<Mutex<HashMap<String, Resp>>> = Arc::default();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, q) = (routes.clone(), requests.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let (r, q) = (r.clone(), q.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf).to_string();
                    q.lock().push(head.clone());
                    let path = head
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or("/")
                        .split('?')
                        .next()
                        .unwrap_or("/")
                        .to_string();
                    let resp = r
                        .lock()
                        .get(&path)
                        .cloned()
                        .unwrap_or(Resp { status: 404, ..Resp::text("not found\n") });
                    let body = if resp.gzip {
                        use std::io::Write;
                        let mut e = flate2::write::GzEncoder::new(
                            Vec::new(),
                            flate2::Compression::default(),
                        );
                        e.write_all(&resp.body).unwrap();
                        e.finish().unwrap()
                    } else {
                        resp.body.clone()
                    };
                    let len = resp.declared_len.unwrap_or(body.len());
                    let mut out = format!(
                        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {len}\r\nConnection: close\r\n",
                        resp.status, resp.content_type
                    );
                    if resp.gzip {
                        out.push_str("Content-Encoding: gzip\r\n");
                    }
                    out.push_str("\r\n");
                    let _ = sock.write_all(out.as_bytes()).await;
                    let _ = sock.write_all(&body).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Server { addr, routes, requests }
    }

    pub fn set(&self, path: &str, resp: Resp) {
        self.routes.lock().insert(path.to_string(), resp);
    }
}

/// Polls `cond` every 20 ms until it holds or `secs` pass.
pub async fn wait_for(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// All samples of series matching `job`, as (labels string, values).
pub fn series_of(s: &storage::MemStorage, job: &str) -> Vec<(String, Vec<f64>)> {
    use storage::Queryable;
    let q = s.querier(i64::MIN, i64::MAX).unwrap();
    let m = [model::Matcher::equal("job", job)];
    let mut out = Vec::new();
    for series in q.select(true, None, &m).unwrap() {
        let mut series = series.unwrap();
        let samples = storage::collect_samples(series.samples.as_mut()).unwrap();
        out.push((series.labels.to_string(), samples.iter().map(|s| s.v).collect()));
    }
    out
}
