//! Restarts reuse the head chunk cache: full chunks of the previous run are attached to their
//! series and only later samples are re-appended from the WAL. The data after any number of
//! restarts equals the data before, deletions stay deleted, and out-of-order samples survive.

#![allow(clippy::unwrap_used)]

use model::{MatchType, Matcher};
use storage::Appendable;
use tsdb::{Db, Options};

mod common;
use common::{dump, series};

fn fill(db: &Db, steps: std::ops::Range<i64>) {
    for step in steps {
        let mut app = db.appender();
        for i in 0..20 {
            let v = if i % 2 == 0 { step as f64 * 1.5 } else { 7.0 };
            app.append(0, &series(i), 1_000_000 + step * 15_000, v).unwrap();
        }
        app.commit().unwrap();
    }
}

fn chunk_files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join(tsdb::HEAD_CHUNKS_DIR))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn restarts_reuse_cached_chunks_and_keep_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let mut expected;
    {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        fill(&db, 0..300);
        expected = dump(&db);
        db.close().unwrap();
    }
    let files_before = chunk_files(dir.path());
    assert!(!files_before.is_empty());
    for round in 0..3i64 {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        assert_eq!(dump(&db), expected, "after restart {round}");
        // The previous run's cache files are still there (read, not rebuilt).
        let files = chunk_files(dir.path());
        assert!(files_before.iter().all(|f| files.contains(f)), "{files:?}");
        fill(&db, 300 + round * 200..500 + round * 200);
        expected = dump(&db);
        db.close().unwrap();
    }
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(dump(&db), expected);
}

#[test]
fn deleted_head_data_stays_deleted_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let expected = {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        fill(&db, 0..400);
        let m = [Matcher::new(MatchType::Equal, "i", "2").unwrap()];
        db.delete_series(&m, 1_000_000, 1_000_000 + 200 * 15_000).unwrap();
        fill(&db, 400..500);
        let d = dump(&db);
        db.close().unwrap();
        d
    };
    let s2 = expected.iter().find(|(l, _)| l.get("i") == Some("2")).unwrap();
    assert_eq!(s2.1.first().unwrap().0, 1_000_000 + 201 * 15_000);
    for _ in 0..2 {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        assert_eq!(dump(&db), expected);
        db.close().unwrap();
    }
}

#[test]
fn out_of_order_samples_survive_a_restart_with_cached_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let opts = || Options { out_of_order_time_window_ms: 3_600_000, ..Options::default() };
    let expected = {
        let db = Db::open(dir.path(), opts()).unwrap();
        fill(&db, 0..300);
        let mut app = db.appender();
        app.append(0, &series(1), 1_000_000 + 230 * 15_000 + 7, 99.0).unwrap();
        app.commit().unwrap();
        let d = dump(&db);
        db.close().unwrap();
        d
    };
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(dump(&db), expected);
}

#[test]
fn deletions_stay_deleted_after_a_checkpoint_dropped_their_tombstones() {
    let dir = tempfile::tempdir().unwrap();
    let opts = || Options { block_range_ms: 30 * 60 * 1000, ..Options::default() };
    let expected = {
        let db = Db::open(dir.path(), opts()).unwrap();
        fill(&db, 0..460);
        let m = [Matcher::new(MatchType::Equal, "i", "2").unwrap()];
        // Steps 300-330 sit in a full chunk (steps 294-413) that stays in the head after the cut.
        db.delete_series(&m, 1_000_000 + 300 * 15_000, 1_000_000 + 330 * 15_000).unwrap();
        // Cuts blocks and replaces the WAL (and its tombstone record) by a checkpoint.
        let rep = db.maintain(0).unwrap();
        assert!(rep.head_blocks_written > 0, "{rep:?}");
        fill(&db, 460..500);
        let d = dump(&db);
        db.close().unwrap();
        d
    };
    let s2 = &expected.iter().find(|(l, _)| l.get("i") == Some("2")).unwrap().1;
    let t = |step: i64| 1_000_000 + step * 15_000;
    assert!(s2.iter().all(|s| s.0 < t(300) || s.0 > t(330)));
    assert!(s2.iter().any(|s| s.0 > t(330) && s.0 < t(413)));
    for _ in 0..2 {
        let db = Db::open(dir.path(), opts()).unwrap();
        assert_eq!(dump(&db), expected);
        db.close().unwrap();
    }
}

#[test]
fn a_deletion_to_the_end_of_time_keeps_later_samples_through_a_crash() {
    // The API deletes up to the end of time by default. The deletion covers the samples there
    // were then (as Prometheus, which clamps each series' interval to its data), not those
    // appended after it, also when a crash has the WAL replay it over the cached chunks that
    // hold them.
    let dir = tempfile::tempdir().unwrap();
    let t = |step: i64| 1_000_000 + step * 15_000;
    let expected = {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        fill(&db, 0..100);
        let m = [Matcher::new(MatchType::Equal, "i", "2").unwrap()];
        db.delete_series(&m, t(50), i64::MAX).unwrap();
        fill(&db, 100..400);
        dump(&db)
        // Dropped without closing: a crash.
    };
    let s2 = &expected.iter().find(|(l, _)| l.get("i") == Some("2")).unwrap().1;
    assert_eq!(s2.len(), 50 + 300);
    assert!(s2.iter().all(|s| s.0 < t(50) || s.0 >= t(100)));
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert!(!db.restored_from_snapshot());
    assert_eq!(dump(&db), expected);
}

/// The newest WAL segment file.
fn last_segment(dir: &std::path::Path) -> std::path::PathBuf {
    let mut segs: Vec<_> = std::fs::read_dir(dir.join("wal"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
        .collect();
    segs.sort();
    segs.pop().unwrap()
}

#[test]
fn a_torn_wal_loses_whole_commits_even_where_cached_chunks_were_cut_after_the_tear() {
    // Series start at different steps, so they cut their chunks at different commits: some
    // after the commit the WAL is torn in. Those chunks (in the cache) hold samples of commits
    // the WAL lost; the commits must still be all there or not at all.
    let dir = tempfile::tempdir().unwrap();
    let t = |step: i64| 1_000_000 + step * 15_000;
    let steps = 400;
    let mut sizes = Vec::new();
    let seg = {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        for step in 0..steps {
            let mut app = db.appender();
            for i in 0..40usize {
                if step >= i as i64 * 3 {
                    app.append(0, &series(i), t(step), common::value(i, step)).unwrap();
                }
            }
            app.commit().unwrap();
            sizes.push(std::fs::metadata(last_segment(dir.path())).unwrap().len());
        }
        last_segment(dir.path())
        // Dropped without closing: a crash.
    };
    // Tear the WAL inside the record of commit `torn`: it and every later one are lost.
    let torn = 300usize;
    let at = sizes[torn - 1] + (sizes[torn] - sizes[torn - 1]) / 2;
    let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    f.set_len(at).unwrap();
    drop(f);
    for round in 0..2 {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let got = dump(&db);
        assert_eq!(got.len(), 40);
        for (labels, samples) in &got {
            let i: i64 = labels.get("i").unwrap().parse().unwrap();
            let want: Vec<i64> = (i * 3..torn as i64).map(t).collect();
            let have: Vec<i64> = samples.iter().map(|s| s.0).collect();
            assert_eq!(have, want, "round {round}: series {i}");
        }
        db.close().unwrap();
    }
}
