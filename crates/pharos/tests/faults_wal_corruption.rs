//! Fault test: WAL segments damaged on purpose while the server is down, bytes flipped in the
//! middle of a segment and a torn tail. The server starts anyway, logs the repair (a warning
//! naming the segment, offset and reason), serves every sample written before the damage, never
//! serves a sample it did not get, and keeps taking writes that survive the next restart.

#![allow(clippy::unwrap_used)]

mod fault_support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use fault_support::{Pharos, WriteRequest, client, empty_config, now_ms};

const NAME: &str = "fault_wal";
const SERIES: usize = 10;
const PER_REQUEST: i64 = 5;
const BATCH: i64 = 20;

/// Request `i`: samples at `base + i*PER_REQUEST + k` with value `i` for every series.
fn request(base: i64, i: i64) -> WriteRequest {
    let samples: Vec<(i64, f64)> =
        (0..PER_REQUEST).map(|k| (base + i * PER_REQUEST + k, i as f64)).collect();
    WriteRequest {
        timeseries: (0..SERIES).map(|id| fault_support::series(NAME, id, &samples)).collect(),
        metadata: Vec::new(),
    }
}

fn write_batch(p: &Pharos, base: i64, reqs: std::ops::Range<i64>) {
    for i in reqs {
        assert_eq!(p.remote_write(&request(base, i)), Some(204), "request {i}");
    }
}

/// The only WAL segment the first run wrote.
fn segment(data: &Path) -> PathBuf {
    let mut segs: Vec<PathBuf> = std::fs::read_dir(data.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().chars().all(|c| c.is_ascii_digit()))
        .collect();
    segs.sort();
    assert_eq!(segs.len(), 1, "{segs:?}");
    segs.pop().unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// For every series: which requests' samples are there. Panics on any sample that no request
/// wrote (a wrong value or timestamp would mean garbage was replayed).
fn requests_present(p: &Pharos, base: i64, upto: i64) -> Vec<i64> {
    let mut found: Option<Vec<i64>> = None;
    for id in 0..SERIES {
        let got = p.raw_samples(
            &format!("{NAME}{{series=\"{id}\"}}"),
            base - 1,
            base + upto * PER_REQUEST,
        );
        let mut per_req: HashMap<i64, i64> = HashMap::new();
        for (t, v) in got {
            let i = (t - base) / PER_REQUEST;
            assert!(t >= base && i < upto, "sample at {t} was never written");
            assert_eq!(v, i as f64, "sample at {t} has value {v}, request {i} wrote {i}");
            *per_req.entry(i).or_default() += 1;
        }
        // Requests are all or nothing: a request's samples are all there or none is.
        let mut reqs: Vec<i64> = per_req
            .into_iter()
            .map(|(i, n)| {
                assert_eq!(n, PER_REQUEST, "series {id}: request {i} only partly replayed");
                i
            })
            .collect();
        reqs.sort();
        if let Some(f) = &found {
            assert_eq!(f, &reqs, "series {id} differs from series 0");
        }
        found = Some(reqs);
    }
    found.unwrap()
}

/// `prometheus_tsdb_wal_corruptions_total` on the server's `/metrics`.
fn wal_corruptions(p: &Pharos) -> f64 {
    let text = client().get(format!("{}/metrics", p.base)).send().unwrap().text().unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("prometheus_tsdb_wal_corruptions_total "))
        .unwrap_or_else(|| panic!("no prometheus_tsdb_wal_corruptions_total in:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

fn args(cfg: &Path) -> Vec<String> {
    vec![format!("--config.file={}", cfg.display()), "--web.enable-remote-write-receiver".into()]
}

#[test]
fn corrupt_and_torn_wal_segments_are_repaired_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = empty_config(dir.path());
    let data = dir.path().join("data");
    let base = now_ms() - 60_000;

    let mut p = Pharos::start(&data, &dir.path().join("first.log"), &args(&cfg));
    write_batch(&p, base, 0..BATCH);
    let before_b = std::fs::metadata(segment(&data)).unwrap().len();
    write_batch(&p, base, BATCH..2 * BATCH);
    let end = std::fs::metadata(segment(&data)).unwrap().len();
    assert!(end > before_b);
    p.kill9();
    drop(p);

    // Torn tail (as a crash in the middle of a write leaves it), on a copy of the directory.
    let torn = dir.path().join("torn");
    copy_dir(&data, &torn);
    let seg = segment(&torn);
    std::fs::OpenOptions::new().write(true).open(&seg).unwrap().set_len(end - 3).unwrap();
    let p = Pharos::start(&torn, &dir.path().join("torn.log"), &args(&cfg));
    let log = p.log_text();
    assert!(log.contains("truncating corrupt or torn WAL tail"), "no repair reported:\n{log}");
    assert_eq!(wal_corruptions(&p), 1.0, "the repair is counted on /metrics");
    let present = requests_present(&p, base, 2 * BATCH);
    assert_eq!(
        present,
        (0..2 * BATCH - 1).collect::<Vec<_>>(),
        "only the torn last request may be lost"
    );
    drop(p);

    // Bytes flipped in the middle of the second batch's records.
    let seg = segment(&data);
    let mut bytes = std::fs::read(&seg).unwrap();
    let mid = (before_b + (end - before_b) / 2) as usize;
    for b in &mut bytes[mid..mid + 16] {
        *b ^= 0xFF;
    }
    std::fs::write(&seg, bytes).unwrap();
    let mut p = Pharos::start(&data, &dir.path().join("flipped.log"), &args(&cfg));
    let log = p.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("truncating corrupt or torn WAL tail"))
        .unwrap_or_else(|| panic!("no repair reported:\n{log}"));
    assert!(line.contains("level=warn"), "{line}");
    assert!(line.contains("offset="), "the report says where: {line}");
    assert_eq!(wal_corruptions(&p), 1.0, "the repair is counted on /metrics");
    let present = requests_present(&p, base, 2 * BATCH);
    // Everything before the damage is there; the records from the damage on are dropped.
    assert!(present.len() as i64 >= BATCH, "data before the corruption lost: {present:?}");
    assert_eq!(present, (0..present.len() as i64).collect::<Vec<_>>(), "a gap: {present:?}");
    assert!((present.len() as i64) < 2 * BATCH, "the damaged records were replayed: {present:?}");

    // The repaired WAL takes new writes, and they and the old data survive another crash.
    let kept = present.len() as i64;
    write_batch(&p, base, 2 * BATCH..3 * BATCH);
    p.restart();
    let after = requests_present(&p, base, 3 * BATCH);
    let expected: Vec<i64> = (0..kept).chain(2 * BATCH..3 * BATCH).collect();
    assert_eq!(after, expected);
    assert_eq!(wal_corruptions(&p), 0.0, "a clean WAL counts no corruption");
    assert!(
        !p.log_text().lines().skip(log.lines().count()).any(|l| l.contains("truncating")),
        "the repaired WAL was reported corrupt again"
    );
}
