//! Synthetic exposition bodies: a node_exporter-like and an api-server-like template of a chosen
//! number of series, rendered in the Prometheus text format 0.0.4 with values that change on
//! every scrape (counters grow, gauges move), so a scraper cannot skip unchanged samples.

use std::fmt::Write as _;

/// Which kind of exporter a target imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Short lines with one or two labels (`node_cpu_seconds_total{cpu="0",mode="idle"}`).
    Node,
    /// Long lines with eight or nine labels and classic histograms, as a Kubernetes API server.
    Api,
}

/// How a series' value evolves from scrape to scrape.
#[derive(Clone, Copy, Debug)]
enum Value {
    /// `base + inc * k`, printed as an integer.
    IntCounter { base: u64, inc: u64 },
    /// `base + inc * k`, printed as a float.
    FloatCounter { base: f64, inc: f64 },
    /// Moves within `[base, base + amp)` from scrape to scrape.
    Gauge { base: f64, amp: f64 },
}

/// One series line: everything before the value (HELP/TYPE lines of a new family included).
#[derive(Debug)]
struct Line {
    prefix: Vec<u8>,
    value: Value,
}

/// A rendered-on-demand body: fixed text and per-series values.
#[derive(Debug)]
pub struct Template {
    lines: Vec<Line>,
    approx_len: usize,
}

impl Template {
    /// A template of exactly `series` series of the given kind; `seed` varies values between targets.
    pub fn new(kind: Kind, series: usize, seed: u64) -> Template {
        let mut b = Builder { lines: Vec::with_capacity(series), seed };
        match kind {
            Kind::Node => node(&mut b, series),
            Kind::Api => api(&mut b, series),
        }
        b.lines.truncate(series);
        let approx_len = b.lines.iter().map(|l| l.prefix.len() + 16).sum();
        Template { lines: b.lines, approx_len }
    }

    /// Number of series (samples per scrape).
    pub fn series(&self) -> usize {
        self.lines.len()
    }

    /// Renders the body of scrape number `k` into `out` (cleared first).
    pub fn render(&self, k: u64, out: &mut Vec<u8>) {
        out.clear();
        out.reserve(self.approx_len);
        let mut ib = itoa::Buffer::new();
        let mut fb = ryu::Buffer::new();
        for (i, line) in self.lines.iter().enumerate() {
            out.extend_from_slice(&line.prefix);
            match line.value {
                Value::IntCounter { base, inc } => {
                    out.extend_from_slice(ib.format(base + inc * k).as_bytes());
                }
                Value::FloatCounter { base, inc } => {
                    out.extend_from_slice(fb.format(base + inc * k as f64).as_bytes());
                }
                Value::Gauge { base, amp } => {
                    let step = (k.wrapping_mul(7).wrapping_add(i as u64)) % 13;
                    out.extend_from_slice(fb.format(base + amp * step as f64 / 13.0).as_bytes());
                }
            }
            out.push(b'\n');
        }
    }
}

struct Builder {
    lines: Vec<Line>,
    seed: u64,
}

impl Builder {
    /// A deterministic pseudo-random number for series `i` (splitmix64 of seed and index).
    fn rnd(&self, i: usize) -> u64 {
        let mut z = self.seed.wrapping_add((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Adds `n` series of one family; `labels(i)` gives the `{...}` part of series `i`.
    fn family(
        &mut self,
        name: &str,
        typ: &str,
        n: usize,
        labels: impl Fn(usize) -> String,
        value: impl Fn(u64) -> Value,
    ) {
        for i in 0..n {
            let mut prefix = String::new();
            if i == 0 {
                let _ = writeln!(prefix, "# HELP {name} Synthetic {typ} for benchmarks.");
                let _ = writeln!(prefix, "# TYPE {name} {typ}");
            }
            let _ = write!(prefix, "{name}{{{}}} ", labels(i));
            let value = value(self.rnd(self.lines.len()));
            self.lines.push(Line { prefix: prefix.into_bytes(), value });
        }
    }

    /// A classic histogram family: `combos` label sets of buckets, `_sum` and `_count`.
    fn histogram(&mut self, name: &str, combos: usize, labels: impl Fn(usize) -> String) {
        const LE: [&str; 12] =
            ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"];
        for c in 0..combos {
            let mut prefix = String::new();
            if c == 0 {
                let _ = writeln!(prefix, "# HELP {name} Synthetic histogram for benchmarks.");
                let _ = writeln!(prefix, "# TYPE {name} histogram");
            }
            let l = labels(c);
            let r = self.rnd(self.lines.len());
            let per_bucket = 1 + r % 5;
            for (j, le) in LE.iter().enumerate() {
                let mut p = std::mem::take(&mut prefix);
                let _ = write!(p, "{name}_bucket{{{l},le=\"{le}\"}} ");
                let inc = per_bucket * (j as u64 + 1);
                self.lines.push(Line {
                    prefix: p.into_bytes(),
                    value: Value::IntCounter { base: inc * 100, inc },
                });
            }
            let count_inc = per_bucket * LE.len() as u64;
            let sum = format!("{name}_sum{{{l}}} ");
            self.lines.push(Line {
                prefix: sum.into_bytes(),
                value: Value::FloatCounter { base: 1000.0, inc: count_inc as f64 * 0.137 },
            });
            let count = format!("{name}_count{{{l}}} ");
            self.lines.push(Line {
                prefix: count.into_bytes(),
                value: Value::IntCounter { base: count_inc * 100, inc: count_inc },
            });
        }
    }
}

const MODES: [&str; 8] = ["idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"];
const VERBS: [&str; 8] = ["GET", "LIST", "WATCH", "POST", "PUT", "PATCH", "DELETE", "APPLY"];
const RESOURCES: [&str; 16] = [
    "pods",
    "services",
    "endpoints",
    "nodes",
    "configmaps",
    "secrets",
    "deployments",
    "replicasets",
    "statefulsets",
    "daemonsets",
    "jobs",
    "cronjobs",
    "leases",
    "events",
    "namespaces",
    "ingresses",
];
const CODES: [&str; 6] = ["200", "201", "404", "409", "422", "500"];

fn float_counter(r: u64) -> Value {
    Value::FloatCounter {
        base: (r % 1_000_000) as f64 / 7.0,
        inc: 0.01 + (r % 1000) as f64 / 100.0,
    }
}

fn int_counter(r: u64) -> Value {
    Value::IntCounter { base: r % 10_000_000_000, inc: 1 + r % 100_000 }
}

fn gauge(r: u64) -> Value {
    Value::Gauge { base: (r % 100_000_000_000) as f64, amp: 1.0 + (r % 1_000_000) as f64 }
}

/// Share `w` (in percent) of `total`, at least 1.
fn share(total: usize, w: usize) -> usize {
    (total * w / 100).max(1)
}

fn node(b: &mut Builder, n: usize) {
    b.family(
        "node_cpu_seconds_total",
        "counter",
        share(n, 30),
        |i| format!("cpu=\"{}\",mode=\"{}\"", i / 8, MODES[i % 8]),
        float_counter,
    );
    for name in ["node_network_receive_bytes_total", "node_network_transmit_bytes_total"] {
        b.family(name, "counter", share(n, 10), |i| format!("device=\"eth{i}\""), int_counter);
    }
    b.family(
        "node_disk_read_bytes_total",
        "counter",
        share(n, 10),
        |i| format!("device=\"sd{i}\""),
        int_counter,
    );
    b.family(
        "node_disk_io_time_seconds_total",
        "counter",
        share(n, 10),
        |i| format!("device=\"sd{i}\""),
        float_counter,
    );
    b.family(
        "node_filesystem_avail_bytes",
        "gauge",
        share(n, 15),
        |i| format!("device=\"/dev/sda{i}\",fstype=\"ext4\",mountpoint=\"/mnt/disk{i}\""),
        gauge,
    );
    // The rest (at least 15 %) goes to a gauge family so the total is exactly n.
    let rest = n.saturating_sub(b.lines.len()).max(1);
    b.family(
        "node_hwmon_temp_celsius",
        "gauge",
        rest,
        |i| format!("chip=\"platform_coretemp_{}\",sensor=\"temp{}\"", i / 8, i % 8),
        gauge,
    );
}

fn api_labels(c: usize) -> String {
    format!(
        "component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"{}{}\",scope=\"{}\",subresource=\"\",verb=\"{}\",version=\"v1\"",
        RESOURCES[(c / 8) % 16],
        c / 128,
        if c.is_multiple_of(3) { "cluster" } else { "namespace" },
        VERBS[c % 8],
    )
}

fn api(b: &mut Builder, n: usize) {
    b.histogram("apiserver_request_duration_seconds", share(n, 60) / 14 + 1, api_labels);
    b.family(
        "apiserver_request_total",
        "counter",
        share(n, 20),
        |i| format!("code=\"{}\",{}", CODES[i % 6], api_labels(i / 6)),
        int_counter,
    );
    b.family(
        "apiserver_storage_objects",
        "gauge",
        share(n, 10),
        |i| format!("resource=\"{}{}\"", RESOURCES[i % 16], i / 16),
        gauge,
    );
    let rest = n.saturating_sub(b.lines.len()).max(1);
    b.family(
        "rest_client_requests_total",
        "counter",
        rest,
        |i| {
            format!(
                "code=\"{}\",host=\"10.0.{}.{}:6443\",method=\"{}\"",
                CODES[i % 6],
                i / 1536,
                (i / 6) % 256,
                VERBS[(i / 6) % 8]
            )
        },
        int_counter,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(kind: Kind, n: usize, k: u64) -> String {
        let t = Template::new(kind, n, 42);
        let mut out = Vec::new();
        t.render(k, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn series_lines(body: &str) -> Vec<&str> {
        body.lines().filter(|l| !l.starts_with('#')).collect()
    }

    #[test]
    fn exact_series_count_and_unique_series() {
        for kind in [Kind::Node, Kind::Api] {
            for n in [50, 1000, 2500] {
                let body = rendered(kind, n, 0);
                let lines = series_lines(&body);
                assert_eq!(lines.len(), n, "{kind:?} {n}");
                let mut ids: Vec<&str> =
                    lines.iter().map(|l| l.rsplit_once(' ').unwrap().0).collect();
                ids.sort_unstable();
                ids.dedup();
                assert_eq!(ids.len(), n, "{kind:?} {n}: duplicate series");
            }
        }
    }

    #[test]
    fn values_change_between_scrapes_and_counters_grow() {
        let a = rendered(Kind::Api, 1000, 3);
        let b = rendered(Kind::Api, 1000, 4);
        let (la, lb) = (series_lines(&a), series_lines(&b));
        let mut changed = 0;
        for (x, y) in la.iter().zip(&lb) {
            let (id, va) = x.rsplit_once(' ').unwrap();
            let (id2, vb) = y.rsplit_once(' ').unwrap();
            assert_eq!(id, id2);
            let (va, vb): (f64, f64) = (va.parse().unwrap(), vb.parse().unwrap());
            if id.contains("_total") || id.contains("_bucket") || id.contains("_count") {
                assert!(vb > va, "{id}: counter did not grow");
            }
            changed += usize::from(va != vb);
        }
        assert!(changed > 900, "only {changed} of 1000 values changed");
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let body = rendered(Kind::Api, 200, 9);
        let buckets: Vec<f64> = series_lines(&body)
            .iter()
            .take(12)
            .map(|l| l.rsplit_once(' ').unwrap().1.parse().unwrap())
            .collect();
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    }
}
