//! Range-query latency over `MemStorage` holding the synthetic data set of `promqltest::synth`
//! (22 targets: 4,048 series at 15 s over 24 h, 23.3 M samples): `rate`, `sum by`,
//! `histogram_quantile` and a query touching every series, over the last 1 h (15 s step) and
//! the whole 24 h (60 s step). `bench/promql-vs-prometheus.sh` runs the same queries against
//! Prometheus.
//!
//! `PHAROS_BENCH_INSTANCES` / `PHAROS_BENCH_HOURS` shrink the data set for a quick run.

use criterion::{Criterion, criterion_group, criterion_main};
use promql::{Engine, EngineOptions, QueryOptions};
use promqltest::synth::{SynthSpec, generate, load_into};
use storage::MemStorage;

const QUERIES: [(&str, &str); 4] = [
    ("rate", "rate(http_requests_total[5m])"),
    ("sum_by", "sum by (method, status) (rate(http_request_duration_seconds_count[5m]))"),
    (
        "histogram_quantile",
        "histogram_quantile(0.99, sum by (le, method) (rate(http_request_duration_seconds_bucket[5m])))",
    ),
    ("every_series", "count({__name__=~\".+\"})"),
];

fn env_num(name: &str, default: i64) -> i64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn bench(c: &mut Criterion) {
    let hours = env_num("PHAROS_BENCH_HOURS", 24);
    let spec = SynthSpec {
        start_ms: 1_699_999_980_000,
        duration_ms: hours * 3_600_000,
        interval_ms: 15_000,
        instances: env_num("PHAROS_BENCH_INSTANCES", 22) as usize,
        seed: 42,
    };
    let mem = MemStorage::new();
    load_into(&mem, &generate(&spec)).expect("load synthetic data");
    let end = spec.start_ms + spec.duration_ms;
    let engine = Engine::new(EngineOptions::default());
    let opts = QueryOptions::default();
    let ranges = [("1h", 3_600_000, 15_000), ("24h", hours * 3_600_000, 60_000)];
    let mut g = c.benchmark_group("range_query");
    g.sample_size(10);
    for (rname, range, step) in ranges {
        for (qname, q) in QUERIES {
            g.bench_function(format!("{qname}/{rname}"), |b| {
                b.iter(|| {
                    engine.range_query(&mem, q, end - range, end, step, &opts).expect("query")
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
