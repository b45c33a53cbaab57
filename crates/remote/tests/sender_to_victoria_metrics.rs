//! Pharos' sender writes into VictoriaMetrics' Prometheus-compatible `/api/v1/write`; every
//! sample arrives (checked through `/api/v1/export`). Skipped when the binary is missing.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{free_port, have, reqwest::get, wait_until};
use model::{Labels, Sample};
use remote::{DiskBuffer, DiskBufferOptions, QueueOptions, WriteOptions, WriteQueue};

const VM: &str = "/usr/bin/victoria-metrics";

struct Vm(Child);

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sender_writes_into_victoria_metrics() {
    if !have(VM) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _vm = Vm(Command::new(VM)
        .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
        .arg(format!("-storageDataPath={}", dir.path().join("vm").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap());
    let base = format!("http://127.0.0.1:{port}");
    tokio::task::block_in_place(|| {
        wait_until(Duration::from_secs(60), || {
            matches!(get(&format!("{base}/health")), Some((200, _)))
        })
    });
    let buf =
        Arc::new(DiskBuffer::open(dir.path().join("buf"), DiskBufferOptions::default()).unwrap());
    let mut opts = WriteOptions::new("vm", &format!("{base}/api/v1/write"));
    opts.queue = QueueOptions {
        batch_send_deadline: Duration::from_millis(50),
        poll_interval: Duration::from_millis(10),
        ..QueueOptions::default()
    };
    let q = WriteQueue::start(opts, Arc::new(buf.reader("vm").unwrap())).unwrap();
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
            as i64;
    let samples: Vec<(Labels, Sample)> = (0..300)
        .map(|i| {
            let l = Labels::new([("__name__", "pharos_vm_metric"), ("k", &(i % 3).to_string())]);
            (l, Sample::new(now - 600_000 + i * 1000, i as f64))
        })
        .collect();
    buf.write_batch(&samples).unwrap();
    let stats = q.stats();
    tokio::task::block_in_place(|| {
        wait_until(Duration::from_secs(30), || stats.samples_sent.load(Ordering::Relaxed) == 300)
    });
    let exported = || -> usize {
        let _ = get(&format!("{base}/internal/force_flush"));
        let Some((200, body)) = get(&format!("{base}/api/v1/export?match[]=pharos_vm_metric"))
        else {
            return 0;
        };
        body.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| v["values"].as_array().map_or(0, Vec::len))
            .sum()
    };
    tokio::task::block_in_place(|| wait_until(Duration::from_secs(30), || exported() == 300));
    q.stop().await;
}
