//! Load generator for `bench/scenarios/storage.sh`: node_exporter-like series, 500 per host:
//! 15 % hundredth-of-a-second counters like `node_cpu_seconds_total`, 10 % byte counters, 10 %
//! page-multiple memory/filesystem gauges, 5 % two-decimal gauges, 40 % constants (sizes,
//! limits, info), 20 % error counters that rarely move; one sample per series every
//! `--interval-ms`, three scrapes in ten 1-3 ms late. The data is a pure function of the
//! arguments, so every consumer gets the same samples.
//!
//! - `storage_gen openmetrics --series N --samples K --start-ms T` prints an OpenMetrics file
//!   (series by series, as a backfill input).
//! - `storage_gen remote-write --url URL --series N --samples K --start-ms T [--batch B]` sends
//!   the same samples time-major (every series at step 0, then step 1, ...), B samples per
//!   Prometheus remote-write request, as scrapes would arrive. Only loopback URLs are accepted.

#![allow(clippy::unwrap_used)]

use std::io::{BufWriter, Read, Write};
use std::net::TcpStream;

const PER_HOST: usize = 500;
const NAMES: [(&str, &str, Kind); 20] = [
    ("node_cpu_seconds_total", "cpu", Kind::FloatCounter),
    ("node_disk_io_time_seconds_total", "device", Kind::FloatCounter),
    ("node_softirqs_seconds_total", "vector", Kind::FloatCounter),
    ("node_network_receive_bytes_total", "device", Kind::IntCounter),
    ("node_disk_written_bytes_total", "device", Kind::IntCounter),
    ("node_memory_bytes", "kind", Kind::PageGauge),
    ("node_filesystem_avail_bytes", "mountpoint", Kind::PageGauge),
    ("node_hwmon_temp_celsius", "sensor", Kind::Gauge),
    ("node_filesystem_size_bytes", "mountpoint", Kind::Constant),
    ("node_filesystem_files", "mountpoint", Kind::Constant),
    ("node_network_mtu_bytes", "device", Kind::Constant),
    ("node_cpu_scaling_frequency_max_hertz", "cpu", Kind::Constant),
    ("node_network_speed_bytes", "device", Kind::Constant),
    ("node_hwmon_chip_info", "chip", Kind::Constant),
    ("node_network_up", "device", Kind::Constant),
    ("node_cpu_online", "cpu", Kind::Constant),
    ("node_network_receive_errs_total", "device", Kind::RareCounter),
    ("node_network_transmit_drop_total", "device", Kind::RareCounter),
    ("node_disk_io_errors_total", "device", Kind::RareCounter),
    ("node_vmstat_oom_kill_total", "zone", Kind::RareCounter),
];

/// How a series' value moves from one scrape to the next.
#[derive(Clone, Copy)]
enum Kind {
    /// CPU-seconds-like: hundredths of a second, usually increasing.
    FloatCounter,
    /// Byte counters: integer increments.
    IntCounter,
    /// Memory or filesystem bytes: multiples of 4 KiB, moving now and then.
    PageGauge,
    /// Two-decimal readings (temperatures) in a random walk.
    Gauge,
    /// Sizes, limits, info metrics.
    Constant,
    /// Error and drop counters: an increment once in a while.
    RareCounter,
}

/// splitmix64: small, fast, deterministic.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Series {
    kind: Kind,
    value: f64,
    rng: u64,
}

impl Series {
    fn new(i: usize) -> Series {
        let kind = NAMES[(i % PER_HOST) % 20].2;
        let rng = mix(i as u64 + 1);
        let value = match kind {
            Kind::FloatCounter => ((rng % 10_000_000) as f64) / 100.0,
            Kind::IntCounter => (rng % 1_000_000_000) as f64,
            Kind::Constant => ((rng % 1000) * 1024 * 1024) as f64,
            Kind::PageGauge => ((rng % 4_000_000) * 4096) as f64,
            Kind::Gauge => ((rng % 10_000) as f64) / 100.0,
            Kind::RareCounter => (rng % 50) as f64,
        };
        Series { kind, value, rng }
    }

    /// The next value (step k > 0 moves it; step 0 is the initial value).
    fn step(&mut self) -> f64 {
        self.rng = mix(self.rng);
        let r = self.rng;
        match self.kind {
            Kind::FloatCounter => {
                // Busy or idle CPU: usually a small increase, sometimes none.
                let inc = if r.is_multiple_of(4) { 0 } else { r % 1500 };
                self.value = ((self.value * 100.0).round() + inc as f64) / 100.0;
            }
            Kind::IntCounter => {
                if !r.is_multiple_of(3) {
                    self.value += ((r >> 8) % 200_000) as f64;
                }
            }
            Kind::Constant => {}
            Kind::PageGauge => {
                if r.is_multiple_of(2) {
                    self.value = (self.value + (((r >> 8) % 33) as f64 - 16.0) * 4096.0).max(0.0);
                }
            }
            Kind::RareCounter => {
                if (r >> 8).is_multiple_of(50) {
                    self.value += 1.0;
                }
            }
            Kind::Gauge => {
                let delta = ((r >> 8) % 201) as f64 - 100.0;
                self.value = ((self.value * 100.0).round() + delta).max(0.0) / 100.0;
            }
        }
        self.value
    }
}

fn labels(i: usize) -> Vec<(&'static str, String)> {
    let j = i % PER_HOST;
    let (name, lname, _) = NAMES[j % 20];
    vec![
        ("__name__", name.to_string()),
        (lname, (j / 20).to_string()),
        ("instance", format!("host-{:05}:9100", i / PER_HOST)),
        ("job", "node".to_string()),
    ]
}

/// Scrape time: on the interval, or 1-3 ms late (three scrapes in ten).
fn ts(start: i64, interval: i64, i: usize, k: usize) -> i64 {
    let r = mix((i as u64) << 32 | k as u64) % 10;
    start + k as i64 * interval + if r < 7 { 0 } else { (r - 6) as i64 }
}

struct Args {
    series: usize,
    samples: usize,
    start_ms: i64,
    interval_ms: i64,
    url: String,
    batch: usize,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        series: 1000,
        samples: 240,
        start_ms: 1_700_000_000_000,
        interval_ms: 15_000,
        url: String::new(),
        batch: 10_000,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let val = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let num = || val.parse::<i64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--series" => a.series = num()? as usize,
            "--samples" => a.samples = num()? as usize,
            "--start-ms" => a.start_ms = num()?,
            "--interval-ms" => a.interval_ms = num()?,
            "--batch" => a.batch = (num()? as usize).max(1),
            "--url" => a.url = val.clone(),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(a)
}

fn openmetrics(a: &Args) -> std::io::Result<()> {
    let out = std::io::stdout().lock();
    let mut w = BufWriter::with_capacity(1 << 20, out);
    // Series of one metric family must be contiguous: walk names, then hosts and label values.
    for (name_idx, (name, _, _)) in NAMES.iter().enumerate() {
        writeln!(w, "# TYPE {name} unknown")?;
        for host in 0..a.series.div_ceil(PER_HOST) {
            for j in (name_idx..PER_HOST).step_by(20) {
                let i = host * PER_HOST + j;
                if i >= a.series {
                    continue;
                }
                let ls = labels(i);
                let mut prefix = format!("{}{{", ls[0].1);
                for (n, (k, v)) in ls[1..].iter().enumerate() {
                    if n > 0 {
                        prefix.push(',');
                    }
                    prefix.push_str(&format!("{k}=\"{v}\""));
                }
                prefix.push('}');
                let mut s = Series::new(i);
                let mut v = s.value;
                for k in 0..a.samples {
                    if k > 0 {
                        v = s.step();
                    }
                    let t = ts(a.start_ms, a.interval_ms, i, k);
                    writeln!(w, "{prefix} {v} {}.{:03}", t.div_euclid(1000), t.rem_euclid(1000))?;
                }
            }
        }
    }
    writeln!(w, "# EOF")?;
    w.flush()
}

fn put_varint(b: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        b.push((x as u8) | 0x80);
        x >>= 7;
    }
    b.push(x as u8);
}

fn put_bytes(b: &mut Vec<u8>, field: u64, data: &[u8]) {
    put_varint(b, field << 3 | 2);
    put_varint(b, data.len() as u64);
    b.extend_from_slice(data);
}

/// One `prometheus.TimeSeries` with a single sample, protobuf-encoded.
fn encode_series(label_pb: &[u8], t: i64, v: f64, out: &mut Vec<u8>) {
    let mut sample = Vec::with_capacity(20);
    sample.push(0x09); // field 1, fixed64: value
    sample.extend_from_slice(&v.to_bits().to_le_bytes());
    sample.push(0x10); // field 2, varint: timestamp
    put_varint(&mut sample, t as u64);
    let mut ts = Vec::with_capacity(label_pb.len() + 24);
    ts.extend_from_slice(label_pb);
    put_bytes(&mut ts, 2, &sample);
    put_bytes(out, 1, &ts);
}

fn post(url: &str, body: &[u8]) -> Result<(), String> {
    let rest = url.strip_prefix("http://").ok_or("url must start with http://")?;
    let (hostport, path) = rest.split_once('/').map_or((rest, "/"), |(h, p)| (h, p));
    if !(hostport.starts_with("127.") || hostport.starts_with("localhost:")) {
        return Err("only loopback targets are allowed".into());
    }
    let mut c = TcpStream::connect(hostport).map_err(|e| format!("connect {hostport}: {e}"))?;
    let head = format!(
        "POST /{path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: application/x-protobuf\r\n\
         Content-Encoding: snappy\r\nX-Prometheus-Remote-Write-Version: 0.1.0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    c.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
    c.write_all(body).map_err(|e| e.to_string())?;
    let mut resp = Vec::new();
    c.read_to_end(&mut resp).map_err(|e| e.to_string())?;
    let status = String::from_utf8_lossy(&resp[..resp.len().min(12)]).to_string();
    if !status.starts_with("HTTP/1.1 2") {
        return Err(format!("remote write failed: {}", String::from_utf8_lossy(&resp)));
    }
    Ok(())
}

fn remote_write(a: &Args) -> Result<(), String> {
    let label_pbs: Vec<Vec<u8>> = (0..a.series)
        .map(|i| {
            let mut b = Vec::new();
            for (n, v) in labels(i) {
                let mut l = Vec::new();
                put_bytes(&mut l, 1, n.as_bytes());
                put_bytes(&mut l, 2, v.as_bytes());
                put_bytes(&mut b, 1, &l);
            }
            b
        })
        .collect();
    let mut states: Vec<Series> = (0..a.series).map(Series::new).collect();
    let mut enc = snap::raw::Encoder::new();
    let mut body = Vec::new();
    let started = std::time::Instant::now();
    for k in 0..a.samples {
        for lo in (0..a.series).step_by(a.batch) {
            body.clear();
            for i in lo..(lo + a.batch).min(a.series) {
                let v = if k == 0 { states[i].value } else { states[i].step() };
                encode_series(&label_pbs[i], ts(a.start_ms, a.interval_ms, i, k), v, &mut body);
            }
            let compressed = enc.compress_vec(&body).map_err(|e| e.to_string())?;
            post(&a.url, &compressed)?;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let total = (a.series * a.samples) as f64;
    eprintln!("sent {total} samples in {secs:.1} s ({:.0} samples/s)", total / secs);
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(mode) = args.first() else {
        eprintln!("usage: storage_gen openmetrics|remote-write [flags]");
        return std::process::ExitCode::from(2);
    };
    let a = match parse(&args[1..]) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("storage_gen: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let res = match mode.as_str() {
        "openmetrics" => openmetrics(&a).map_err(|e| e.to_string()),
        "remote-write" => remote_write(&a),
        other => Err(format!("unknown mode {other}")),
    };
    match res {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("storage_gen: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
