//! Fault test: scrape targets that hang. One accepts connections and never answers, one sends
//! its headers and part of a body and then stalls. Each of their scrapes is cut off at
//! `scrape_timeout` (up=0, "context deadline exceeded" on /api/v1/targets, a scrape duration
//! of about the timeout), while the healthy targets of the same job keep being scraped on
//! schedule (up=1, their samples stored every interval).

#![allow(clippy::unwrap_used)]

mod fault_support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use fault_support::{Pharos, eventually, now_ms};

/// Serves a small exposition forever, one connection at a time per thread.
fn healthy_target(value: u32) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut req = Vec::new();
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match c.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let body = format!("# TYPE fault_healthy gauge\nfault_healthy {value}\n");
                let _ = write!(
                    c,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    port
}

/// Accepts connections and keeps them open without a byte of answer (`partial`: answers the
/// headers and the start of a body, then stalls).
fn hanging_target(partial: bool) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let held: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            if partial {
                // Read the request first: a response before it is a protocol error, not a hang.
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match c.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = c.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: 1000\r\n\r\nfault_partial 1\n",
                );
            }
            held.lock().unwrap().push(c);
        }
    });
    port
}

fn target(targets: &serde_json::Value, port: u16) -> Option<&serde_json::Value> {
    let addr = format!("127.0.0.1:{port}");
    targets["activeTargets"].as_array()?.iter().find(|t| t["labels"]["instance"] == addr.as_str())
}

#[test]
fn hanging_targets_time_out_and_others_are_unaffected() {
    let (good1, good2) = (healthy_target(1), healthy_target(2));
    let (silent, stalled) = (hanging_target(false), hanging_target(true));
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 2s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: mixed\n    static_configs:\n      - targets: ['127.0.0.1:{good1}', '127.0.0.1:{silent}', '127.0.0.1:{stalled}', '127.0.0.1:{good2}']\n"
        ),
    )
    .unwrap();
    let p = Pharos::start(
        &dir.path().join("data"),
        &dir.path().join("pharos.log"),
        &[format!("--config.file={}", cfg.display())],
    );
    let started = now_ms();
    let client = fault_support::client();
    let targets = || -> Option<serde_json::Value> {
        let v: serde_json::Value =
            client.get(format!("{}/api/v1/targets", p.base)).send().ok()?.json().ok()?;
        Some(v["data"].clone())
    };

    // Each hanging target: down, the deadline error, a scrape that lasted about the timeout.
    for port in [silent, stalled] {
        let t = eventually(30, "the hanging target's first failed scrape", || {
            let all = targets()?;
            let t = target(&all, port)?.clone();
            (t["health"] == "down").then_some(t)
        });
        let err = t["lastError"].as_str().unwrap();
        assert!(err.contains("context deadline exceeded"), "target {port}: {err}");
        let took = t["lastScrapeDuration"].as_f64().unwrap();
        assert!(took >= 0.95, "target {port} gave up before scrape_timeout: {took} s");
        assert!(took < 2.0, "target {port} was not cut off at scrape_timeout (1 s): {took} s");
    }

    // Let several intervals pass with the hanging targets failing every time.
    let at = eventually(30, "five scrape intervals", || {
        let now = now_ms();
        (now - started >= 11_000).then_some(now)
    });
    for port in [silent, stalled] {
        let up = p.scalar(&format!("up{{instance=\"127.0.0.1:{port}\"}}"), at);
        assert_eq!(up, Some(0.0), "up of hanging target {port}");
        let ok = p.scalar(&format!("max_over_time(up{{instance=\"127.0.0.1:{port}\"}}[10s])"), at);
        assert_eq!(ok, Some(0.0), "hanging target {port} never succeeded");
    }
    for (port, value) in [(good1, 1.0), (good2, 2.0)] {
        let inst = format!("instance=\"127.0.0.1:{port}\"");
        assert_eq!(
            p.scalar(&format!("up{{{inst}}}"), at),
            Some(1.0),
            "up of healthy target {port}"
        );
        assert_eq!(p.scalar(&format!("fault_healthy{{{inst}}}"), at), Some(value));
        // Scraped every 2 s over the last 10 s, every time successfully: no scrape was delayed
        // or lost behind the hanging ones.
        let n = p.scalar(&format!("count_over_time(up{{{inst}}}[10s])"), at).unwrap();
        assert!(n >= 4.0, "healthy target {port} scraped {n} times in 10 s");
        let min = p.scalar(&format!("min_over_time(up{{{inst}}}[10s])"), at);
        assert_eq!(min, Some(1.0), "healthy target {port} failed a scrape");
        let all = targets().unwrap();
        let t = target(&all, port).unwrap();
        assert_eq!(t["health"], "up", "{t}");
        assert_eq!(t["lastError"], "", "{t}");
        let took = t["lastScrapeDuration"].as_f64().unwrap();
        assert!(took < 0.9, "healthy target {port} scrape took {took} s");
    }
}
