//! Compaction planning through the database, on 2 h blocks as the head cuts them: blocks are
//! merged into 6 h and 18 h ranges as Prometheus merges them, the newest block is always left
//! as it is, and the data reads back the same.

#![allow(clippy::unwrap_used)]

use model::{Labels, Matcher};
use storage::Queryable;
use tsdb::blockwriter::SortedBlockWriter;
use tsdb::meta::Compaction;
use tsdb::{Db, Options};

const H: i64 = 3_600_000;

/// Writes one 2 h block at `[from, from + 2 h)`: three series, a sample a minute.
fn block(dir: &std::path::Path, from: i64) {
    let mut w = SortedBlockWriter::new(dir, from, from + 2 * H).unwrap();
    for s in 0..3 {
        let labels = Labels::new([("__name__", "m"), ("s", &s.to_string())]);
        let samples: Vec<(i64, f64)> =
            (0..120).map(|i| (from + i * 60_000, (from / 60_000 + i + s) as f64)).collect();
        w.add_series(labels, &samples).unwrap();
    }
    w.finish(Compaction { level: 1, ..Compaction::default() }).unwrap();
}

/// (min hour, max hour, level) of each block, oldest first.
fn layout(db: &Db) -> Vec<(i64, i64, u32)> {
    let mut v: Vec<_> =
        db.blocks().iter().map(|m| (m.min_time / H, m.max_time / H, m.compaction.level)).collect();
    v.sort_unstable();
    v
}

/// Every sample of the three series, in order.
fn samples(db: &Db) -> Vec<Vec<(i64, f64)>> {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let mut out = Vec::new();
    for s in q.select(true, None, &[Matcher::equal("__name__", "m")]).unwrap() {
        let mut s = s.unwrap();
        let got = storage::collect_samples(s.samples.as_mut()).unwrap();
        out.push(got.iter().map(|x| (x.t, x.v)).collect());
    }
    out
}

/// What `block` wrote for the blocks starting at `hours`.
fn want(hours: std::ops::Range<i64>) -> Vec<Vec<(i64, f64)>> {
    (0..3)
        .map(|s| {
            hours
                .clone()
                .step_by(2)
                .flat_map(|h| (0..120).map(move |i| (h * H + i * 60_000, (h * 60 + i + s) as f64)))
                .collect()
        })
        .collect()
}

#[test]
fn blocks_merge_into_larger_ranges_leaving_the_newest_out() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { retention_ms: 0, ..Options::default() };
    // Three 2 h blocks fill 0-6 h, but the third is the newest: nothing is merged yet.
    for h in [0, 2, 4] {
        block(dir.path(), h * H);
    }
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    db.maintain(0).unwrap();
    assert_eq!(layout(&db), vec![(0, 2, 1), (2, 4, 1), (4, 6, 1)]);
    db.close().unwrap();
    drop(db);
    // A fourth block makes the first 6 h range complete and no longer the newest.
    block(dir.path(), 6 * H);
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    db.maintain(0).unwrap();
    assert_eq!(layout(&db), vec![(0, 6, 2), (6, 8, 1)]);
    assert_eq!(samples(&db), want(0..8));
    db.close().unwrap();
    drop(db);
    // Up to 14 h: 6-12 h merges; 0-12 h does not fill 18 h and reaches past the newest
    // block's predecessor, so it waits.
    for h in [8, 10, 12] {
        block(dir.path(), h * H);
    }
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    db.maintain(0).unwrap();
    assert_eq!(layout(&db), vec![(0, 6, 2), (6, 12, 2), (12, 14, 1)]);
    db.close().unwrap();
    drop(db);
    // Up to 20 h: 12-18 h merges, then the three 6 h blocks fill 0-18 h.
    for h in [14, 16, 18] {
        block(dir.path(), h * H);
    }
    let db = Db::open(dir.path(), opts).unwrap();
    db.maintain(0).unwrap();
    assert_eq!(layout(&db), vec![(0, 18, 3), (18, 20, 1)]);
    assert_eq!(samples(&db), want(0..20));
}

#[test]
fn a_gap_closes_the_range_before_the_newest_block() {
    let dir = tempfile::tempdir().unwrap();
    // 0-2, 2-4, then a gap, 8-10 and 10-12: the first range (0-6 h) will get no more blocks.
    for h in [0, 2, 8, 10] {
        block(dir.path(), h * H);
    }
    let db = Db::open(dir.path(), Options { retention_ms: 0, ..Options::default() }).unwrap();
    db.maintain(0).unwrap();
    assert_eq!(layout(&db), vec![(0, 4, 2), (8, 10, 1), (10, 12, 1)]);
}
