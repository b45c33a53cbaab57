//! The head chunk cache on a file system that fills up: chunks are written through the blocks
//! reserved ahead until a reservation fails, then refused (kept in memory by their series),
//! and a restart while the disk is still full reads back exactly the chunks written, even with
//! a chunk file the full disk left without an entry; a deletion the full cache cannot record
//! fails and deletes nothing, rather than let the deleted chunks come back after a checkpoint.
//! The file system is a small tmpfs mounted for the test (root only); without the rights to
//! mount, the test prints "skipped: cannot mount tmpfs" and passes, unless
//! `PHAROS_REQUIRE_EXTERNAL=1`.

#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/tmpfs.rs"]
mod tmpfs;

use common::{dump, series};
use model::{MatchType, Matcher};
use storage::Appendable;
use tmpfs::{Tmpfs, fill};
use tsdb::head::mapper::ChunkMapper;
use tsdb::{Db, Options};

fn data(r: u64) -> Vec<u8> {
    vec![(r % 251) as u8; 1000]
}

#[test]
fn a_full_disk_refuses_chunks_cleanly_and_a_restart_on_it_reads_back_the_written_ones() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mnt) = Tmpfs::mount(&dir.path().join("mnt"), "4m") else { return };
    let path = mnt.0.join("chunks");
    let mut written = Vec::new();
    let m = ChunkMapper::new(&path);
    for r in 1..=3 {
        written.push((r, m.write(r, 0, 1, 0.0, &data(r)).unwrap()));
    }
    fill(&mnt.0.join("filler"));
    // The blocks reserved ahead take chunks until they run out; then every write is refused.
    let mut refused = 0;
    for r in 4..3_000 {
        match m.write(r, 0, 1, 0.0, &data(r)) {
            Some(b) => {
                assert_eq!(refused, 0, "chunk {r} written after one was refused");
                written.push((r, b));
            }
            None => refused += 1,
        }
    }
    assert!(refused > 0, "a full disk took every chunk");
    for (r, b) in &written {
        assert_eq!(bytes(*b), data(*r), "chunk {r}");
    }
    drop(m);
    let want: Vec<u64> = written.iter().map(|w| w.0).collect();

    // Restarted on the still full disk: the next file is created but gets no entry.
    let (m, found) = ChunkMapper::open(&path);
    assert_eq!(found.iter().map(|c| c.r).collect::<Vec<_>>(), want);
    assert!(m.write(5_000, 0, 1, 0.0, &data(5_000)).is_none());
    drop((m, found));

    // Restarted again, still full: that empty file is read (and dropped) without a fault.
    let (m, found) = ChunkMapper::open(&path);
    assert_eq!(found.iter().map(|c| c.r).collect::<Vec<_>>(), want);
    for c in &found {
        assert_eq!(c.data.as_ref(), data(c.r).as_slice(), "chunk {}", c.r);
    }

    // Space comes back: chunks are written again.
    std::fs::remove_file(mnt.0.join("filler")).unwrap();
    let b = m.write(6_000, 0, 1, 0.0, &data(6_000)).unwrap();
    assert_eq!(bytes(b), data(6_000));
    drop((m, found, b, written));
}

/// Twenty series, a sample each 15 s from `steps`.
fn append_steps(db: &Db, steps: std::ops::Range<i64>) {
    for step in steps {
        let mut app = db.appender();
        for i in 0..20 {
            let v = if i % 2 == 0 { step as f64 * 1.5 } else { 7.0 };
            app.append(0, &series(i), 1_000_000 + step * 15_000, v).unwrap();
        }
        app.commit().unwrap();
    }
}

#[test]
fn a_deletion_the_full_cache_cannot_record_fails_and_deletes_nothing() {
    // The cache alone on a full file system while the WAL has room: the deletion's tombstone
    // record would be logged, but not the drop entry that keeps the deleted chunks from coming
    // back on a restart once a checkpoint has replaced the record.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let Some(mnt) = Tmpfs::mount(&data.join(tsdb::HEAD_CHUNKS_DIR), "4m") else { return };
    let opts = || Options { block_range_ms: 30 * 60 * 1000, ..Options::default() };
    let m = [Matcher::new(MatchType::Equal, "i", "2").unwrap()];
    let t = |step: i64| 1_000_000 + step * 15_000;
    let all = {
        let db = Db::open(&data, opts()).unwrap();
        append_steps(&db, 0..460);
        let d = dump(&db);
        db.close().unwrap();
        d
    };
    fill(&mnt.0.join("filler"));
    let db = Db::open(&data, opts()).unwrap();
    assert_eq!(dump(&db), all);
    // Steps 300-330 sit in a full cached chunk (steps 294-413) that stays in the head after
    // the cut below.
    let err = db.delete_series(&m, t(300), t(330)).unwrap_err().to_string();
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(dump(&db), all, "a failed deletion deleted something");
    // Cuts blocks and replaces the WAL by a checkpoint; then a crash.
    let rep = db.maintain(0).unwrap();
    assert!(rep.head_blocks_written > 0, "{rep:?}");
    drop(db);
    let db = Db::open(&data, opts()).unwrap();
    assert_eq!(dump(&db), all, "after a checkpoint and a crash");

    // Space comes back: the deletion goes through, and stays through a crash.
    std::fs::remove_file(mnt.0.join("filler")).unwrap();
    db.delete_series(&m, t(300), t(330)).unwrap();
    let deleted = dump(&db);
    let s2 = &deleted.iter().find(|(l, _)| l.get("i") == Some("2")).unwrap().1;
    assert!(s2.iter().all(|s| s.0 < t(300) || s.0 > t(330)));
    assert!(s2.iter().any(|s| s.0 > t(330) && s.0 < t(413)));
    drop(db);
    let db = Db::open(&data, opts()).unwrap();
    assert_eq!(dump(&db), deleted, "after a crash");
    drop(db);
}

/// The bytes of the cached chunk at `at`.
fn bytes(at: tsdb::head::cachefiles::CacheRef) -> Vec<u8> {
    tsdb::head::cachefiles::files().chunk(at).unwrap().0.as_ref().to_vec()
}
