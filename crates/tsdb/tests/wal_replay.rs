//! WAL replay after a crash (the database dropped without `close`, so no head snapshot): with
//! the head chunk cache of the previous runs, samples inside cached chunks are skipped while
//! decoding and the rest are decoded against the bases they were written with. The data after
//! every crash and replay equals the data before, bit for bit, across segment cuts, several
//! samples of a series in one batch, deletions and series created between crashes.

#![allow(clippy::unwrap_used)]

use model::{Labels, MatchType, Matcher};
use storage::{Appendable, Queryable};
use tsdb::{Db, Options};

mod common;
use common::{dump, value};

fn labels(i: usize) -> Labels {
    Labels::new([("__name__", "m"), ("i", &i.to_string()), ("job", "replay")])
}

/// Appends `steps` to series `0..n`, a second sample of series 1 in every batch.
fn fill(db: &Db, n: usize, steps: std::ops::Range<i64>) {
    for step in steps {
        let t = 1_000_000 + step * 15_000 + step % 3;
        let mut app = db.appender();
        for i in 0..n {
            app.append(0, &labels(i), t, value(i, step)).unwrap();
        }
        app.append(0, &labels(1), t + 7, value(1, step) + 0.5).unwrap();
        app.commit().unwrap();
    }
}

#[test]
fn crashes_replay_the_wal_over_the_chunk_cache_bit_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let opts = || Options { wal_segment_size: 70 * 1024, ..Options::default() };
    let mut expected = {
        let db = Db::open(dir.path(), opts()).unwrap();
        fill(&db, 60, 0..400);
        let m = [Matcher::new(MatchType::Equal, "i", "4").unwrap()];
        db.delete_series(&m, 1_000_000 + 100 * 15_000, 1_000_000 + 180 * 15_000).unwrap();
        fill(&db, 60, 400..450);
        dump(&db)
        // Dropped without close: a crash.
    };
    let segs: Vec<_> = std::fs::read_dir(dir.path().join("wal"))
        .unwrap()
        .flatten()
        .map(|e| (e.file_name(), e.metadata().unwrap().len()))
        .collect();
    assert!(segs.len() > 3, "{segs:?}");
    for round in 0..3i64 {
        let db = Db::open(dir.path(), opts()).unwrap();
        assert!(!db.restored_from_snapshot());
        assert_eq!(dump(&db), expected, "after crash {round}");
        // More series and samples, some of them in the chunks the replay cut again.
        fill(&db, 60 + 10 * round as usize, 450 + round * 130..580 + round * 130);
        expected = dump(&db);
    }
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(dump(&db), expected);
    // The label index of replayed series answers as before.
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let m = [Matcher::new(MatchType::Equal, "i", "61").unwrap()];
    assert_eq!(q.select(false, None, &m).unwrap().count(), 1);
    let m = [Matcher::new(MatchType::Equal, "job", "replay").unwrap()];
    assert_eq!(q.select(false, None, &m).unwrap().count(), 80);
}
