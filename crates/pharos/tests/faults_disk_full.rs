//! Fault test: the data directory's file system fills up. Remote writes then fail with a 5xx
//! naming the cause, the server stays up and answers queries with everything committed before,
//! a failed write leaves nothing half-written behind (checked after a crash and replay), and
//! writes succeed again once space is freed.
//!
//! The data directory is a small tmpfs mounted for the test (root only). Without the rights to
//! mount, the test prints "skipped: cannot mount tmpfs" and passes, unless
//! `PHAROS_REQUIRE_EXTERNAL=1`.

#![allow(clippy::unwrap_used)]

mod fault_support;
#[path = "../../tsdb/tests/common/tmpfs.rs"]
mod tmpfs;

use std::collections::BTreeSet;

use fault_support::{Pharos, WriteRequest, empty_config, now_ms};
use tmpfs::{Tmpfs, fill};

const NAME: &str = "fault_disk";
const SERIES: usize = 20;
const PER_REQUEST: i64 = 10;

fn request(base: i64, i: i64) -> WriteRequest {
    let samples: Vec<(i64, f64)> =
        (0..PER_REQUEST).map(|k| (base + i * PER_REQUEST + k, i as f64)).collect();
    WriteRequest {
        timeseries: (0..SERIES).map(|id| fault_support::series(NAME, id, &samples)).collect(),
        metadata: Vec::new(),
    }
}

/// Which requests are stored, checking every series holds exactly the same whole requests.
fn stored(p: &Pharos, base: i64, upto: i64) -> BTreeSet<i64> {
    let mut first: Option<BTreeSet<i64>> = None;
    for id in [0, SERIES / 2, SERIES - 1] {
        let got = p.raw_samples(
            &format!("{NAME}{{series=\"{id}\"}}"),
            base - 1,
            base + upto * PER_REQUEST,
        );
        let mut reqs = BTreeSet::new();
        for (t, v) in &got {
            let i = (t - base) / PER_REQUEST;
            assert_eq!(*v, i as f64, "series {id}: wrong value at {t}");
            reqs.insert(i);
        }
        for &i in &reqs {
            let n = got.iter().filter(|(t, _)| (t - base) / PER_REQUEST == i).count() as i64;
            assert_eq!(n, PER_REQUEST, "series {id}: request {i} stored in part");
        }
        if let Some(f) = &first {
            assert_eq!(f, &reqs, "series {id} differs");
        }
        first = Some(reqs);
    }
    first.unwrap()
}

/// Bytes in the WAL's segment files.
fn wal_bytes(data: &std::path::Path) -> u64 {
    std::fs::read_dir(data.join("wal"))
        .unwrap()
        .flatten()
        .filter_map(|e| e.metadata().ok().filter(|m| m.is_file()))
        .map(|m| m.len())
        .sum()
}

/// The memory page size: tmpfs allocates in pages.
fn page_size() -> u64 {
    // SAFETY: sysconf only reads a system constant.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(n).unwrap_or(4096)
}

#[test]
fn disk_full_fails_writes_keeps_serving_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mnt) = Tmpfs::mount(&dir.path().join("mnt"), "24m") else { return };
    let cfg = empty_config(dir.path());
    let data = mnt.0.join("data");
    let mut p = Pharos::start(
        &data,
        &dir.path().join("pharos.log"),
        &[format!("--config.file={}", cfg.display()), "--web.enable-remote-write-receiver".into()],
    );
    let base = now_ms() - 60_000;
    let mut committed = BTreeSet::new();
    let mut next = 0i64;
    for _ in 0..20 {
        assert_eq!(p.remote_write(&request(base, next)), Some(204));
        committed.insert(next);
        next += 1;
    }

    fill(&mnt.0.join("filler"));
    // The WAL's last page may still take a record or two; after a record that did not fit, only
    // a smaller one that fits the rest of that page may (compressed records differ in size).
    let mut failures = 0;
    let mut wal_at_first_failure = None;
    for _ in 0..200 {
        let status = p.remote_write(&request(base, next)).expect("server went away on a full disk");
        next += 1;
        if status == 204 {
            if let Some(at) = wal_at_first_failure {
                let page_end = u64::div_ceil(at, page_size()) * page_size();
                let now = wal_bytes(&data);
                assert!(
                    now <= page_end,
                    "a write after one failed took a new page on a still-full disk: {at} -> {now}"
                );
            }
            committed.insert(next - 1);
            continue;
        }
        assert!(status >= 500, "a full disk is the server's problem, not the client's: {status}");
        wal_at_first_failure.get_or_insert_with(|| wal_bytes(&data));
        failures += 1;
        if failures == 5 {
            break;
        }
    }
    assert_eq!(failures, 5, "writes kept succeeding on a full disk");
    let body = fault_support::client()
        .post(format!("{}/api/v1/write", p.base))
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .body(remote::codec::encode_write_request(&request(base, next)))
        .send()
        .unwrap()
        .text()
        .unwrap();
    next += 1;
    assert!(body.to_lowercase().contains("no space left"), "the error names the cause: {body}");

    // Still up and serving what was committed.
    let healthy = fault_support::client().get(format!("{}/-/healthy", p.base)).send().unwrap();
    assert_eq!(healthy.status(), 200);
    assert_eq!(stored(&p, base, next), committed);

    // Space comes back: writes resume.
    std::fs::remove_file(mnt.0.join("filler")).unwrap();
    for _ in 0..20 {
        assert_eq!(p.remote_write(&request(base, next)), Some(204), "write after space returned");
        committed.insert(next);
        next += 1;
    }
    assert_eq!(stored(&p, base, next), committed);

    // Nothing on disk was damaged: a crash and replay gives back exactly the committed requests.
    p.restart();
    let log = p.log_text();
    assert!(!log.contains("truncating corrupt or torn WAL tail"), "the WAL was damaged:\n{log}");
    assert_eq!(stored(&p, base, next), committed, "after a crash and replay; log:\n{log}");
    drop(p);
}
