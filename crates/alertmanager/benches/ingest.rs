//! Alert ingest throughput with 20k aggregation groups (issue target: >= 100k alerts/s),
//! in memory and with durable state; plus the first-time creation of the 20k groups.

use std::sync::Arc;

use alertmanager::{Alertmanager, Config, ManualClock, Options, PostableAlert};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use model::Labels;

const GROUPS: usize = 20_000;
const PER_GROUP: usize = 5;
const BATCH: usize = 10_000;

const CONFIG: &str = r#"
route:
  receiver: hook
  group_by: [alertname, cluster]
  routes:
  - matchers: ['severity="page"']
    receiver: pager
    continue: true
receivers:
- name: hook
  webhook_configs:
  - url: http://127.0.0.1:9/
- name: pager
  webhook_configs:
  - url: http://127.0.0.1:9/
inhibit_rules:
- source_matchers: ['severity="critical"']
  target_matchers: ['severity="warning"']
  equal: [cluster]
"#;

fn alerts() -> Vec<PostableAlert> {
    let mut out = Vec::with_capacity(GROUPS * PER_GROUP);
    for g in 0..GROUPS {
        for i in 0..PER_GROUP {
            let name = format!("Alert{}", g % 100);
            let cluster = format!("c{}", g / 100);
            let instance = format!("host-{i}:9100");
            let severity = if i == 0 { "page" } else { "warning" };
            out.push(PostableAlert {
                labels: Labels::new([
                    ("alertname", name.as_str()),
                    ("cluster", cluster.as_str()),
                    ("instance", instance.as_str()),
                    ("job", "node"),
                    ("severity", severity),
                ]),
                annotations: Labels::new([
                    ("summary", "disk almost full"),
                    ("runbook", "https://runbooks/disk"),
                ]),
                generator_url: "http://prometheus:9090/graph?g0.expr=x".into(),
                ..Default::default()
            });
        }
    }
    out
}

fn manager(dir: Option<&std::path::Path>) -> Alertmanager {
    let cfg = Config::parse(CONFIG, "bench.yml").expect("config");
    let opts = Options { storage_dir: dir.map(|d| d.to_path_buf()), ..Options::default() };
    Alertmanager::new(cfg, opts, Arc::new(ManualClock::new(1_800_000_000_000)))
        .expect("alertmanager")
}

/// Resident set size from /proc (0 where unavailable).
fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<usize>().ok()))
        .map_or(0, |pages| pages * 4096)
}

fn bench(c: &mut Criterion) {
    let all = alerts();
    let mut g = c.benchmark_group("ingest_20k_groups");
    g.sample_size(10);
    g.throughput(Throughput::Elements(BATCH as u64));
    let batches: Vec<Vec<PostableAlert>> =
        all.chunks(BATCH).map(<[PostableAlert]>::to_vec).collect();

    let before = rss_bytes();
    let mut am = manager(None);
    am.push(all.clone());
    let (alerts, groups) = am.counts();
    let per_group = (rss_bytes().saturating_sub(before)) / groups.max(1);
    eprintln!(
        "{alerts} alerts in {groups} groups: ~{per_group} bytes RSS per group including its alerts"
    );
    let mut i = 0;
    g.bench_function("memory_resend", |b| {
        b.iter_batched(
            || {
                i += 1;
                batches[i % batches.len()].clone()
            },
            |batch| am.push(batch),
            BatchSize::LargeInput,
        )
    });

    let dir = tempfile::tempdir().expect("tempdir");
    let mut durable = manager(Some(dir.path()));
    durable.push(all.clone());
    let mut j = 0;
    g.bench_function("durable_resend", |b| {
        b.iter_batched(
            || {
                j += 1;
                batches[j % batches.len()].clone()
            },
            |batch| durable.push(batch),
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("create_20k_groups");
    g.sample_size(10);
    g.throughput(Throughput::Elements((GROUPS * PER_GROUP) as u64));
    g.bench_function("memory", |b| {
        b.iter_batched(
            || (manager(None), all.clone()),
            |(mut am, a)| am.push(a),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
