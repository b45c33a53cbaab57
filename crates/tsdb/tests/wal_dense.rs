//! The WAL's dense sample records survive replay bit for bit: across segment cuts (bases are
//! per segment), with out-of-order samples, deletions and repeated series in one batch, and
//! after a checkpoint.

#![allow(clippy::unwrap_used)]

use model::{Labels, MatchType, Matcher};
use storage::Appendable;
use tsdb::{Db, Options};

mod common;
use common::{dump, value};

#[test]
fn dense_records_replay_bit_exactly_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let opts = || Options {
        wal_segment_size: 64 * 1024,
        out_of_order_time_window_ms: 3_600_000,
        ..Options::default()
    };
    let labels: Vec<Labels> =
        (0..200).map(|i| Labels::new([("__name__", "m"), ("i", &i.to_string())])).collect();
    let before = {
        let db = Db::open(dir.path(), opts()).unwrap();
        for step in 0..300i64 {
            let t = 1_000_000 + step * 15_000 + step % 4;
            let mut app = db.appender();
            for (i, l) in labels.iter().enumerate() {
                app.append(0, l, t, value(i, step)).unwrap();
            }
            // A second, later sample of one series in the same batch, and an out-of-order one.
            app.append(0, &labels[1], t + 5, value(1, step) + 0.01).unwrap();
            if step > 2 {
                app.append(0, &labels[2], t - 20_000, 7.25).unwrap();
            }
            app.commit().unwrap();
            if step == 150 {
                let m = [Matcher::new(MatchType::Equal, "i", "3").unwrap()];
                db.delete_series(&m, t - 100_000, t).unwrap();
            }
        }
        let d = dump(&db);
        db.close().unwrap();
        d
    };
    let segments = std::fs::read_dir(dir.path().join("wal")).unwrap().count();
    assert!(segments > 3, "expected several segments, got {segments}");
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(dump(&db), before);
}
