//! WAL replay appends decoded samples grouped by series, in bounded batches, on two threads
//! when it may: after crashes the data equals the data before, bit for bit, with an
//! out-of-order window (samples logged out of order, with a window longer than the data and
//! one shorter than a chunk), series created and removed between the
//! WAL's first and last records, deletions, a checkpoint, and many batches.

#![allow(clippy::unwrap_used)]

use model::{Labels, MatchType, Matcher};
use storage::Appendable;
use tsdb::{Db, Options};

mod common;
use common::{dump, value};

fn labels(i: usize) -> Labels {
    Labels::new([("__name__", "g"), ("i", &i.to_string())])
}

fn t(step: i64) -> i64 {
    1_000_000 + step * 15_000
}

/// Appends steps to the series alive then: 0..50 stop after step 100, 150..200 start at step
/// 120; every seventh series also gets a sample 44.993 s in the past (out of order).
fn fill(db: &Db, steps: std::ops::Range<i64>, ooo: bool) {
    for step in steps {
        let mut app = db.appender();
        for i in 0..200 {
            if (i < 50 && step > 100) || (i >= 150 && step < 120) {
                continue;
            }
            app.append(0, &labels(i), t(step) + (i as i64 % 3), value(i, step)).unwrap();
            if ooo && i % 7 == 0 && step > 3 {
                app.append(0, &labels(i), t(step) - 44_993, value(i, step) + 0.25).unwrap();
            }
        }
        app.commit().unwrap();
    }
}

fn crash_and_compare(ooo_window_ms: i64) {
    let dir = tempfile::tempdir().unwrap();
    let opts = || Options {
        block_range_ms: 30 * 60 * 1000,
        out_of_order_time_window_ms: ooo_window_ms,
        wal_segment_size: 96 * 1024,
        ..Options::default()
    };
    let ooo = ooo_window_ms > 0;
    let mut expected = {
        let db = Db::open(dir.path(), opts()).unwrap();
        fill(&db, 0..260, ooo);
        let m = [Matcher::new(MatchType::Equal, "i", "60").unwrap()];
        db.delete_series(&m, t(150), t(170)).unwrap();
        // Cuts blocks, drops the series without data left in the head, writes a checkpoint.
        let rep = db.maintain(0).unwrap();
        assert!(rep.head_blocks_written > 0, "{rep:?}");
        fill(&db, 260..420, ooo);
        let m = [Matcher::new(MatchType::Equal, "i", "160").unwrap()];
        db.delete_series(&m, t(300), t(320)).unwrap();
        fill(&db, 420..480, ooo);
        dump(&db)
        // Dropped without close: a crash.
    };
    assert!(expected.len() >= 150, "{}", expected.len());
    for round in 0..2i64 {
        let db = Db::open(dir.path(), opts()).unwrap();
        assert!(!db.restored_from_snapshot());
        same(&dump(&db), &expected, round);
        fill(&db, 480 + round * 70..550 + round * 70, ooo);
        expected = dump(&db);
    }
    let db = Db::open(dir.path(), opts()).unwrap();
    same(&dump(&db), &expected, 2);
}

/// Fails on the first series whose samples differ, naming the samples only one side has.
fn same(got: &common::Dump, want: &common::Dump, round: i64) {
    for (g, w) in got.iter().zip(want) {
        if g != w {
            let only_got: Vec<_> = g.1.iter().filter(|s| !w.1.contains(s)).collect();
            let only_want: Vec<_> = w.1.iter().filter(|s| !g.1.contains(s)).collect();
            panic!(
                "after crash {round}: {:?} / {:?}: only replayed {only_got:?}, only before {only_want:?}",
                g.0, w.0
            );
        }
    }
    assert_eq!(got.len(), want.len(), "series after crash {round}");
}

#[test]
fn grouped_replay_keeps_every_sample() {
    crash_and_compare(0);
}

#[test]
fn grouped_replay_keeps_out_of_order_samples() {
    // A window longer than the data: a replayed out-of-order sample is never older than the
    // window before its series' last cached chunk, which the replay checks it against.
    crash_and_compare(6 * 3600 * 1000);
}

#[test]
fn grouped_replay_keeps_out_of_order_samples_older_than_the_window_before_the_cached_chunks() {
    // A window shorter than a chunk's time span: most out-of-order samples were logged long
    // (more than the window) before their series' last chunk was cut into the chunk cache.
    crash_and_compare(10 * 60 * 1000);
}
