//! Staleness markers (series gone, scrape failed, target gone) and reloads that leave
//! unchanged pools running.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{Resp, Server, series_of, wait_for};
use scrape::{Health, Manager, ManagerOptions};
use storage::MemStorage;

fn is_stale(v: f64) -> bool {
    model::value::is_stale_nan(v)
}

fn last_of(storage: &MemStorage, job: &str, needle: &str) -> Option<f64> {
    series_of(storage, job)
        .into_iter()
        .find(|(l, _)| l.contains(needle))
        .and_then(|(_, v)| v.last().copied())
}

fn count_of(storage: &MemStorage, job: &str, needle: &str) -> usize {
    series_of(storage, job)
        .into_iter()
        .find(|(l, _)| l.contains(needle))
        .map_or(0, |(_, v)| v.len())
}

fn config(addr: std::net::SocketAddr, jobs: &[&str]) -> config::Config {
    let mut yaml = String::from("scrape_configs:\n");
    for j in jobs {
        yaml += &format!(
            "- job_name: {j}\n  scrape_interval: 100ms\n  scrape_timeout: 90ms\n  metrics_path: /{j}\n  static_configs: [{{targets: ['{addr}']}}]\n"
        );
    }
    config::parse(&yaml, "t.yml").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_markers_for_vanished_series_failed_scrapes_and_removed_targets() {
    let srv = Server::start().await;
    srv.set("/a", Resp::text("m_a 1\nm_b 2\n"));
    srv.set("/keep", Resp::text("k 1\n"));
    let storage = MemStorage::new();
    let mgr = Manager::new(Arc::new(storage.clone()), ManagerOptions::default());
    mgr.apply_config(&config(srv.addr, &["a", "keep"])).unwrap();
    wait_for(10, "first scrapes", || {
        count_of(&storage, "a", "m_b") >= 1 && count_of(&storage, "keep", "{__name__=\"k\"") >= 1
    })
    .await;

    // m_b disappears from the exposition: it gets a staleness marker, m_a keeps going.
    srv.set("/a", Resp::text("m_a 1\n"));
    wait_for(10, "m_b stale", || last_of(&storage, "a", "m_b").is_some_and(is_stale)).await;
    assert_eq!(last_of(&storage, "a", "m_a"), Some(1.0));

    // A failed scrape makes the previous series stale too.
    srv.set("/a", Resp { status: 500, ..Resp::text("x") });
    wait_for(10, "m_a stale after failure", || last_of(&storage, "a", "m_a").is_some_and(is_stale))
        .await;
    assert_eq!(last_of(&storage, "a", "{__name__=\"up\""), Some(0.0));

    // Reload without job a: its series and report series go stale; keep is not restarted.
    srv.set("/a", Resp::text("m_a 1\n"));
    wait_for(10, "m_a back", || last_of(&storage, "a", "m_a") == Some(1.0)).await;
    let before = mgr.targets().active.iter().find(|t| t.scrape_pool == "keep").unwrap().clone();
    assert_eq!(before.health, Health::Up);
    mgr.apply_config(&config(srv.addr, &["keep"])).unwrap();
    let after = mgr.targets();
    assert_eq!(after.active.len(), 1);
    assert_eq!(after.active[0].health, Health::Up, "unchanged pool keeps its running loop");
    wait_for(10, "a stale after removal", || {
        last_of(&storage, "a", "m_a").is_some_and(is_stale)
            && last_of(&storage, "a", "{__name__=\"up\"").is_some_and(is_stale)
    })
    .await;
    let n = count_of(&storage, "keep", "{__name__=\"k\"");
    wait_for(10, "keep still scraped", || count_of(&storage, "keep", "{__name__=\"k\"") > n).await;

    // An invalid config is rejected and nothing changes.
    let bad = config::parse(
        "scrape_configs:\n- job_name: keep\n  metric_relabel_configs: []\n  tls_config: {ca_file: /nonexistent/ca.pem}\n",
        "bad.yml",
    )
    .unwrap();
    assert!(mgr.apply_config(&bad).is_err());
    assert_eq!(mgr.targets().active[0].health, Health::Up);
    mgr.stop();
}
