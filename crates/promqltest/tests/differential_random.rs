//! Randomized differential test against the real Prometheus: queries from a seeded generator
//! (`differential/random.rs`) over the data of `differential.rs`, run as instant and range
//! queries on both sides and compared exactly (with the fixed queries' tolerances for float
//! sums and Go's math functions).
//!
//! CI runs a fixed set of seeds. More by hand: `PHAROS_DIFF_SEEDS=1-200` (a list `1,5,9` or a
//! range) and `PHAROS_DIFF_QUERIES=<per seed>`; a failing query is printed with its seed and can
//! then go to the fixed list in `differential/queries.rs`. `PHAROS_DIFF_QUERY=<query>` runs just
//! that query; `PHAROS_DIFF_PRINT=1` prints every query.
//!
//! Skips (printing "skipped: ...") when prometheus/promtool are missing, unless
//! `PHAROS_REQUIRE_EXTERNAL=1`.

#[path = "differential/compare.rs"]
mod compare;
#[path = "differential/harness.rs"]
mod harness;
#[path = "differential/random.rs"]
mod random;
#[path = "differential/remote_write.rs"]
mod remote_write;
#[path = "differential/server.rs"]
mod server;

use harness::{Tally, check, spec};
use promql::{Engine, EngineOptions};
use promqltest::synth::{generate, load_into, write_openmetrics};
use storage::MemStorage;

/// The seeds CI runs, and queries per seed.
const SEEDS: [u64; 3] = [1, 2, 3];
const QUERIES_PER_SEED: usize = 150;

fn seeds() -> Vec<u64> {
    let Ok(s) = std::env::var("PHAROS_DIFF_SEEDS") else { return SEEDS.to_vec() };
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u64, u64) = (a.parse().expect("seed"), b.parse().expect("seed"));
                out.extend(a..=b);
            }
            None => out.push(part.parse().expect("seed")),
        }
    }
    out
}

fn queries_per_seed() -> usize {
    std::env::var("PHAROS_DIFF_QUERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(QUERIES_PER_SEED)
}

#[test]
fn random_queries_match_prometheus() {
    let Some((prom_bin, tool_bin)) = server::binaries() else { return };
    let data = generate(&spec());
    let mut om = Vec::new();
    write_openmetrics(&data, &mut om).expect("openmetrics");
    let mem = MemStorage::new();
    load_into(&mem, &data).expect("load into MemStorage");
    let prom = server::Prometheus::start(&prom_bin, &tool_bin, &om);
    run(&prom, &mem, queries_per_seed());
}

/// The same queries over the data with staleness markers, written through remote write.
#[test]
fn random_queries_over_stale_markers_match_prometheus() {
    let Some((prom_bin, _)) = server::binaries() else { return };
    let data = remote_write::with_stale_markers(&generate(&spec()), spec().interval_ms);
    let mem = MemStorage::new();
    load_into(&mem, &data).expect("load into MemStorage");
    let prom = server::Prometheus::start_receiver(&prom_bin);
    for body in remote_write::requests(&data, 10 * 60_000) {
        let (status, text) = prom.post_remote_write(&body);
        assert!((200..300).contains(&status), "remote write: {status} {text}");
    }
    // The markers are there: a series that stopped (about 1700004286) is gone before the
    // lookback would drop it.
    let (_, body) = prom.get("/api/v1/query?query=count(batch_last_success)&time=1700004380");
    assert!(body.contains("\"result\":[]"), "staleness not applied: {body}");
    run(&prom, &mem, queries_per_seed() / 2);
}

fn run(prom: &server::Prometheus, mem: &MemStorage, n: usize) {
    let engine = Engine::new(EngineOptions::default());
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    let mut known = Vec::new();
    let mut queries = 0;
    // PHAROS_DIFF_QUERY runs one query instead (to look at a difference).
    let single = std::env::var("PHAROS_DIFF_QUERY").ok();
    let seeds = if single.is_some() { vec![0] } else { seeds() };
    for seed in seeds {
        let mut g = random::Gen::new(seed);
        for i in 0..if single.is_some() { 1 } else { n } {
            let q = single.clone().unwrap_or_else(|| g.query());
            if std::env::var("PHAROS_DIFF_PRINT").is_ok() {
                println!("seed {seed} #{i}: {q}");
            }
            let mut found = Vec::new();
            check(prom, &engine, mem, &q, random::mode_for(&q), &mut tally, &mut found);
            for f in found {
                match random::known_deviation(&q, &f) {
                    Some(why) => known.push(format!("seed {seed} #{i}: {f} ({why})")),
                    None => failures.push(format!("seed {seed} #{i}: {f}")),
                }
            }
            queries += 1;
        }
    }
    println!(
        "{queries} random queries, {} evaluations ({} non-empty), {} differences, {} known \
         deviations (Prometheus 3 semantics)",
        tally.evals,
        tally.nonempty,
        failures.len(),
        known.len()
    );
    for k in &known {
        println!("KNOWN {k}");
    }
    for f in &failures {
        println!("DIFF {f}");
    }
    // The comparison must not be vacuous: a good share of evaluations return data.
    assert!(
        tally.nonempty * 5 > tally.evals * 2,
        "too few non-empty results: {}/{}",
        tally.nonempty,
        tally.evals
    );
    assert!(failures.is_empty(), "{} differences from Prometheus", failures.len());
}
