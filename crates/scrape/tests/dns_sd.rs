//! dns_sd against a tiny DNS server on 127.0.0.1 answering A and SRV queries.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::wait_for;
use scrape::discovery::DiscoveryOptions;
use scrape::{Manager, ManagerOptions};
use storage::MemStorage;
use tokio::net::UdpSocket;

fn encode_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.trim_end_matches('.').split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

/// Answers type A (1) with 127.0.0.1 and 127.0.0.2, type SRV (33) with two targets, except for
/// names that do not exist or fail.
fn answer(query: &[u8], srv_port: u16) -> Option<Vec<u8>> {
    let mut i = 12;
    while *query.get(i)? != 0 {
        i += 1 + query[i] as usize;
    }
    let qtype = u16::from_be_bytes([query[i + 1], query[i + 2]]);
    let question = &query[12..i + 5];
    let mut records: Vec<Vec<u8>> = Vec::new();
    match qtype {
        1 => {
            for last in [1u8, 2] {
                records.push(vec![127, 0, 0, last]);
            }
        }
        33 => {
            for host in ["a.example.test.", "b.example.test."] {
                let mut rd = vec![0, 10, 0, 5];
                rd.extend_from_slice(&srv_port.to_be_bytes());
                rd.extend(encode_name(host));
                records.push(rd);
            }
        }
        _ => {}
    }
    // `missing.*` does not exist (NXDOMAIN), `broken.*` fails (SERVFAIL).
    let name = String::from_utf8_lossy(&query[12..i]).to_string();
    let rcode = if name.contains("missing") {
        3
    } else if name.contains("broken") {
        2
    } else {
        0
    };
    if rcode != 0 {
        records.clear();
    }
    let mut out = Vec::new();
    out.extend_from_slice(&query[0..2]);
    out.extend_from_slice(&[0x81, 0x80 | rcode, 0, 1]);
    out.extend_from_slice(&(records.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(question);
    for rd in records {
        out.extend_from_slice(&[0xc0, 0x0c]);
        out.extend_from_slice(&qtype.to_be_bytes());
        out.extend_from_slice(&[0, 1, 0, 0, 0, 30]);
        out.extend_from_slice(&(rd.len() as u16).to_be_bytes());
        out.extend(rd);
    }
    Some(out)
}

async fn dns_server(srv_port: u16) -> std::net::SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf).await else { return };
            if let Some(resp) = answer(&buf[..n], srv_port) {
                let _ = sock.send_to(&resp, peer).await;
            }
        }
    });
    addr
}

/// A scrape manager whose DNS discovery asks `dns` only.
fn manager(dns: std::net::SocketAddr) -> Manager {
    let opts = ManagerOptions {
        discovery: DiscoveryOptions {
            file_poll_interval: Duration::from_secs(1),
            dns_servers: Some(vec![dns]),
        },
        ..ManagerOptions::default()
    };
    Manager::new(Arc::new(MemStorage::new()), opts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_and_srv_records_become_targets() {
    let dns = dns_server(9100).await;
    let yaml = r"
scrape_configs:
- job_name: a
  dns_sd_configs: [{names: [nodes.example.test], type: A, port: 9100, refresh_interval: 1s}]
- job_name: srv
  dns_sd_configs: [{names: [_node._tcp.example.test]}]
  relabel_configs:
  - {source_labels: [__address__], target_label: instance}
  - {target_label: __address__, replacement: '127.0.0.1:1'}
";
    // The SRV targets' names are never resolved: relabeling points the scrapes at loopback.
    let mgr = manager(dns);
    mgr.apply_config(&config::parse(yaml, "t").unwrap()).unwrap();
    wait_for(10, "dns targets", || mgr.targets().active.len() == 4).await;
    let t = mgr.targets();
    let a: Vec<&str> = t
        .active
        .iter()
        .filter(|t| t.scrape_pool == "a")
        .map(|t| t.labels.get("instance").unwrap())
        .collect();
    assert_eq!(a, ["127.0.0.1:9100", "127.0.0.2:9100"]);
    let srv: Vec<_> = t.active.iter().filter(|t| t.scrape_pool == "srv").collect();
    assert_eq!(srv[0].labels.get("instance"), Some("a.example.test:9100"));
    assert_eq!(
        srv[0].discovered_labels.get("__meta_dns_srv_record_target"),
        Some("a.example.test.")
    );
    assert_eq!(srv[0].discovered_labels.get("__meta_dns_srv_record_port"), Some("9100"));
    assert_eq!(srv[0].discovered_labels.get("__meta_dns_name"), Some("_node._tcp.example.test"));
    mgr.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_failures_and_refreshes_are_counted() {
    let dns = dns_server(9100).await;
    let yaml = r"
scrape_configs:
- job_name: a
  dns_sd_configs:
  - {names: [nodes.example.test, missing.example.test, broken.example.test], type: A, port: 1, refresh_interval: 1h}
";
    let mgr = manager(dns);
    mgr.apply_config(&config::parse(yaml, "t").unwrap()).unwrap();
    wait_for(20, "one refresh", || mgr.metrics().sd.refresh.iter().any(|r| r.duration.count == 1))
        .await;
    let sd = mgr.metrics().sd;
    // Three names looked up; a name that does not exist is an answer (no targets), as in
    // Prometheus; only the failing server counts as a failure. A refresh itself never fails.
    assert_eq!((sd.dns_lookups_total, sd.dns_lookup_failures_total), (3, 1));
    let dns_refresh = sd.refresh.iter().find(|r| r.mechanism == "dns").unwrap();
    assert_eq!(dns_refresh.failures_total, 0);
    wait_for(10, "the two targets", || mgr.targets().active.len() == 2).await;
    let m = mgr.metrics();
    assert_eq!(m.sd.discovered_targets, vec![("a".to_string(), 2)]);
    assert_eq!(m.jobs[0].targets, 2);
    assert_eq!(m.sd.failed_configs, 0);
    mgr.stop();
}
