//! What the differential tests share: the synthetic data set, the evaluation instants and
//! ranges, and running one query on both sides at all of them.

use crate::compare::{self, Mode, Norm, diff, from_pharos, from_prometheus};
use crate::server;
use promql::{Engine, QueryOptions};
use promqltest::synth::SynthSpec;
use storage::MemStorage;

/// 2023-11-14T22:13:00Z, a multiple of 60 s.
pub const T0: i64 = 1_699_999_980_000;
pub const MIN: i64 = 60_000;

pub fn spec() -> SynthSpec {
    SynthSpec { start_ms: T0, duration_ms: 120 * MIN, interval_ms: 15_000, instances: 2, seed: 42 }
}

/// Instant evaluation times: inside the data, in a gap, just after the end (lookback), and
/// long after the end. All are 7 s past a minute.
pub const INSTANTS: [i64; 5] = [
    T0 + 25 * MIN + 7_000,
    T0 + 61 * MIN + 7_000,
    T0 + 98 * MIN + 7_000,
    T0 + 123 * MIN + 7_000,
    T0 + 150 * MIN + 7_000,
];

/// Range queries: `(start, end, step)`.
pub const RANGES: [(i64, i64, i64); 2] = [
    (T0 + 7_000, T0 + 130 * MIN + 7_000, MIN),
    (T0 + 50 * MIN + 7_000, T0 + 70 * MIN + 7_000, 15_000),
];

pub fn secs(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

pub fn is_empty(n: &Norm) -> bool {
    match n {
        Norm::Error(..) => true,
        Norm::Vector(v) => v.is_empty(),
        Norm::Matrix(m) => m.is_empty(),
        _ => false,
    }
}

/// Counts of one or more queries' evaluations.
#[derive(Default)]
pub struct Tally {
    pub evals: usize,
    pub nonempty: usize,
}

/// Runs `q` as instant queries at [`INSTANTS`] and as range queries over [`RANGES`] on both
/// sides; pushes a line per difference to `failures`.
pub fn check(
    prom: &server::Prometheus,
    engine: &Engine,
    mem: &MemStorage,
    q: &str,
    mode: Mode,
    tally: &mut Tally,
    failures: &mut Vec<String>,
) {
    let opts = QueryOptions::default();
    let enc = server::encode(q);
    for &t in &INSTANTS {
        let (_, body) = prom.get(&format!("/api/v1/query?query={enc}&time={}", secs(t)));
        let p = from_prometheus(&body);
        let x = from_pharos(engine.instant_query(mem, q, t, &opts));
        tally.evals += 1;
        tally.nonempty += usize::from(!is_empty(&p));
        if let Some(d) = diff(&p, &x, mode) {
            failures.push(format!("instant {q} @{}: {d}", secs(t)));
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
        let x = from_pharos(engine.range_query(mem, q, s, e, step, &opts));
        tally.evals += 1;
        tally.nonempty += usize::from(!is_empty(&p));
        let mode = compare::Mode { ordered: false, ..mode };
        if let Some(d) = diff(&p, &x, mode) {
            failures.push(format!("range {q} [{}..{} /{}]: {d}", secs(s), secs(e), step));
        }
    }
}
