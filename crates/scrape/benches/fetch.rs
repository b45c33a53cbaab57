//! CPU per scraped sample of whole scrapes over HTTP on loopback: request, response, body,
//! parse, series cache and a no-op appender. 20 targets of 1,000 series as `crates/loadgen`
//! renders them (node_exporter-like and api-server-like alternating), served with
//! `Content-Length` on kept-alive connections by a server on its own thread. Counts the CPU
//! time of the scraping thread only (`/proc/thread-self/schedstat`; the kernel's socket copy on
//! the receiving side included), so the server's work and other load on the machine do not
//! inflate it.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{Discard, thread_cpu};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use model::Labels;
use scrape::scrape_loop::{LoopOptions, ScrapeLoop};
use scrape::target::Target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[allow(dead_code)]
#[path = "../../loadgen/src/body.rs"]
mod body;
#[allow(dead_code)]
#[path = "../tests/common/looping.rs"]
mod looping;

const TARGETS: usize = 20;
const SERIES: usize = 1000;

/// Starts a server on its own thread answering `GET /<i>` with response `i` (two renderings
/// alternating, so values change); returns its address.
fn serve(responses: Vec<[Vec<u8>; 2]>) -> std::net::SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let responses = Arc::new(responses);
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let responses = responses.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut k = 0usize;
                    loop {
                        let mut chunk = [0u8; 4096];
                        let end = loop {
                            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                                break p + 4;
                            }
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let head = String::from_utf8_lossy(&buf[..end]).to_string();
                        buf.drain(..end);
                        let i: usize = head
                            .split_whitespace()
                            .nth(1)
                            .and_then(|p| p.trim_start_matches('/').parse().ok())
                            .unwrap_or(0);
                        k += 1;
                        if sock.write_all(&responses[i % responses.len()][k % 2]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
    });
    rx.recv().unwrap()
}

fn response(body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn scrape_loop(addr: std::net::SocketAddr, i: usize) -> ScrapeLoop {
    let a = addr.to_string();
    let path = format!("/{i}");
    let labels = Labels::new([
        ("__address__", a.as_str()),
        ("__scheme__", "http"),
        ("__metrics_path__", path.as_str()),
        ("instance", a.as_str()),
        ("job", "bench"),
    ]);
    let target = Target::new(labels, Labels::empty(), &Default::default());
    let opts = LoopOptions {
        interval: std::time::Duration::from_secs(1),
        ..looping::options(std::time::Duration::from_secs(10))
    };
    looping::scrape_loop(target, opts, Arc::new(Discard))
}

fn fetch(c: &mut Criterion) {
    let responses: Vec<[Vec<u8>; 2]> = (0..TARGETS)
        .map(|i| {
            let kind = if i % 2 == 0 { body::Kind::Node } else { body::Kind::Api };
            let t = body::Template::new(kind, SERIES, i as u64);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            t.render(1, &mut a);
            t.render(2, &mut b);
            [response(&a), response(&b)]
        })
        .collect();
    let addr = serve(responses);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut loops: Vec<ScrapeLoop> = (0..TARGETS).map(|i| scrape_loop(addr, i)).collect();
    let mut g = c.benchmark_group("scrape_fetch");
    g.throughput(Throughput::Elements((TARGETS * SERIES) as u64));
    g.sample_size(20);
    g.bench_function("loadgen_20x1000_http_discard", |b| {
        b.iter_custom(|iters| {
            let start = thread_cpu();
            rt.block_on(async {
                for _ in 0..iters {
                    for sl in loops.iter_mut() {
                        sl.scrape_and_report().await;
                    }
                }
            });
            thread_cpu() - start
        })
    });
    g.finish();
}

criterion_group!(benches, fetch);
criterion_main!(benches);
