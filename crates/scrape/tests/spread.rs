//! Where in the interval a pool's targets are scraped: with a group size, the targets share
//! one offset per slot (one wake-up per group); with a group size of 1, each has its own
//! offset, as in Prometheus.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{Resp, Server, wait_for};
use scrape::{Manager, ManagerOptions};
use storage::{MemStorage, Queryable};

const TARGETS: usize = 20;
const INTERVAL_MS: i64 = 1_000;

/// One pool of `TARGETS` targets on one server (told apart by a label).
fn config(addr: std::net::SocketAddr) -> config::Config {
    let mut yaml = String::from(
        "scrape_configs:\n- job_name: spread\n  scrape_interval: 1s\n  scrape_timeout: 500ms\n  static_configs:\n",
    );
    for i in 0..TARGETS {
        yaml += &format!("  - targets: ['{addr}']\n    labels: {{shard: '{i}'}}\n");
    }
    config::parse(&yaml, "t.yml").unwrap()
}

/// The time of each target's first `up` sample.
fn first_scrapes(storage: &MemStorage) -> Vec<i64> {
    let q = storage.querier(i64::MIN, i64::MAX).unwrap();
    let m = [model::Matcher::equal("__name__", "up")];
    let mut out = Vec::new();
    for series in q.select(true, None, &m).unwrap() {
        let mut series = series.unwrap();
        let samples = storage::collect_samples(series.samples.as_mut()).unwrap();
        out.extend(samples.first().map(|s| s.t));
    }
    out
}

/// How many groups the offsets within the interval form, offsets less than 50 ms apart
/// (around the interval's end too) counting as one.
fn offset_groups(times: &[i64]) -> usize {
    let mut offsets: Vec<i64> = times.iter().map(|t| t.rem_euclid(INTERVAL_MS)).collect();
    offsets.sort_unstable();
    let linear = offsets.windows(2).filter(|w| w[1] - w[0] >= 50).count();
    let wrap = offsets.first().zip(offsets.last()).is_some_and(|(a, b)| a + INTERVAL_MS - b >= 50);
    (linear + usize::from(wrap)).max(1)
}

async fn scrape_times(group_size: usize) -> Vec<i64> {
    let srv = Server::start().await;
    srv.set("/metrics", Resp::text("m 1\n"));
    let storage = MemStorage::new();
    let opts = ManagerOptions { group_size, ..ManagerOptions::default() };
    let mgr = Manager::new(Arc::new(storage.clone()), opts);
    mgr.apply_config(&config(srv.addr)).unwrap();
    wait_for(10, "every target scraped", || first_scrapes(&storage).len() == TARGETS).await;
    mgr.stop();
    first_scrapes(&storage)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_size_puts_the_pool_s_targets_in_one_slot_per_group() {
    let times = scrape_times(10).await;
    assert_eq!(times.len(), TARGETS);
    assert_eq!(offset_groups(&times), 2, "{times:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_size_of_one_spreads_each_target_on_its_own() {
    let times = scrape_times(1).await;
    assert_eq!(times.len(), TARGETS);
    // Twenty hash offsets in a second: far more than two groups 50 ms apart.
    assert!(offset_groups(&times) > 4, "{times:?}");
}

#[test]
fn offsets_group_around_the_interval_s_end() {
    assert_eq!(offset_groups(&[10, 20, 990]), 1);
    assert_eq!(offset_groups(&[10, 20, 500, 510]), 2);
    assert_eq!(offset_groups(&[100, 400, 700]), 3);
    assert_eq!(offset_groups(&[5]), 1);
}
