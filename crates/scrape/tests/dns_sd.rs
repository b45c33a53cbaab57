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

/// Answers type A (1) with 127.0.0.1 and 127.0.0.2, type SRV (33) with two targets; NXDOMAIN-free.
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
    let mut out = Vec::new();
    out.extend_from_slice(&query[0..2]);
    out.extend_from_slice(&[0x81, 0x80, 0, 1]);
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
    let opts = ManagerOptions {
        discovery: DiscoveryOptions {
            file_poll_interval: Duration::from_secs(1),
            dns_servers: Some(vec![dns]),
        },
        ..ManagerOptions::default()
    };
    let mgr = Manager::new(Arc::new(MemStorage::new()), opts);
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
