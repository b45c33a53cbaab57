//! Bad targets: each failing scrape is discarded as a whole, `up` is 0, the target shows the
//! error, and the good target next to them is unaffected.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{Resp, Server, series_of, wait_for};
use scrape::{Health, Manager, ManagerOptions};
use storage::MemStorage;

const GOOD: &str = "# TYPE good_total counter\n# HELP good_total A good counter.\ngood_total{a=\"1\"} 1\ngood_total{a=\"2\"} 2\n";

fn job(name: &str, path: &str, addr: std::net::SocketAddr, extra: &str) -> String {
    format!(
        "- job_name: {name}\n  scrape_interval: 200ms\n  scrape_timeout: 150ms\n  metrics_path: {path}\n{extra}  static_configs: [{{targets: ['{addr}']}}]\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bad_scrape_is_discarded_and_reported() {
    let srv = Server::start().await;
    let a = srv.addr;
    srv.set("/good", Resp { gzip: true, ..Resp::text(GOOD) });
    srv.set("/garbage", Resp::text("good_total 1\nthis is not { a metric\n"));
    srv.set("/truncated", Resp { declared_len: Some(500), ..Resp::text("good_total 1\ngood_") });
    srv.set("/dup", Resp::text("good_total 1\nother 2\ngood_total 3\n"));
    srv.set("/badname", Resp::text("good_total 1\n{\"bad.name\"} 1\n"));
    srv.set("/badlabel", Resp::text("good_total 1\nx{a-b=\"1\"} 1\n"));
    srv.set("/e500", Resp { status: 500, ..Resp::text("boom\n") });
    srv.set("/big", Resp::text(&"big_metric_with_a_long_name 1\n".repeat(100)));
    srv.set("/many", Resp::text("m1 1\nm2 2\nm3 3\nm4 4\n"));
    let mut yaml = String::from("scrape_configs:\n");
    yaml += &job("good", "/good", a, "");
    yaml += &job("garbage", "/garbage", a, "");
    yaml += &job("truncated", "/truncated", a, "");
    yaml += &job("dup", "/dup", a, "");
    yaml += &job("badname", "/badname", a, "");
    yaml += &job("badlabel", "/badlabel", a, "");
    yaml += &job("e500", "/e500", a, "");
    yaml += &job("big", "/big", a, "  body_size_limit: 1KB\n");
    yaml += &job("many", "/many", a, "  sample_limit: 3\n");
    let cfg = config::parse(&yaml, "t.yml").unwrap();
    let storage = MemStorage::new();
    let mgr = Manager::new(Arc::new(storage.clone()), ManagerOptions::default());
    mgr.apply_config(&cfg).unwrap();
    wait_for(10, "every target scraped twice", || {
        let t = mgr.targets();
        t.active.len() == 9
            && t.active.iter().all(|t| t.health != Health::Unknown)
            && ["good", "many"].iter().all(|j| {
                series_of(&storage, j).iter().any(|(l, v)| l.contains("\"up\"") && v.len() >= 2)
            })
    })
    .await;
    let targets = mgr.targets();
    let err_of = |job: &str| {
        targets.active.iter().find(|t| t.scrape_pool == job).unwrap().last_error.clone()
    };
    for (job, needle) in [
        ("garbage", "line 2"),
        ("truncated", ""),
        ("badname", "invalid metric name"),
        ("badlabel", "expected equal"),
        ("e500", "server returned HTTP status 500"),
        ("big", "body size limit exceeded"),
        ("many", "sample limit exceeded"),
    ] {
        let t = targets.active.iter().find(|t| t.scrape_pool == job).unwrap();
        assert_eq!(t.health, Health::Down, "{job}");
        assert!(
            !t.last_error.is_empty() && t.last_error.contains(needle),
            "{job}: {:?}",
            err_of(job)
        );
        let series = series_of(&storage, job);
        let names: Vec<&str> = series.iter().map(|(l, _)| l.as_str()).collect();
        assert!(
            names.iter().all(|l| l.contains("scrape_") || l.contains("\"up\"")),
            "{job}: scraped data leaked: {names:?}"
        );
        let up = series.iter().find(|(l, _)| l.starts_with("{__name__=\"up\"")).unwrap();
        assert!(up.1.iter().all(|v| *v == 0.0), "{job}: up {:?}", up.1);
        let scraped = series.iter().find(|(l, _)| l.contains("scrape_samples_scraped")).unwrap();
        assert!(scraped.1.iter().all(|v| *v == 0.0), "{job}");
    }
    // A series twice in one scrape: Prometheus 2.42 keeps the first sample and the scrape is up.
    let dup = targets.active.iter().find(|t| t.scrape_pool == "dup").unwrap();
    assert_eq!((dup.health, dup.last_error.as_str()), (Health::Up, ""));
    let series = series_of(&storage, "dup");
    let total = series.iter().find(|(l, _)| l.contains("good_total")).unwrap();
    assert!(total.1.iter().all(|v| *v == 1.0), "{total:?}");
    assert!(series.iter().any(|(l, _)| l.contains("\"other\"")));
    let good = targets.active.iter().find(|t| t.scrape_pool == "good").unwrap();
    assert_eq!(good.health, Health::Up);
    assert_eq!(good.last_error, "");
    let series = series_of(&storage, "good");
    let up = series.iter().find(|(l, _)| l.starts_with("{__name__=\"up\"")).unwrap();
    assert!(up.1.iter().all(|v| *v == 1.0));
    let counter =
        series.iter().find(|(l, _)| l.contains("good_total") && l.contains("a=\"2\"")).unwrap();
    assert!(counter.0.contains(&format!("instance=\"{a}\"")) && counter.0.contains("job=\"good\""));
    assert!(counter.1.iter().all(|v| *v == 2.0));
    let added = series.iter().find(|(l, _)| l.contains("scrape_series_added")).unwrap();
    assert_eq!(added.1[0], 2.0, "first scrape adds both series");
    assert_eq!(added.1[1], 0.0, "later scrapes use the cache");
    let md = mgr.metadata();
    assert_eq!(md["good_total"][0].help, "A good counter.");
    assert_eq!(md["good_total"][0].metric_type, scrape::MetricType::Counter);
    let reqs = srv.requests.lock().clone();
    let r = reqs.iter().find(|r| r.contains("/good")).unwrap().to_ascii_lowercase();
    assert!(r.contains("accept: application/openmetrics-text;version=1.0.0"), "{r}");
    assert!(r.contains("accept-encoding: gzip"), "{r}");
    assert!(r.contains("x-prometheus-scrape-timeout-seconds: 0.15"), "{r}");
    mgr.stop();
}
