//! The manager's self-metrics count real events: samples the storage refuses (out of order,
//! duplicate timestamps), scrapes over the sample and body size limits, the intervals between
//! a loop's scrapes, syncs, reloads and removed jobs.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{Resp, Server, wait_for};
use scrape::{Manager, ManagerOptions};
use storage::MemStorage;

fn yaml(a: std::net::SocketAddr, sample_limit: u64) -> String {
    format!(
        r"
scrape_configs:
- job_name: stamped
  scrape_interval: 100ms
  scrape_timeout: 90ms
  metrics_path: /stamped
  static_configs: [{{targets: ['{a}']}}]
- job_name: limited
  scrape_interval: 100ms
  scrape_timeout: 90ms
  sample_limit: {sample_limit}
  static_configs: [{{targets: ['{a}']}}]
- job_name: small
  scrape_interval: 100ms
  scrape_timeout: 90ms
  body_size_limit: 10B
  static_configs: [{{targets: ['{a}']}}]
"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_samples_limits_intervals_and_reloads() {
    let srv = Server::start().await;
    srv.set("/metrics", Resp::text("a 1\nb 2\nc 3\n"));
    // Timestamps given by the target: the first scrape's is the newest.
    srv.set("/stamped", Resp::text("old 1 2000000000000\nsame 1 2000000000000\n"));
    let mgr = Manager::new(Arc::new(MemStorage::new()), ManagerOptions::default());
    mgr.apply_config(&config::parse(&yaml(srv.addr, 2), "t").unwrap()).unwrap();
    wait_for(10, "limits hit twice", || {
        let m = mgr.metrics();
        m.exceeded_sample_limit_total >= 2 && m.exceeded_body_size_limit_total >= 2
    })
    .await;
    srv.set("/stamped", Resp::text("old 2 1000000000000\nsame 2 2000000000000\n"));
    wait_for(10, "refused samples", || {
        let m = mgr.metrics();
        m.sample_out_of_order_total >= 1 && m.sample_duplicate_timestamp_total >= 1
    })
    .await;
    let m = mgr.metrics();
    assert_eq!(m.sample_out_of_bounds_total, 0);
    assert_eq!(m.exceeded_label_limits_total, 0);
    // Three loops scraping every 100 ms: their intervals, about 100 ms each.
    assert_eq!(m.interval_length.len(), 1);
    let (label, s) = &m.interval_length[0];
    assert_eq!(label, "100ms");
    assert!(s.count >= 3, "{s:?}");
    let mean = s.sum / s.count as f64;
    assert!((0.05..0.5).contains(&mean), "{mean}");
    assert_eq!(s.quantiles.iter().map(|q| q.0).collect::<Vec<_>>(), [0.01, 0.05, 0.5, 0.9, 0.99]);
    assert_eq!((m.pools_total, m.pool_reloads_total), (3, 0));
    let jobs: Vec<&str> = m.jobs.iter().map(|j| j.job.as_str()).collect();
    assert_eq!(jobs, ["limited", "small", "stamped"]);
    assert!(m.jobs.iter().all(|j| j.sync_total >= 1 && j.targets == 1 && j.sync_failed_total == 0));
    assert_eq!(m.sd.discovered_targets.len(), 3);
    assert!(m.sd.received_updates_total >= 3 && m.sd.updates_total >= 3);

    // A reload changing one job: a reload of its pool, with its target limit; the others run on.
    let mut cfg = config::parse(&yaml(srv.addr, 5), "t").unwrap();
    mgr.apply_config(&cfg).unwrap();
    let m = mgr.metrics();
    assert_eq!((m.pools_total, m.pool_reloads_total, m.pool_reloads_failed_total), (3, 1, 0));
    assert_eq!(m.reload_length.len(), 1);
    assert_eq!(m.reload_length[0].0, "100ms");
    let limited = m.jobs.iter().find(|j| j.job == "limited").unwrap();
    assert_eq!(limited.target_limit, Some(0));
    assert!(limited.sync_total >= 1, "a reload keeps the job's series");
    // A removed job's series go.
    cfg.scrape_configs.retain(|c| c.job_name != "small");
    mgr.apply_config(&cfg).unwrap();
    let m = mgr.metrics();
    assert!(m.jobs.iter().all(|j| j.job != "small"));
    assert!(m.sd.discovered_targets.iter().all(|(c, _)| c != "small"));
    mgr.stop();
    assert!(mgr.metrics().jobs.is_empty());
}
