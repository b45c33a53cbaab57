//! Out-of-order samples survive a restart, after a crash (WAL replay) and after a clean close
//! (head snapshot), whatever their age relative to the chunks cut into the head chunk cache
//! after their commit: a commit checks an out-of-order sample against its series' newest
//! sample then, which a replay cannot know, so a replay must not check it again against the
//! end of the cached chunks. Covered: samples older than the window before the last cached
//! chunk, samples inside a cached chunk's time range, samples coded in the WAL against an
//! in-order value that the cache holds, a checkpoint holding out-of-order samples merged with
//! cached ones, and a window shorter than the age of every out-of-order sample at restart.
//! After each restart the out-of-order samples are also judged as before: the same sample
//! again is a no-op, another value at its timestamp an error.

#![allow(clippy::unwrap_used)]

use model::Labels;
use storage::Appendable;
use tsdb::{Db, Options};

mod common;
use common::{Dump, dump};

const WINDOW: i64 = 10 * 60 * 1000;

fn labels(i: usize) -> Labels {
    Labels::new([("__name__", "o"), ("i", &i.to_string())])
}

fn t(step: i64) -> i64 {
    1_000_000 + step * 15_000
}

fn opts(window: i64) -> Options {
    Options {
        out_of_order_time_window_ms: window,
        block_range_ms: 2 * 3600 * 1000,
        wal_segment_size: 256 * 1024,
        ..Options::default()
    }
}

/// An in-order value: a decimal counter, so WAL values are coded as deltas against their base.
fn value(i: usize, step: i64) -> f64 {
    (step * (i as i64 + 3)) as f64 / 100.0
}

/// Appends steps `steps` in order to series 0..n; after each step, samples 44 s, 7 min and
/// 9.5 min old (out of order, inside the window) to every third series.
fn fill(db: &Db, n: usize, steps: std::ops::Range<i64>) -> Vec<(usize, i64, f64)> {
    let mut late = Vec::new();
    for step in steps {
        let mut app = db.appender();
        for i in 0..n {
            app.append(0, &labels(i), t(step), value(i, step)).unwrap();
        }
        app.commit().unwrap();
        let mut app = db.appender();
        for i in (0..n).filter(|i| i % 3 == 0) {
            for (k, age) in [(1, 44_000), (2, 420_000), (3, 570_000)] {
                let at = t(step) - age - k;
                if at > t(0) {
                    let v = value(i, step) + 0.5 * k as f64;
                    app.append(0, &labels(i), at, v).unwrap();
                    late.push((i, at, v));
                }
            }
        }
        app.commit().unwrap();
    }
    late
}

/// Same samples, bit for bit, series by series.
fn same(got: &Dump, want: &Dump, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: series");
    for (g, w) in got.iter().zip(want) {
        if g != w {
            let only_got: Vec<_> = g.1.iter().filter(|s| !w.1.contains(s)).take(5).collect();
            let only_want: Vec<_> = w.1.iter().filter(|s| !g.1.contains(s)).take(5).collect();
            panic!("{what}: {:?}: only after {only_got:?}, only before {only_want:?}", g.0);
        }
    }
}

/// The restarted head still knows the out-of-order samples still inside the window before
/// `newest`: the same sample again is accepted as a no-op, another value at its timestamp is
/// refused.
fn judged_as_before(db: &Db, late: &[(usize, i64, f64)], newest: i64) {
    let recent = late.iter().rev().filter(|s| s.1 > newest - WINDOW).step_by(3);
    for &(i, at, v) in recent.take(40) {
        let mut app = db.appender();
        app.append(0, &labels(i), at, v).unwrap();
        app.commit().unwrap();
        let mut app = db.appender();
        let other = app.append(0, &labels(i), at, v + 1.0).and_then(|_| app.commit());
        assert!(other.is_err(), "series {i} at {at}: another value was accepted");
    }
}

#[test]
fn out_of_order_samples_older_than_the_window_before_the_cached_chunks_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, late) = {
        let db = Db::open(dir.path(), opts(WINDOW)).unwrap();
        // 300 steps: two chunks of 120 samples cut into the cache, the third open; most
        // out-of-order samples were logged more than the window before the last cut.
        let late = fill(&db, 12, 0..300);
        (dump(&db), late)
    };
    let db = Db::open(dir.path(), opts(WINDOW)).unwrap();
    assert!(!db.restored_from_snapshot());
    same(&dump(&db), &expected, "after a crash");
    judged_as_before(&db, &late, t(299));
}

#[test]
fn out_of_order_samples_inside_a_cached_chunk_and_after_it_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let expected = {
        let db = Db::open(dir.path(), opts(WINDOW)).unwrap();
        fill(&db, 6, 0..125);
        // Newer than the newest sample minus the window, older than the end of the chunk cut
        // at 120 samples: in its time range, between two of its samples.
        let mut app = db.appender();
        app.append(0, &labels(1), t(118) + 7_500, -1.0).unwrap();
        app.append(0, &labels(2), t(119) + 1, -2.0).unwrap();
        app.append(0, &labels(4), t(121) + 1, -4.0).unwrap();
        app.commit().unwrap();
        dump(&db)
    };
    let db = Db::open(dir.path(), opts(WINDOW)).unwrap();
    same(&dump(&db), &expected, "after a crash");
    let mut app = db.appender();
    assert!(app.append(0, &labels(1), t(118) + 7_500, -1.5).and_then(|_| app.commit()).is_err());
}

#[test]
fn out_of_order_samples_in_a_checkpoint_survive_crashes() {
    let dir = tempfile::tempdir().unwrap();
    // 30 min blocks (and chunk ranges of 120 samples).
    let opts = || Options { block_range_ms: 30 * 60 * 1000, ..opts(WINDOW) };
    let (expected, mut late) = {
        let db = Db::open(dir.path(), opts()).unwrap();
        // Past 1.5 block ranges, so that maintenance cuts a block, truncates the head and
        // writes a checkpoint of what stays, out-of-order samples merged with in-order ones.
        let mut late = fill(&db, 9, 0..300);
        let rep = db.maintain(0).unwrap();
        assert!(rep.head_blocks_written > 0, "{rep:?}");
        // More chunks cut into the cache after the checkpoint: its out-of-order samples are
        // older than the window before the cache's end.
        late.extend(fill(&db, 9, 300..540));
        (dump(&db), late)
    };
    let mut expected = expected;
    for round in 0..2 {
        let db = Db::open(dir.path(), opts()).unwrap();
        same(&dump(&db), &expected, &format!("after crash {round}"));
        judged_as_before(&db, &late, t(539 + round * 50));
        late.extend(fill(&db, 9, 540 + round * 50..590 + round * 50));
        expected = dump(&db);
    }
}

#[test]
fn out_of_order_samples_survive_a_clean_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, late) = {
        let db = Db::open(dir.path(), opts(WINDOW)).unwrap();
        let late = fill(&db, 12, 0..300);
        let d = dump(&db);
        db.close().unwrap();
        (d, late)
    };
    let db = Db::open(dir.path(), opts(WINDOW)).unwrap();
    assert!(db.restored_from_snapshot());
    same(&dump(&db), &expected, "after a clean close");
    judged_as_before(&db, &late, t(299));
    // And again after a crash that follows the snapshot's restore.
    let expected = dump(&db);
    drop(db);
    let db = Db::open(dir.path(), opts(WINDOW)).unwrap();
    assert!(!db.restored_from_snapshot());
    same(&dump(&db), &expected, "after a crash following a clean restart");
}

#[test]
fn a_shorter_window_at_restart_keeps_the_samples_logged_under_the_longer_one() {
    let dir = tempfile::tempdir().unwrap();
    let expected = {
        let db = Db::open(dir.path(), opts(WINDOW)).unwrap();
        fill(&db, 6, 0..200);
        dump(&db)
    };
    let db = Db::open(dir.path(), opts(60_000)).unwrap();
    same(&dump(&db), &expected, "after a crash, with a one-minute window");
}
