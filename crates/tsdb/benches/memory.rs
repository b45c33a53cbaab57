//! Resident memory per active series: appends 2 h of 15 s samples (480 per series) to N series
//! and reports the growth of the process' resident set size per series and bytes per sample.
//! Run: `cargo bench -p tsdb --bench memory -- [SERIES]`.

#![allow(clippy::unwrap_used)]

use model::Labels;
use storage::Appendable;
use tsdb::{Db, Options};

fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
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

fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let ls: Vec<Labels> = (0..n)
        .map(|i| {
            Labels::new([
                ("__name__", format!("node_metric_{}", i % 200).as_str()),
                ("instance", &format!("host-{}:9100", i / 200)),
                ("job", "node"),
                ("cpu", &(i % 8).to_string()),
            ])
        })
        .collect();
    let before = rss_bytes();
    let mut refs = vec![0u64; n];
    let start = std::time::Instant::now();
    let cpu0 = cpu_secs();
    let samples_per_series = 480;
    for k in 0..samples_per_series {
        let t = 1_700_000_000_000 + k * 15_000;
        let mut app = db.appender();
        for (i, l) in ls.iter().enumerate() {
            let v = ((k as usize * 7 + i) % 1000) as f64;
            refs[i] = app.append(refs[i], l, t, v).unwrap();
        }
        app.commit().unwrap();
    }
    let elapsed = start.elapsed();
    let after = rss_bytes();
    let total = (n as u64) * samples_per_series as u64;
    let cpu = cpu_secs() - cpu0;
    println!(
        "series: {n}, samples: {total}, append: {:.2} M samples/s wall, {:.2} M per CPU second",
        total as f64 / elapsed.as_secs_f64() / 1e6,
        total as f64 / cpu / 1e6
    );
    println!(
        "rss growth: {} MiB, {:.0} B/series (incl. labels and chunk data), {:.2} B/sample",
        (after - before) >> 20,
        (after - before) as f64 / n as f64,
        (after - before) as f64 / total as f64
    );
    println!("head sample data: {:.2} B/sample", db.head_data_bytes() as f64 / total as f64);
    let wal = tsdb::wal::dir_size(&dir.path().join("wal"));
    println!("wal: {:.2} B/sample", wal as f64 / total as f64);
    db.close().unwrap();
    drop(db);
    let start = std::time::Instant::now();
    let cpu0 = cpu_secs();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    println!(
        "restart (WAL replay of {n} series, {total} samples): {:.2} s wall, {:.2} s CPU",
        start.elapsed().as_secs_f64(),
        cpu_secs() - cpu0
    );
    assert_eq!(db.stats(1).head_stats.num_series, n as u64);
}
