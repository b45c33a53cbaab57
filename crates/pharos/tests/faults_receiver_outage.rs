//! Fault test: the webhook receiver of the built-in Alertmanager refuses connections for a
//! while (about 15 s of real time, several group intervals), then comes back. Pharos keeps
//! retrying (each failure is logged), and once the receiver listens again both alert groups
//! are delivered, including the one that started firing during the outage. The same outage
//! over half an hour of manual-clock time is tested in the alertmanager crate
//! (tests/receiver_outage.rs).

#![allow(clippy::unwrap_used)]

mod fault_support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use fault_support::{Pharos, eventually, free_port, now_ms};

/// A webhook on `port` that keeps every JSON body it is sent and answers 200.
fn webhook(port: u16) -> Arc<Mutex<Vec<serde_json::Value>>> {
    let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let got: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let store = got.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let store = store.clone();
            std::thread::spawn(move || {
                // Keep-alive: serve requests on this connection until it closes.
                let mut buf = Vec::new();
                let mut tmp = [0u8; 8192];
                loop {
                    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match c.read(&mut tmp) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&tmp[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    let start = head_end + 4;
                    while buf.len() < start + len {
                        match c.read(&mut tmp) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&tmp[..n]),
                        }
                    }
                    if let Ok(v) = serde_json::from_slice(&buf[start..start + len]) {
                        store.lock().unwrap().push(v);
                    }
                    buf.drain(..start + len);
                    if c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").is_err() {
                        return;
                    }
                }
            });
        }
    });
    got
}

#[test]
fn notifications_held_back_by_a_down_receiver_are_delivered_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let hook_port = free_port();
    let later = now_ms() / 1000 + 6;
    std::fs::write(
        dir.path().join("prometheus.yml"),
        "global:\n  evaluation_interval: 1s\nrule_files: [rules.yml]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rules.yml"),
        format!(
            "groups:\n  - name: outage\n    rules:\n      - alert: FaultEarly\n        expr: vector(1)\n        labels: {{severity: page}}\n      - alert: FaultDuringOutage\n        expr: vector(time()) > {later}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("alertmanager.yml"),
        format!(
            "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: http://127.0.0.1:{hook_port}/hook\n        send_resolved: true\n"
        ),
    )
    .unwrap();
    let p = Pharos::start(
        &dir.path().join("data"),
        &dir.path().join("pharos.log"),
        &[
            format!("--config.file={}", dir.path().join("prometheus.yml").display()),
            format!("--alertmanager.config.file={}", dir.path().join("alertmanager.yml").display()),
        ],
    );
    let started = now_ms();

    // The receiver is down: delivery fails, again and again, for both groups.
    eventually(30, "failed deliveries to both groups while the receiver is down", || {
        let log = p.log_text();
        let failed: Vec<&str> = log.lines().filter(|l| l.contains("notify failed")).collect();
        let early = failed.iter().filter(|l| l.contains("hook")).count();
        (early >= 3 && now_ms() > (later + 2) * 1000).then_some(())
    });
    eventually(30, "a 15 s outage", || (now_ms() - started >= 15_000).then_some(()));
    let log = p.log_text();
    let url = format!("http://127.0.0.1:{hook_port}/hook");
    assert!(
        log.lines()
            .any(|l| l.contains("notify failed") && l.contains("level=warn") && l.contains(&url)),
        "the failures are logged as warnings naming the receiver's URL:\n{log}"
    );

    // Back up: both groups' firing notifications arrive.
    let got = webhook(hook_port);
    let delivered = eventually(30, "both groups delivered after the receiver returned", || {
        let got = got.lock().unwrap();
        let names = |name: &str| {
            got.iter().any(|v| {
                v["status"] == "firing"
                    && v["receiver"] == "hook"
                    && v["alerts"].as_array().is_some_and(|a| {
                        a.iter()
                            .any(|a| a["labels"]["alertname"] == name && a["status"] == "firing")
                    })
            })
        };
        (names("FaultEarly") && names("FaultDuringOutage")).then(|| got.clone())
    });
    let early = delivered.iter().find(|v| v["groupLabels"]["alertname"] == "FaultEarly").unwrap();
    assert_eq!(early["alerts"][0]["labels"]["severity"], "page");
    assert_eq!(early["version"], "4");
}
