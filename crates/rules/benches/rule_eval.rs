//! One evaluation of a group of 1,000 alerting rules over a TSDB of 20,000 series
//! (100 jobs × 50 instances × 4 status codes, one hour of 15 s samples), in order and
//! concurrently. Throughput = rules per second of wall time.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use model::Labels;
use rules::{AlertingRule, EngineQuery, Group, GroupOptions, ManualClock, NullSink, Rule};
use storage::Appendable;

const END: i64 = 1_700_000_000_000;

fn load(db: &tsdb::Db) {
    for job in 0..100 {
        let mut app = db.appender();
        for inst in 0..50 {
            for status in ["200", "404", "500", "503"] {
                let (j, i) = (format!("job{job}"), format!("i{inst}"));
                let l = Labels::new([
                    ("__name__", "http_requests_total"),
                    ("job", &j),
                    ("instance", &i),
                    ("status", status),
                ]);
                for k in 0..240 {
                    app.append(0, &l, END - 3_600_000 + k * 15_000, (k * (inst + 1)) as f64)
                        .unwrap();
                }
            }
        }
        app.commit().unwrap();
    }
}

fn rules() -> Vec<Rule> {
    (0..1000)
        .map(|n| {
            let expr = format!(
                "sum by (instance) (rate(http_requests_total{{job=\"job{}\",status=~\"5..\"}}[5m])) / sum by (instance) (rate(http_requests_total{{job=\"job{}\"}}[5m])) > 0.{}",
                n % 100,
                n % 100,
                n % 9 + 1
            );
            Rule::Alerting(AlertingRule::new(
                &format!("A{n}"),
                &expr,
                300_000,
                0,
                Labels::new([("severity", "page")]),
                Labels::new([("summary", "{{ $labels.instance }} at {{ $value | humanizePercentage }}")]),
                Labels::empty(),
                "http://pharos",
                true,
            ))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(tsdb::Db::open(dir.path(), tsdb::Options::default()).unwrap());
    load(&db);
    let engine = Arc::new(promql::Engine::new(promql::EngineOptions::default()));
    let opts = GroupOptions {
        query: Arc::new(EngineQuery::new(engine, db.clone())),
        appendable: db.clone(),
        queryable: db.clone(),
        sink: Arc::new(NullSink),
        clock: Arc::new(ManualClock::new(END)),
        external_labels: Labels::empty(),
        external_url: String::new(),
        resend_delay_ms: 60_000,
        outage_tolerance_ms: 3_600_000,
        for_grace_period_ms: 600_000,
        default_query_offset_ms: 0,
    };
    let mut g = c.benchmark_group("group_eval_1000_alerting_rules_20k_series");
    g.throughput(Throughput::Elements(1000));
    g.sample_size(10);
    for concurrent in [false, true] {
        let group = Group::new("g", "f", 15_000, 0, None, Labels::empty(), rules(), opts.clone())
            .with_concurrency(concurrent);
        let mut ts = END - 1;
        let name = if concurrent { "concurrent" } else { "in_order" };
        g.bench_function(name, |b| {
            b.iter(|| {
                ts += 15_000;
                group.eval(ts);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
