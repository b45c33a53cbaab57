//! OpenMetrics negotiation, honor_timestamps and honor_labels through the whole pipeline.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{Resp, Server, wait_for};
use scrape::{Health, Manager, ManagerOptions};
use storage::{MemStorage, Queryable};

const OM: &str = "# TYPE req counter\n# UNIT req_seconds seconds\n# TYPE req_seconds gauge\nreq_total{job=\"exposed\",instance=\"i0\"} 5 1700000000.5 # {trace_id=\"t\"} 1 1700000000.1\nreq_seconds 0.5\n# EOF\n";

fn samples(s: &MemStorage, job: &str, name: &str) -> Vec<(model::Labels, Vec<model::Sample>)> {
    let q = s.querier(i64::MIN, i64::MAX).unwrap();
    let m = [model::Matcher::equal("__name__", name)];
    q.select(true, None, &m)
        .unwrap()
        .map(|s| {
            let mut s = s.unwrap();
            (s.labels.clone(), storage::collect_samples(s.samples.as_mut()).unwrap())
        })
        .filter(|(l, _)| {
            l.get("job") == Some(job) || l.get("exported_job").is_some_and(|_| job == "plain")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openmetrics_with_honor_settings() {
    let srv = Server::start().await;
    srv.set(
        "/metrics",
        Resp {
            content_type: "application/openmetrics-text; version=1.0.0; charset=utf-8".into(),
            ..Resp::text(OM)
        },
    );
    let yaml = format!(
        "scrape_configs:\n\
- job_name: plain\n  scrape_interval: 100ms\n  scrape_timeout: 90ms\n  honor_timestamps: false\n  static_configs: [{{targets: ['{a}']}}]\n\
- job_name: honor\n  scrape_interval: 100ms\n  scrape_timeout: 90ms\n  honor_labels: true\n  static_configs: [{{targets: ['{a}']}}]\n",
        a = srv.addr
    );
    let storage = MemStorage::new();
    let mgr = Manager::new(Arc::new(storage.clone()), ManagerOptions::default());
    mgr.apply_config(&config::parse(&yaml, "t").unwrap()).unwrap();
    wait_for(10, "both scraped twice", || {
        ["plain", "exposed"]
            .iter()
            .all(|j| samples(&storage, j, "req_seconds").first().is_some_and(|(_, s)| s.len() >= 2))
            || (samples(&storage, "plain", "req_seconds")
                .first()
                .is_some_and(|(_, s)| s.len() >= 2)
                && mgr.targets().active.iter().all(|t| t.health == Health::Up))
    })
    .await;
    assert!(mgr.targets().active.iter().all(|t| t.health == Health::Up), "{:?}", mgr.targets());

    // honor_labels: false -> exposed job/instance become exported_*, timestamps ignored.
    let plain = samples(&storage, "plain", "req_total");
    let (labels, s) = plain.iter().find(|(l, _)| l.get("job") == Some("plain")).unwrap();
    assert_eq!(labels.get("exported_job"), Some("exposed"));
    assert_eq!(labels.get("exported_instance"), Some("i0"));
    assert_eq!(labels.get("instance"), Some(srv.addr.to_string().as_str()));
    assert!(
        s.iter().all(|x| x.t != 1_700_000_000_500),
        "honor_timestamps: false uses the scrape time"
    );

    // honor_labels: true -> exposed labels win; honor_timestamps (default) keeps the sample's time.
    let honored = samples(&storage, "exposed", "req_total");
    let (labels, s) = &honored[0];
    assert_eq!(labels.get("instance"), Some("i0"));
    assert_eq!(labels.get("exported_job"), None);
    assert_eq!(s[0], model::Sample::new(1_700_000_000_500, 5.0));
    let md = mgr.metadata();
    assert_eq!(md["req_seconds"][0].unit, "seconds");
    assert_eq!(md["req"][0].metric_type, scrape::MetricType::Counter);
    mgr.stop();
}
