//! Side-by-side benchmark helper: generates the deterministic data set of
//! `promqltest::synth` (the same samples `bench/promql-vs-prometheus.sh` backfills into
//! Prometheus), and either writes it as OpenMetrics, evaluates one query, or times range queries
//! against `MemStorage` or, with `--tsdb DIR`, against Pharos' TSDB opened on DIR (e.g. a copy
//! of the blocks `promtool tsdb create-blocks-from openmetrics` wrote from that file).
//!
//! ```text
//! promql_bench [--instances N] [--hours H] [--start-ms T] [--tsdb DIR] write FILE
//! promql_bench [...] query EXPR START_MS END_MS STEP_MS
//! promql_bench [...] time RUNS STEP_MS RANGE_MS QUERY...
//! ```
//! `time` prints one line per query: `median_ms<TAB>min_ms<TAB>series<TAB>query`, with the
//! range ending at the end of the data.

use std::time::Instant;

use promql::{Engine, EngineOptions, QueryOptions, Value};
use promqltest::synth::{SynthSpec, generate, load_into, write_openmetrics};
use storage::{MemStorage, Queryable};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut spec = SynthSpec {
        start_ms: 1_699_999_980_000,
        duration_ms: 2 * 3_600_000,
        interval_ms: 15_000,
        instances: 2,
        seed: 42,
    };
    let mut tsdb_dir: Option<String> = None;
    while args.first().is_some_and(|a| a.starts_with("--")) {
        let flag = args.remove(0);
        let val = if args.is_empty() { String::new() } else { args.remove(0) };
        let num = |v: &str| v.parse::<i64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--instances" => spec.instances = num(&val)? as usize,
            "--hours" => spec.duration_ms = num(&val)? * 3_600_000,
            "--start-ms" => spec.start_ms = num(&val)?,
            "--seed" => spec.seed = num(&val)? as u64,
            "--tsdb" => tsdb_dir = Some(val),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    let data = if tsdb_dir.is_some() && args.first().is_some_and(|a| a != "write") {
        Vec::new()
    } else {
        generate(&spec)
    };
    match args.first().map(String::as_str) {
        Some("write") => {
            let path = args.get(1).ok_or("write FILE")?;
            let mut f = std::fs::File::create(path).map_err(|e| e.to_string())?;
            write_openmetrics(&data, &mut f).map_err(|e| e.to_string())?;
            let samples: usize = data.iter().map(|s| s.1.len()).sum();
            eprintln!("{} series, {samples} samples", data.len());
            Ok(())
        }
        Some("query") => {
            let mem = open(&data, tsdb_dir.as_deref())?;
            let n = |i: usize| -> Result<i64, String> {
                args.get(i).ok_or("query EXPR START END STEP")?.parse().map_err(|e| format!("{e}"))
            };
            let expr = args.get(1).ok_or("query EXPR START END STEP")?;
            let engine = Engine::new(EngineOptions::default());
            let r = engine
                .range_query(&*mem, expr, n(2)?, n(3)?, n(4)?, &QueryOptions::default())
                .map_err(|e| e.to_string())?;
            if let Value::Matrix(m) = r.value {
                for s in m {
                    let pts: Vec<String> =
                        s.samples.iter().map(|p| format!("{}:{}", p.t, p.v)).collect();
                    println!("{} {}", s.labels, pts.join(" "));
                }
            }
            Ok(())
        }
        Some("time") => {
            let mem = open(&data, tsdb_dir.as_deref())?;
            let n = |i: usize| -> Result<i64, String> {
                args.get(i)
                    .ok_or("time RUNS STEP RANGE QUERY...")?
                    .parse()
                    .map_err(|e| format!("{e}"))
            };
            let (runs, step, range) = (n(1)?.max(1) as usize, n(2)?, n(3)?);
            let end = spec.start_ms + spec.duration_ms;
            let engine = Engine::new(EngineOptions::default());
            for q in &args[4..] {
                let mut times = Vec::with_capacity(runs);
                let mut series = 0;
                for _ in 0..runs {
                    let t = Instant::now();
                    let r = engine
                        .range_query(&*mem, q, end - range, end, step, &QueryOptions::default())
                        .map_err(|e| e.to_string())?;
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                    if let Value::Matrix(m) = r.value {
                        series = m.len();
                    }
                }
                times.sort_by(f64::total_cmp);
                println!("{:.3}\t{:.3}\t{series}\t{q}", times[runs / 2], times[0]);
            }
            Ok(())
        }
        _ => Err("usage: promql_bench [flags] write|query|time ...".into()),
    }
}

/// The storage to query: the TSDB in `tsdb_dir`, or `data` loaded into a `MemStorage`.
fn open(
    data: &[promqltest::synth::SynthSeries],
    tsdb_dir: Option<&str>,
) -> Result<Box<dyn Queryable>, String> {
    if let Some(dir) = tsdb_dir {
        let opts = tsdb::Options { retention_ms: 0, ..tsdb::Options::default() };
        let db = tsdb::Db::open(std::path::Path::new(dir), opts).map_err(|e| e.to_string())?;
        return Ok(Box::new(db));
    }
    let mem = MemStorage::new();
    load_into(&mem, data).map_err(|e| e.to_string())?;
    Ok(Box::new(mem))
}
