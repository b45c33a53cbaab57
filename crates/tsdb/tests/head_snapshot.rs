//! A clean close leaves a head snapshot the next open restores the head from instead of
//! replaying the WAL. The restored head equals the replayed one (samples, out-of-order samples,
//! deletions, series refs), and a snapshot that no longer matches the WAL or the head chunk
//! cache, or is damaged, is ignored in favour of the WAL.

#![allow(clippy::unwrap_used)]

use model::{Labels, MatchType, Matcher};
use storage::Appendable;
use tsdb::{Db, Options};

mod common;
use common::{dump, series};

const SNAPSHOT: &str = "pharos_head_snapshot";

fn t(step: i64) -> i64 {
    1_000_000 + step * 15_000
}

fn fill(db: &Db, steps: std::ops::Range<i64>) {
    for step in steps {
        let mut app = db.appender();
        for i in 0..20 {
            let v = match i % 3 {
                0 => step as f64 * 1.5,
                1 => 7.0,
                _ => f64::from_bits(0x7ff0_0000_0000_0002 + step as u64),
            };
            app.append(0, &series(i), t(step) + (i as i64 % 3), v).unwrap();
        }
        app.commit().unwrap();
    }
}

fn opts() -> Options {
    Options { out_of_order_time_window_ms: 3_600_000, ..Options::default() }
}

/// Appends full and partial chunks, out-of-order samples and a deletion, and a series that
/// was created but never committed.
fn populate(db: &Db) {
    fill(db, 0..300);
    let mut app = db.appender();
    app.append(0, &series(1), t(230) + 7, 99.0).unwrap();
    app.append(0, &series(4), t(299) - 5, -1.0).unwrap();
    app.commit().unwrap();
    let m = [Matcher::new(MatchType::Equal, "i", "2").unwrap()];
    db.delete_series(&m, t(100), t(150)).unwrap();
    fill(db, 300..310);
    let mut app = db.appender();
    app.append(0, &Labels::new([("__name__", "never_committed")]), t(400), 1.0).unwrap();
    app.rollback();
}

fn refs(db: &Db) -> Vec<u64> {
    let mut app = db.appender();
    (0..20).map(|i| app.append(0, &series(i), t(10_000), 0.0).unwrap()).collect()
}

#[test]
fn a_clean_close_restores_the_head_from_the_snapshot_equal_to_a_wal_replay() {
    let snap_dir = tempfile::tempdir().unwrap();
    let wal_dir = tempfile::tempdir().unwrap();
    let expected = {
        let db = Db::open(snap_dir.path(), opts()).unwrap();
        populate(&db);
        let d = dump(&db);
        db.close().unwrap();
        d
    };
    assert!(snap_dir.path().join(SNAPSHOT).exists());
    // The same data directory without the snapshot: what a kill -9 leaves.
    copy_dir(snap_dir.path(), wal_dir.path());
    std::fs::remove_file(wal_dir.path().join(SNAPSHOT)).unwrap();

    let from_snap = Db::open(snap_dir.path(), opts()).unwrap();
    assert!(from_snap.restored_from_snapshot());
    assert!(!snap_dir.path().join(SNAPSHOT).exists(), "a used snapshot is removed");
    let from_wal = Db::open(wal_dir.path(), opts()).unwrap();
    assert!(!from_wal.restored_from_snapshot());
    assert_eq!(dump(&from_snap), expected);
    assert_eq!(dump(&from_wal), expected);
    assert_eq!(from_snap.head_series(), from_wal.head_series());
    assert_eq!(refs(&from_snap), refs(&from_wal), "series keep their refs");

    // Appends go on where they stopped: duplicates and out-of-order samples are judged
    // against the restored newest samples, and new series never reuse a ref.
    for db in [&from_snap, &from_wal] {
        let mut app = db.appender();
        assert!(app.append(0, &series(1), t(309) + 1, 1.0).is_err(), "duplicate timestamp");
        let mut app = db.appender();
        let r = app.append(0, &Labels::new([("__name__", "fresh")]), t(311), 1.0).unwrap();
        app.commit().unwrap();
        assert!(r > refs(db).into_iter().max().unwrap());
    }
    assert_eq!(dump(&from_snap), dump(&from_wal));
    // And a second clean restart keeps everything.
    let after = dump(&from_snap);
    from_snap.close().unwrap();
    drop(from_snap);
    let again = Db::open(snap_dir.path(), opts()).unwrap();
    assert!(again.restored_from_snapshot());
    assert_eq!(dump(&again), after);
}

#[test]
fn a_snapshot_older_than_the_wal_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path(), opts()).unwrap();
        fill(&db, 0..200);
        db.close().unwrap();
    }
    let old = std::fs::read(dir.path().join(SNAPSHOT)).unwrap();
    let expected = {
        let db = Db::open(dir.path(), opts()).unwrap();
        fill(&db, 200..260);
        let d = dump(&db);
        // No clean close: as after kill -9, the WAL alone holds the last samples.
        drop(db);
        d
    };
    std::fs::write(dir.path().join(SNAPSHOT), old).unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    assert!(!db.restored_from_snapshot());
    assert_eq!(dump(&db), expected);
}

#[test]
fn a_damaged_snapshot_or_chunk_cache_falls_back_to_the_wal() {
    for damage in ["snapshot", "cache"] {
        let dir = tempfile::tempdir().unwrap();
        let expected = {
            let db = Db::open(dir.path(), opts()).unwrap();
            populate(&db);
            let d = dump(&db);
            db.close().unwrap();
            d
        };
        let path = match damage {
            "snapshot" => dir.path().join(SNAPSHOT),
            _ => dir.path().join(tsdb::HEAD_CHUNKS_DIR).join("000001"),
        };
        let mut bytes = std::fs::read(&path).unwrap();
        let at = match damage {
            "snapshot" => bytes.len() / 2,
            // Inside the third cached chunk entry: it and every later one are unusable.
            _ => 500,
        };
        bytes[at] ^= 0x5a;
        std::fs::write(&path, bytes).unwrap();
        let db = Db::open(dir.path(), opts()).unwrap();
        assert!(!db.restored_from_snapshot(), "{damage}");
        assert_eq!(dump(&db), expected, "{damage}");
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if e.file_name() == "lock" {
            continue;
        }
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}
