//! target_limit and label limits through the manager: the whole scrape fails with the limit's
//! message and `up` is 0.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{Resp, Server, series_of, wait_for};
use scrape::{Health, Manager, ManagerOptions};
use storage::MemStorage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_fail_whole_scrapes() {
    let srv = Server::start().await;
    srv.set("/metrics", Resp::text("ok 1\nwide{a=\"1\",b=\"2\",c=\"3\"} 1\n"));
    let a = srv.addr;
    let yaml = format!(
        r"
scrape_configs:
- job_name: targets
  scrape_interval: 100ms
  scrape_timeout: 90ms
  target_limit: 1
  static_configs: [{{targets: ['{a}', 'localhost:{p}']}}]
- job_name: labels
  scrape_interval: 100ms
  scrape_timeout: 90ms
  label_limit: 4
  static_configs: [{{targets: ['{a}']}}]
- job_name: value_length
  scrape_interval: 100ms
  scrape_timeout: 90ms
  label_value_length_limit: 3
  static_configs: [{{targets: ['{a}']}}]
",
        p = a.port()
    );
    let storage = MemStorage::new();
    let mgr = Manager::new(Arc::new(storage.clone()), ManagerOptions::default());
    mgr.apply_config(&config::parse(&yaml, "t").unwrap()).unwrap();
    wait_for(10, "all scraped", || {
        let t = mgr.targets();
        t.active.len() == 4 && t.active.iter().all(|t| t.health != Health::Unknown)
    })
    .await;
    let t = mgr.targets();
    for target in &t.active {
        assert_eq!(target.health, Health::Down, "{}", target.scrape_pool);
        let want = match target.scrape_pool.as_str() {
            "targets" => "target_limit exceeded (number of targets: 2, limit: 1)",
            "labels" => "label_limit exceeded (metric: wide, number of labels: 6, limit: 4)",
            _ => "label_value_length_limit exceeded (metric: ok, label name: instance",
        };
        assert!(
            target.last_error.starts_with(want),
            "{}: {}",
            target.scrape_pool,
            target.last_error
        );
    }
    for job in ["targets", "labels", "value_length"] {
        assert!(
            series_of(&storage, job).iter().all(|(l, _)| !l.contains("\"ok\"")),
            "{job}: nothing of the scrape is kept"
        );
    }
    // Counted as Prometheus counts them: the target limit on each sync over it, the label
    // limits on each scrape breaking them.
    let m = mgr.metrics();
    assert!(m.exceeded_target_limit_total >= 1);
    assert!(m.exceeded_label_limits_total >= 2, "{}", m.exceeded_label_limits_total);
    assert_eq!((m.exceeded_sample_limit_total, m.exceeded_body_size_limit_total), (0, 0));
    let targets: Vec<(&str, u64)> = m.jobs.iter().map(|j| (j.job.as_str(), j.targets)).collect();
    assert_eq!(targets, [("labels", 1), ("targets", 2), ("value_length", 1)]);
    mgr.stop();
}
