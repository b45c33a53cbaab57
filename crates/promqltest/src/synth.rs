//! Deterministic synthetic monitoring data (counters with resets, gauges with negative and
//! decimal values, a classic histogram, gaps, a series that stops, NaN/Inf values), written as
//! OpenMetrics text for `promtool tsdb create-blocks-from openmetrics` and loadable into any
//! [`storage::Appendable`], so the same samples can be given to Prometheus and to Pharos.
//!
//! Every target (instance) is scraped every `interval_ms` at a fixed offset in the interval plus
//! up to 200 ms of jitter. With the default 15 s interval, sample timestamps are never congruent
//! to 0 s or 7 s modulo 15 s, so evaluation times at `7 s (mod 15 s)` and subquery steps at
//! multiples of 15 s never coincide with a sample (range-window boundaries then cannot differ
//! between closed and left-open windows).
//!
//! Counters start far from zero (as long-running processes' counters do): Prometheus 3 changed
//! the order of the zero-point and threshold checks of `rate`'s extrapolation for series starting
//! inside the window, which only matters when a counter's first value is small.

use std::io::Write;

use model::Labels;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthSpec {
    /// First scrape interval start (ms); should be a multiple of `interval_ms`.
    pub start_ms: i64,
    pub duration_ms: i64,
    pub interval_ms: i64,
    /// Number of scrape targets; each has 16 plain series and 168 histogram series.
    pub instances: usize,
    pub seed: u64,
}

/// One generated series: labels and `(t_ms, value)` in time order.
pub type SynthSeries = (Labels, Vec<(i64, f64)>);

/// splitmix64: tiny, deterministic, good enough for test data.
pub struct Rng(u64);

impl Rng {
    /// A generator whose state starts at `state`.
    pub fn new(state: u64) -> Rng {
        Rng(state)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Below `n` (0 for `n` 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Offsets within a 15 s interval that keep clear of 0 s and 7 s (plus jitter < 600 ms).
const OFFSETS_MS: [i64; 12] =
    [1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 8_000, 9_000, 10_000, 11_000, 12_000, 13_000];

const BUCKETS: [(&str, f64); 12] = [
    ("0.005", 0.005),
    ("0.01", 0.01),
    ("0.025", 0.025),
    ("0.05", 0.05),
    ("0.1", 0.1),
    ("0.25", 0.25),
    ("0.5", 0.5),
    ("1", 1.0),
    ("2.5", 2.5),
    ("5", 5.0),
    ("10", 10.0),
    ("+Inf", f64::INFINITY),
];

/// Generates the whole data set, deterministically from `spec`.
pub fn generate(spec: &SynthSpec) -> Vec<SynthSeries> {
    let mut rng = Rng::new(spec.seed);
    let steps = (spec.duration_ms / spec.interval_ms.max(1)).max(0) as usize;
    let mut out = Vec::new();
    for i in 0..spec.instances {
        let inst = format!("host-{i}:9100");
        let off = OFFSETS_MS[i % OFFSETS_MS.len()] + (i as i64 * 37) % 400;
        let ts: Vec<i64> = (0..steps)
            .map(|k| {
                let t = spec.start_ms + k as i64 * spec.interval_ms + off + rng.below(200) as i64;
                go_openmetrics_ms(t)
            })
            .collect();
        target_series(&mut rng, &inst, i, &ts, &mut out);
        histogram_series(&mut rng, &inst, &ts, &mut out);
    }
    weird_series(&mut rng, spec, &mut out);
    out
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs.iter().copied())
}

/// Plain counters and gauges of one target.
fn target_series(rng: &mut Rng, inst: &str, i: usize, ts: &[i64], out: &mut Vec<SynthSeries>) {
    let n = ts.len();
    for (mi, method) in ["GET", "POST"].iter().enumerate() {
        for (ci, code) in ["200", "404", "500"].iter().enumerate() {
            let l = labels(&[
                ("__name__", "http_requests_total"),
                ("job", "api"),
                ("instance", inst),
                ("method", method),
                ("code", code),
            ]);
            let scale = [40, 5, 2][ci] as u64;
            let reset_at =
                if (i + mi + ci).is_multiple_of(3) { Some(n / 3 + ci * 7) } else { None };
            let mut v = 10_000.0 + rng.below(100_000) as f64;
            let pts = (0..n)
                .map(|k| {
                    if Some(k) == reset_at {
                        v = rng.below(3) as f64;
                    } else {
                        v += rng.below(scale + 1) as f64;
                    }
                    (ts[k], v)
                })
                .collect();
            out.push((l, pts));
        }
    }
    let mut cpu = 100.0 + rng.f64() * 100.0;
    let cpu_pts = ts
        .iter()
        .map(|&t| {
            cpu += (rng.below(1500) as f64) / 1000.0;
            (t, cpu)
        })
        .collect();
    out.push((
        labels(&[("__name__", "process_cpu_seconds_total"), ("job", "api"), ("instance", inst)]),
        cpu_pts,
    ));
    for sensor in ["s0", "s1", "s2"] {
        let mut temp = -20.0 + rng.below(60) as f64;
        let pts = ts
            .iter()
            .map(|&t| {
                temp += (rng.below(201) as f64 - 100.0) / 100.0;
                (t, (temp * 100.0).round() / 100.0)
            })
            .collect();
        let l = labels(&[
            ("__name__", "node_temperature_celsius"),
            ("instance", inst),
            ("sensor", sensor),
        ]);
        out.push((l, pts));
    }
    let load = ts.iter().map(|&t| (t, rng.f64() * 4.0)).collect();
    out.push((labels(&[("__name__", "node_load1"), ("instance", inst)]), load));
    for queue in ["a", "b"] {
        let mut q: f64 = 0.0;
        let pts = ts
            .iter()
            .map(|&t| {
                q += rng.below(7) as f64 - 3.0;
                (t, q)
            })
            .collect();
        let l = labels(&[("__name__", "queue_depth"), ("instance", inst), ("queue", queue)]);
        out.push((l, pts));
    }
    // 10-minute gaps (longer than the lookback delta) and single missed scrapes.
    let flaky = ts
        .iter()
        .enumerate()
        .filter(|(k, _)| (k / 40) % 3 != 1 && k % 7 != 3)
        .map(|(_, &t)| (t, rng.below(100) as f64 / 4.0))
        .collect();
    out.push((labels(&[("__name__", "flaky_gauge"), ("instance", inst)]), flaky));
    // Stops at 60% of the range.
    let stop = n * 3 / 5;
    let batch = ts[..stop].iter().map(|&t| (t, (t / 60_000 * 60) as f64)).collect();
    let l = labels(&[("__name__", "batch_last_success"), ("job", "batch"), ("instance", inst)]);
    out.push((l, batch));
    let up = ts.iter().map(|&t| (t, if rng.below(20) == 0 { 0.0 } else { 1.0 })).collect();
    out.push((labels(&[("__name__", "up"), ("job", "api"), ("instance", inst)]), up));
}

/// `http_request_duration_seconds` as a classic histogram (buckets, sum, count).
fn histogram_series(rng: &mut Rng, inst: &str, ts: &[i64], out: &mut Vec<SynthSeries>) {
    for method in ["GET", "POST"] {
        for path in ["/", "/api/v1/users", "/login"] {
            for status in ["200", "500"] {
                let mut counts = [0f64; BUCKETS.len()];
                let mut sum = 0.0;
                let mut pts: Vec<Vec<(i64, f64)>> =
                    (0..14).map(|_| Vec::with_capacity(ts.len())).collect();
                // Observations before the first scrape: counters start far from zero.
                let mut pending = 500 + rng.below(500);
                for &t in ts {
                    let obs = rng.below(if status == "200" { 20 } else { 4 }) + pending;
                    pending = 0;
                    for _ in 0..obs {
                        let x = (rng.f64() * rng.f64() * 6.0 * 1000.0).round() / 1000.0;
                        sum += x;
                        for (b, (_, le)) in BUCKETS.iter().enumerate() {
                            if x <= *le {
                                counts[b] += 1.0;
                            }
                        }
                    }
                    for b in 0..BUCKETS.len() {
                        pts[b].push((t, counts[b]));
                    }
                    pts[12].push((t, sum));
                    pts[13].push((t, counts[BUCKETS.len() - 1]));
                }
                let base = [("job", "api"), ("instance", inst), ("method", method)];
                let rest = [("path", path), ("status", status)];
                for (b, p) in pts.into_iter().enumerate() {
                    let mut l: Vec<(&str, &str)> =
                        base.iter().chain(rest.iter()).copied().collect();
                    match b {
                        12 => l.push(("__name__", "http_request_duration_seconds_sum")),
                        13 => l.push(("__name__", "http_request_duration_seconds_count")),
                        _ => {
                            l.push(("__name__", "http_request_duration_seconds_bucket"));
                            l.push(("le", BUCKETS[b].0));
                        }
                    }
                    out.push((labels(&l), p));
                }
            }
        }
    }
}

/// NaN and infinite values, and label values needing escapes.
fn weird_series(rng: &mut Rng, spec: &SynthSpec, out: &mut Vec<SynthSeries>) {
    let steps = (spec.duration_ms / spec.interval_ms.max(1)).max(0);
    let ts: Vec<i64> = (0..steps)
        .map(|k| go_openmetrics_ms(spec.start_ms + k * spec.interval_ms + 4_321))
        .collect();
    type Shape = fn(usize, f64) -> f64;
    let kinds: [(&str, Shape); 3] = [
        ("nan", |k, x| if k % 5 == 0 { f64::NAN } else { x }),
        ("inf", |k, x| {
            if k % 9 == 0 {
                f64::INFINITY
            } else if k % 11 == 0 {
                f64::NEG_INFINITY
            } else {
                x
            }
        }),
        ("tiny", |_, x| x * 1e-9),
    ];
    for (kind, f) in kinds {
        let pts = ts.iter().enumerate().map(|(k, &t)| (t, f(k, rng.f64() * 10.0 - 5.0))).collect();
        let l = labels(&[
            ("__name__", "weird_values"),
            ("kind", kind),
            ("note", "quote \" backslash \\ é"),
        ]);
        out.push((l, pts));
    }
}

/// The millisecond timestamp Prometheus' OpenMetrics parser derives from the seconds string
/// [`write_openmetrics`] writes for `t` (Go truncates `seconds * 1000`).
pub fn go_openmetrics_ms(t: i64) -> i64 {
    let secs: f64 = secs_string(t).parse().unwrap_or(0.0);
    (secs * 1000.0) as i64
}

fn secs_string(t: i64) -> String {
    format!("{}.{:03}", t.div_euclid(1000), t.rem_euclid(1000))
}

/// A float as OpenMetrics writes it (shortest round-trip, `NaN`, `+Inf`, `-Inf`).
fn om_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{v}")
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Writes `series` as OpenMetrics text (no metadata; timestamps in seconds) ending in `# EOF`.
pub fn write_openmetrics(series: &[SynthSeries], w: &mut dyn Write) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(w);
    for (l, pts) in series {
        let name = l.metric_name().unwrap_or("");
        let rest: Vec<String> = l
            .iter()
            .filter(|x| &*x.name != model::METRIC_NAME)
            .map(|x| format!("{}=\"{}\"", x.name, escape(&x.value)))
            .collect();
        let prefix = format!("{name}{{{}}}", rest.join(","));
        for (t, v) in pts {
            writeln!(w, "{prefix} {} {}", om_float(*v), secs_string(*t))?;
        }
    }
    writeln!(w, "# EOF")?;
    w.flush()
}

/// Appends `series` to `storage`, one batch per series.
pub fn load_into(
    storage: &dyn storage::Appendable,
    series: &[SynthSeries],
) -> Result<(), crate::Error> {
    for s in series {
        crate::append_series(storage, std::slice::from_ref(s))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SynthSpec {
        SynthSpec {
            start_ms: 1_699_999_980_000,
            duration_ms: 600_000,
            interval_ms: 15_000,
            instances: 2,
            seed: 7,
        }
    }

    #[test]
    fn generation_is_deterministic_and_off_grid() {
        let a = generate(&spec());
        let b = generate(&spec());
        assert_eq!(a.len(), b.len());
        assert_eq!(a.len(), 2 * (16 + 168) + 3);
        for ((la, pa), (lb, pb)) in a.iter().zip(&b) {
            assert_eq!(la, lb);
            assert_eq!(pa.len(), pb.len());
            for (x, y) in pa.iter().zip(pb) {
                assert_eq!(x.0, y.0);
                assert_eq!(x.1.to_bits(), y.1.to_bits());
            }
            for (t, _) in pa {
                assert_ne!(t.rem_euclid(15_000), 0);
                assert_ne!(t.rem_euclid(15_000), 7_000);
            }
        }
    }

    #[test]
    fn openmetrics_text_round_trips_timestamps_and_values() {
        let s = vec![(
            labels(&[("__name__", "m"), ("a", "x\"y")]),
            vec![(1_500, -0.25), (2_000, f64::NAN)],
        )];
        let mut buf = Vec::new();
        write_openmetrics(&s, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text, "m{a=\"x\\\"y\"} -0.25 1.500\nm{a=\"x\\\"y\"} NaN 2.000\n# EOF\n");
        assert_eq!(go_openmetrics_ms(1_700_000_007_123), 1_700_000_007_123);
    }
}
