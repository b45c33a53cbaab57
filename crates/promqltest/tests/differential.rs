//! Differential test against the real Prometheus: the same deterministic data
//! ([`promqltest::synth`]) is backfilled into Prometheus with promtool and loaded into
//! `MemStorage`; every query of `differential/queries.rs` runs as instant queries at several
//! times and as range queries over Prometheus' HTTP API and Pharos' engine, and the results must
//! be equal (label sets, timestamps and values as Prometheus prints them).
//!
//! Skips (printing "skipped: ...") when prometheus/promtool are missing, unless
//! `PHAROS_REQUIRE_EXTERNAL=1`.

#[path = "differential/compare.rs"]
mod compare;
#[path = "differential/queries.rs"]
mod queries;
#[path = "differential/server.rs"]
mod server;

use compare::{Norm, diff, from_pharos, from_prometheus};
use promql::{Engine, EngineOptions, QueryOptions};
use promqltest::synth::{SynthSpec, generate, load_into, write_openmetrics};
use storage::MemStorage;

/// 2023-11-14T22:13:00Z, a multiple of 60 s.
const T0: i64 = 1_699_999_980_000;
const MIN: i64 = 60_000;

fn spec() -> SynthSpec {
    SynthSpec { start_ms: T0, duration_ms: 120 * MIN, interval_ms: 15_000, instances: 2, seed: 42 }
}

/// Instant evaluation times: inside the data, in a gap, just after the end (lookback), and
/// long after the end. All are 7 s past a minute.
const INSTANTS: [i64; 5] = [
    T0 + 25 * MIN + 7_000,
    T0 + 61 * MIN + 7_000,
    T0 + 98 * MIN + 7_000,
    T0 + 123 * MIN + 7_000,
    T0 + 150 * MIN + 7_000,
];

/// Range queries: `(start, end, step)`.
const RANGES: [(i64, i64, i64); 2] = [
    (T0 + 7_000, T0 + 130 * MIN + 7_000, MIN),
    (T0 + 50 * MIN + 7_000, T0 + 70 * MIN + 7_000, 15_000),
];

fn secs(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

#[test]
fn pharos_matches_prometheus() {
    let Some((prom_bin, tool_bin)) = server::binaries() else { return };
    let data = generate(&spec());
    let mut om = Vec::new();
    write_openmetrics(&data, &mut om).expect("openmetrics");
    if let Ok(path) = std::env::var("PHAROS_DIFF_DUMP") {
        // For debugging a difference by hand against `promtool`/`prometheus`.
        std::fs::write(path, &om).expect("dump openmetrics");
    }
    let mem = MemStorage::new();
    load_into(&mem, &data).expect("load into MemStorage");
    let prom = server::Prometheus::start(&prom_bin, &tool_bin, &om);
    let engine = Engine::new(EngineOptions::default());
    let opts = QueryOptions::default();

    let all = queries::all();
    let mut failures = Vec::new();
    let (mut evals, mut nonempty) = (0usize, 0usize);
    for q in &all {
        let enc = server::encode(&q.q);
        for &t in &INSTANTS {
            let (_, body) = prom.get(&format!("/api/v1/query?query={enc}&time={}", secs(t)));
            let p = from_prometheus(&body);
            let x = from_pharos(engine.instant_query(&mem, &q.q, t, &opts));
            evals += 1;
            nonempty += usize::from(!is_empty(&p));
            if let Some(d) = diff(&p, &x, q.mode) {
                failures.push(format!("instant {} @{}: {d}", q.q, secs(t)));
            }
        }
        for &(s, e, step) in &RANGES {
            let path = format!(
                "/api/v1/query_range?query={enc}&start={}&end={}&step={}",
                secs(s),
                secs(e),
                secs(step)
            );
            let (_, body) = prom.get(&path);
            let p = from_prometheus(&body);
            let x = from_pharos(engine.range_query(&mem, &q.q, s, e, step, &opts));
            evals += 1;
            nonempty += usize::from(!is_empty(&p));
            let mode = compare::Mode { ordered: false, ..q.mode };
            if let Some(d) = diff(&p, &x, mode) {
                failures.push(format!("range {} [{}..{} /{}]: {d}", q.q, secs(s), secs(e), step));
            }
        }
    }
    parse_errors(&prom, &engine, &mem, &mut failures);
    println!(
        "{} queries, {evals} evaluations ({nonempty} non-empty), {} differences",
        all.len(),
        failures.len()
    );
    for f in &failures {
        println!("DIFF {f}");
    }
    // The comparison must not be vacuous: most evaluations return data.
    assert!(nonempty * 2 > evals, "too few non-empty results: {nonempty}/{evals}");
    assert!(failures.is_empty(), "{} differences from Prometheus", failures.len());
}

fn is_empty(n: &Norm) -> bool {
    match n {
        Norm::Error(_) => true,
        Norm::Vector(v) => v.is_empty(),
        Norm::Matrix(m) => m.is_empty(),
        _ => false,
    }
}

/// Syntax errors whose message and position Pharos reproduces exactly.
const BAD_QUERIES: &[&str] = &[
    "foo{",
    "sum(foo",
    "foo{a=\"b\"",
    "foo offset",
    "{}",
    "\"a\" + 1",
    "foo and 1",
    "label_replace(foo)",
    ")",
    "foo[5m] + 1",
    "1 == 1",
    "rate(foo)",
    "unknownfn(foo)",
    "sum(rate(foo[5m])) by (job",
    "histogram_quantile(0.9)",
    "abs(foo[5m])",
    "rate(foo[5m]",
    "sum by (job) rate(foo[5m])",
    "sum(foo) by job",
    "sum without job (foo)",
    "foo{job=a}",
    "foo{job~\"a\"}",
    "foo !~ bar",
    "foo[5m",
    "foo @ bar",
    "quantile(foo)",
    "foo bool 1",
    "foo + bool bar",
    "foo == bool",
    "avg_over_time(foo)",
    "1 +",
    "rate(foo[5m]) [5m]",
    "foo[5m] offset 1m [1m]",
    "foo{job=\"a\"}{job=\"b\"}",
    "sum(foo,)",
    "-",
];

fn parse_errors(
    prom: &server::Prometheus,
    engine: &Engine,
    mem: &MemStorage,
    failures: &mut Vec<String>,
) {
    for q in BAD_QUERIES {
        let (_, body) = prom.get(&format!("/api/v1/query?query={}&time=1", server::encode(q)));
        let want = match from_prometheus(&body) {
            Norm::Error(e) => e.trim_start_matches("invalid parameter \"query\": ").to_string(),
            other => format!("no error: {other:?}"),
        };
        let got = match engine.instant_query(mem, q, 1000, &QueryOptions::default()) {
            Err(e) => e.to_string(),
            Ok(_) => "no error".into(),
        };
        if got != want {
            failures.push(format!("parse error for {q:?}: prometheus {want:?} vs pharos {got:?}"));
        }
    }
}
