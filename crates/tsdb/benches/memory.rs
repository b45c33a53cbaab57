//! Resident memory per active series and restart time, in process: appends SAMPLES samples at
//! 15 s to each of SERIES node_exporter-like series (500 per host, four labels as
//! `examples/storage_gen.rs` makes them), time-major in commits of 10,000 samples as remote
//! write or scrapes deliver them, then closes and reopens the database (WAL replay, with the
//! head chunk cache of the first run). Reports the resident set growth per series (and the
//! heap in use within it), append rate, WAL bytes per sample, and the restart's wall and CPU
//! time.
//! Run: `cargo bench -p tsdb --bench memory -- [SERIES [SAMPLES]]` (defaults 100000 144).
//! Three samples in ten are 1-3 ms late, as scrapes land (`MEMORY_BENCH_ON_TIME=1`: none).
//! `MEMORY_BENCH_T0=<ms>` sets the first sample's time (default 1700000000000, 13 minutes into
//! a 2 h chunk range: 144 samples then fill one 120-sample chunk and leave 24 in the open one;
//! 1700005155000 puts a range boundary after 83 samples, leaving 61 open, as a crash restart
//! meets on average; `1700006400000 - (144 - K) * 15000` leaves K open, e.g. 115 right before
//! every series cuts its chunk, the top of the head's memory cycle).
//! A crash state for restart timing: run once with `MEMORY_BENCH_DIR=<dir>`, then delete
//! `<dir>/pharos_head_snapshot` (what a SIGKILL leaves: WAL and head chunk cache only) and copy
//! the directory before each `MEMORY_BENCH_DIR=<copy> MEMORY_BENCH_RESTARTS=1` run.

#![allow(clippy::unwrap_used)]

mod common;

use model::Labels;
use storage::Appendable;
use tsdb::{Db, Options};

const PER_HOST: usize = 500;
const NAMES: [(&str, &str); 20] = [
    ("node_cpu_seconds_total", "cpu"),
    ("node_disk_io_time_seconds_total", "device"),
    ("node_softirqs_seconds_total", "vector"),
    ("node_network_receive_bytes_total", "device"),
    ("node_disk_written_bytes_total", "device"),
    ("node_memory_bytes", "kind"),
    ("node_filesystem_avail_bytes", "mountpoint"),
    ("node_hwmon_temp_celsius", "sensor"),
    ("node_filesystem_size_bytes", "mountpoint"),
    ("node_filesystem_files", "mountpoint"),
    ("node_network_mtu_bytes", "device"),
    ("node_cpu_scaling_frequency_max_hertz", "cpu"),
    ("node_network_speed_bytes", "device"),
    ("node_hwmon_chip_info", "chip"),
    ("node_network_up", "device"),
    ("node_cpu_online", "cpu"),
    ("node_network_receive_errs_total", "device"),
    ("node_network_transmit_drop_total", "device"),
    ("node_disk_io_errors_total", "device"),
    ("node_vmstat_oom_kill_total", "zone"),
];

fn rss_bytes() -> u64 {
    status_bytes("VmRSS:")
}

/// A size from `/proc/self/status` (e.g. `RssFile:`, mapped file pages), in bytes.
fn status_bytes(key: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// CPU seconds (user + system) this process has used; robust to a busy machine.
fn cpu_secs() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit_once(')').map_or("", |x| x.1);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// glibc's `struct mallinfo2`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[repr(C)]
struct MallInfo2 {
    arena: usize,
    ordblks: usize,
    smblks: usize,
    hblks: usize,
    hblkhd: usize,
    usmblks: usize,
    fsmblks: usize,
    uordblks: usize,
    fordblks: usize,
    keepcost: usize,
}

/// Heap bytes in use (glibc's `mallinfo2`: chunks in use and mmapped ones), to tell memory
/// the head holds from memory the allocator keeps resident around it; 0 elsewhere.
fn heap_in_use() -> u64 {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn mallinfo2() -> MallInfo2;
        }
        // SAFETY: mallinfo2 only reads the allocator's statistics.
        let m = unsafe { mallinfo2() };
        let _ = (m.arena, m.ordblks, m.smblks, m.hblks, m.usmblks, m.fsmblks);
        let _ = (m.fordblks, m.keepcost);
        (m.uordblks + m.hblkhd) as u64
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    0
}

fn labels(i: usize) -> Labels {
    let j = i % PER_HOST;
    let (name, lname) = NAMES[j % 20];
    Labels::new([
        ("__name__", name),
        (lname, &(j / 20).to_string()),
        ("instance", &format!("host-{:05}:9100", i / PER_HOST)),
        ("job", "node"),
    ])
}

/// How late series `i`'s sample of step `k` is, in milliseconds: 1-3 ms for three scrapes in
/// ten, as `examples/storage_gen.rs` (and real scrapes) time them. XOR codes a timestamp off
/// the interval in 16 bits instead of 1, about a byte a sample more over a chunk.
fn late(i: usize, k: u64) -> i64 {
    let r = common::mix((i as u64) << 32 | k ^ 0x5eed) % 10;
    if r < 7 { 0 } else { r as i64 - 6 }
}

/// Series `i`'s value at step `k`: hundredth counters, integer counters, page gauges,
/// two-decimal gauges and constants in roughly node_exporter's proportions.
fn value(i: usize, k: u64, prev: f64) -> f64 {
    let r = common::mix((i as u64) << 32 | k);
    common::node_value((i % PER_HOST) % 20, r, prev)
}

fn main() {
    // RUST_LOG=info shows the replay's own log (its phases among them).
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let mut args = std::env::args().skip(1).filter_map(|a| a.parse::<usize>().ok());
    let n = args.next().unwrap_or(100_000);
    let steps = args.next().unwrap_or(144) as u64;
    // MEMORY_BENCH_DIR keeps the data; when it already holds a WAL, only the restart runs.
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("MEMORY_BENCH_DIR").map_or(tmp.path().to_path_buf(), Into::into);
    if dir.join("wal").exists() {
        // Twice (MEMORY_BENCH_RESTARTS): the first open finds what the last run left (a
        // snapshot after a clean close, else only the WAL), the second the snapshot of the
        // first's close.
        let restarts = std::env::var("MEMORY_BENCH_RESTARTS").ok().and_then(|v| v.parse().ok());
        for _ in 0..restarts.unwrap_or(2) {
            let start = std::time::Instant::now();
            let cpu0 = cpu_secs();
            let rss0 = rss_bytes();
            let db = Db::open(&dir, Options::default()).unwrap();
            let s = db.stats(1).head_stats.num_series;
            println!(
                "restart of {s} series ({}): {:.2} s wall, {:.2} s CPU, rss {:.0} B/series",
                if db.restored_from_snapshot() { "head snapshot" } else { "WAL replay" },
                start.elapsed().as_secs_f64(),
                cpu_secs() - cpu0,
                rss_bytes().saturating_sub(rss0) as f64 / s as f64
            );
            let start = std::time::Instant::now();
            db.close().unwrap();
            println!("close (writes the head snapshot): {:.2} s", start.elapsed().as_secs_f64());
        }
        return;
    }
    let db = Db::open(&dir, Options::default()).unwrap();
    let h0 = heap_in_use();
    let ls: Vec<Labels> = (0..n).map(labels).collect();
    println!(
        "label sets (made before measuring, not in the growth below): {:.0} B/series of heap",
        heap_in_use().saturating_sub(h0) as f64 / n as f64
    );
    let mut vals: Vec<f64> = (0..n).map(|i| (common::mix(i as u64) % 1_000_000) as f64).collect();
    let before = rss_bytes();
    let heap_before = heap_in_use();
    let mut refs = vec![0u64; n];
    let start = std::time::Instant::now();
    let cpu0 = cpu_secs();
    let t0 = std::env::var("MEMORY_BENCH_T0")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(1_700_000_000_000);
    let on_time = std::env::var_os("MEMORY_BENCH_ON_TIME").is_some();
    for k in 0..steps {
        let t = t0 + k as i64 * 15_000;
        for lo in (0..n).step_by(10_000) {
            let mut app = db.appender();
            for i in lo..(lo + 10_000).min(n) {
                vals[i] = value(i, k, vals[i]);
                let t = if on_time { t } else { t + late(i, k) };
                refs[i] = app.append(refs[i], &ls[i], t, vals[i]).unwrap();
            }
            app.commit().unwrap();
        }
    }
    let elapsed = start.elapsed();
    let cpu = cpu_secs() - cpu0;
    let after = rss_bytes();
    let heap_after = heap_in_use();
    let total = n as u64 * steps;
    println!(
        "series: {n}, samples: {total}, append: {:.2} M samples/s wall, {:.2} M per CPU second",
        total as f64 / elapsed.as_secs_f64() / 1e6,
        total as f64 / cpu / 1e6
    );
    println!(
        "rss growth: {} MiB, {:.0} B/series (series, index, chunks; not the label sets)",
        (after - before) >> 20,
        (after - before) as f64 / n as f64,
    );
    println!(
        "heap in use growth: {:.0} B/series (the rest of the rss growth: free heap memory kept \
         resident, and mapped files)",
        heap_after.saturating_sub(heap_before) as f64 / n as f64
    );
    if std::env::var_os("MEMORY_BENCH_TRIM").is_some() {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        let start = std::time::Instant::now();
        // SAFETY: glibc's malloc_trim only returns free heap pages to the kernel.
        unsafe { malloc_trim(0) };
        println!(
            "rss after malloc_trim ({:.1} ms): {:.0} B/series",
            start.elapsed().as_secs_f64() * 1e3,
            rss_bytes().saturating_sub(before) as f64 / n as f64
        );
    }
    println!("head sample data: {:.2} B/sample", db.head_data_bytes() as f64 / total as f64);
    let wal = tsdb::wal::dir_size(&dir.join("wal"));
    println!("wal: {:.2} B/sample", wal as f64 / total as f64);
    db.close().unwrap();
    drop(db);
    drop(ls);
    let rss_closed = rss_bytes();
    let file_closed = status_bytes("RssFile:");
    let start = std::time::Instant::now();
    let cpu0 = cpu_secs();
    let db = Db::open(&dir, Options::default()).unwrap();
    println!(
        "restart (WAL replay of {n} series, {total} samples): {:.2} s wall, {:.2} s CPU, \
         rss {:.0} B/series after it, {:.0} of them mapped file pages",
        start.elapsed().as_secs_f64(),
        cpu_secs() - cpu0,
        rss_bytes().saturating_sub(rss_closed) as f64 / n as f64,
        status_bytes("RssFile:").saturating_sub(file_closed) as f64 / n as f64
    );
    assert_eq!(db.stats(1).head_stats.num_series, n as u64);
}
