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
#[path = "differential/harness.rs"]
mod harness;
#[path = "differential/queries.rs"]
mod queries;
#[path = "differential/server.rs"]
mod server;

use compare::{Norm, from_prometheus};
use harness::{Tally, check, spec};
use promql::{Engine, EngineOptions, QueryOptions};
use promqltest::synth::{generate, load_into, write_openmetrics};
use storage::MemStorage;

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

    let all = queries::all();
    let mut failures = Vec::new();
    let mut tally = Tally::default();
    for q in &all {
        check(&prom, &engine, &mem, &q.q, q.mode, &mut tally, &mut failures);
    }
    parse_errors(&prom, &engine, &mem, &mut failures);
    println!(
        "{} queries, {} evaluations ({} non-empty), {} differences",
        all.len(),
        tally.evals,
        tally.nonempty,
        failures.len()
    );
    for f in &failures {
        println!("DIFF {f}");
    }
    // The comparison must not be vacuous: most evaluations return data.
    let (evals, nonempty) = (tally.evals, tally.nonempty);
    assert!(nonempty * 2 > evals, "too few non-empty results: {nonempty}/{evals}");
    assert!(failures.is_empty(), "{} differences from Prometheus", failures.len());
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
            Norm::Error(_, e) => e.trim_start_matches("invalid parameter \"query\": ").to_string(),
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
