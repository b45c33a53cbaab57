//! End-to-end behaviour of `Db`: appends, queries across head and blocks, WAL replay, head
//! compaction, block compaction, deletion and retention.

#![allow(clippy::unwrap_used)]

use model::{Labels, MatchType, Matcher, Sample};
use storage::{Appendable, Queryable, StorageError, collect_samples};
use tsdb::{Db, Options};

fn lbl(name: &str, job: &str) -> Labels {
    Labels::new([("__name__", name), ("job", job)])
}

fn query(db: &Db, m: &[Matcher], mint: i64, maxt: i64) -> Vec<(Labels, Vec<Sample>)> {
    let q = db.querier(mint, maxt).unwrap();
    let mut out = Vec::new();
    for s in q.select(true, None, m).unwrap() {
        let mut s = s.unwrap();
        out.push((s.labels.clone(), collect_samples(s.samples.as_mut()).unwrap()));
    }
    out
}

fn fill(db: &Db, series: &[Labels], from: i64, to: i64, step: i64) {
    let mut t = from;
    while t < to {
        let mut app = db.appender();
        for (i, l) in series.iter().enumerate() {
            app.append(0, l, t, (t / step) as f64 + i as f64).unwrap();
        }
        app.commit().unwrap();
        t += step;
    }
}

#[test]
fn append_rules_and_atomic_batches() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let a = lbl("up", "a");
    let mut app = db.appender();
    app.append(0, &a, 1000, 1.0).unwrap();
    app.append(0, &a, 2000, f64::NAN).unwrap();
    app.append(0, &a, 3000, model::value::stale_nan()).unwrap();
    assert_eq!(app.append(0, &a, 2500, 1.0), Err(StorageError::OutOfOrderSample));
    assert_eq!(app.append(0, &a, 3000, 1.0), Err(StorageError::DuplicateSampleForTimestamp));
    app.commit().unwrap();
    // Nothing before commit, nothing after rollback.
    let mut app = db.appender();
    app.append(0, &a, 4000, 4.0).unwrap();
    assert_eq!(query(&db, &[Matcher::equal("job", "a")], 0, 10_000)[0].1.len(), 3);
    app.rollback();
    let got = query(&db, &[Matcher::equal("job", "a")], 0, 10_000);
    assert_eq!(got[0].1.len(), 3);
    assert!(model::value::is_stale_nan(got[0].1[2].v));
    // Two appenders racing: the second commit drops the sample the first one's makes a
    // duplicate and applies the rest, as Prometheus' commit does.
    let mut x = db.appender();
    let mut y = db.appender();
    let b = lbl("up", "b");
    x.append(0, &a, 5000, 5.0).unwrap();
    y.append(0, &b, 5000, 1.0).unwrap();
    y.append(0, &a, 5000, 6.0).unwrap();
    x.commit().unwrap();
    y.commit().unwrap();
    assert_eq!(query(&db, &[Matcher::equal("job", "b")], 0, 10_000)[0].1.len(), 1);
    let got = query(&db, &[Matcher::equal("job", "a")], 0, 10_000);
    assert_eq!((got[0].1[3].t, got[0].1[3].v), (5000, 5.0));
}

#[test]
fn out_of_order_window() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { out_of_order_time_window_ms: 10_000, ..Options::default() };
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    let a = lbl("m", "a");
    let mut app = db.appender();
    app.append(0, &a, 20_000, 2.0).unwrap();
    app.commit().unwrap();
    let mut app = db.appender();
    app.append(0, &a, 15_000, 1.5).unwrap();
    assert_eq!(app.append(0, &a, 5_000, 1.0), Err(StorageError::TooOldSample));
    app.commit().unwrap();
    let got = query(&db, &[Matcher::equal("job", "a")], 0, 30_000);
    assert_eq!(got[0].1, vec![Sample::new(15_000, 1.5), Sample::new(20_000, 2.0)]);
    drop(db);
    let db = Db::open(dir.path(), opts).unwrap();
    let got = query(&db, &[Matcher::equal("job", "a")], 0, 30_000);
    assert_eq!(got[0].1.len(), 2, "out-of-order samples survive replay");
}

#[test]
fn wal_replay_compaction_and_queries_across_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { block_range_ms: 3_600_000, ..Options::default() };
    let series: Vec<Labels> = (0..50).map(|i| lbl("req", &format!("j{i:02}"))).collect();
    {
        let db = Db::open(dir.path(), opts.clone()).unwrap();
        fill(&db, &series, 0, 3 * 3_600_000, 60_000);
    }
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    let m = [Matcher::new(MatchType::Regex, "job", "j0.*").unwrap()];
    let before = query(&db, &m, 0, i64::MAX);
    assert_eq!(before.len(), 10);
    assert_eq!(before[3].1.len(), 180);
    let rep = db.maintain(0).unwrap();
    assert!(rep.head_blocks_written >= 1, "{rep:?}");
    assert!(!db.blocks().is_empty());
    assert_eq!(query(&db, &m, 0, i64::MAX), before, "same data from blocks + head");
    // Restart after compaction: blocks + checkpoint + remaining WAL.
    drop(db);
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    assert_eq!(query(&db, &m, 0, i64::MAX), before);
    // Label APIs.
    let q = db.querier(0, i64::MAX).unwrap();
    assert_eq!(q.label_names(&[]).unwrap(), vec!["__name__", "job"]);
    assert_eq!(q.label_values("job", &m).unwrap().len(), 10);
    // Force the rest into blocks, add a fourth hour (compaction leaves the newest block
    // alone, as Prometheus does) and let compaction merge the first three.
    db.compact_head().unwrap();
    fill(&db, &series, 3 * 3_600_000, 4 * 3_600_000, 60_000);
    db.compact_head().unwrap();
    let n_blocks = db.blocks().len();
    assert!(n_blocks >= 4);
    db.maintain(0).unwrap();
    assert!(db.blocks().len() < n_blocks, "blocks were compacted: {:?}", db.blocks());
    let first3 = 3 * 3_600_000 - 1;
    assert_eq!(query(&db, &m, 0, first3), before);
    // Deletion via tombstones, then cleaning them.
    db.delete_series(&[Matcher::equal("job", "j03")], 0, 600_000).unwrap();
    let got = query(&db, &[Matcher::equal("job", "j03")], 0, first3);
    assert_eq!(got[0].1.len(), 180 - 11);
    db.clean_tombstones().unwrap();
    let got2 = query(&db, &[Matcher::equal("job", "j03")], 0, first3);
    assert_eq!(got, got2);
    let stats = db.stats(10);
    assert_eq!(stats.head_stats.num_series, 0);
}

#[test]
fn head_deletion_is_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let a = lbl("m", "a");
    {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        fill(&db, std::slice::from_ref(&a), 0, 100_000, 10_000);
        db.delete_series(&[Matcher::equal("job", "a")], 20_000, 50_000).unwrap();
        assert_eq!(query(&db, &[Matcher::equal("job", "a")], 0, i64::MAX)[0].1.len(), 6);
        let st = db.stats(10);
        assert_eq!(st.head_stats.num_series, 1);
        assert_eq!(st.series_count_by_metric_name[0].name, "m");
    }
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(query(&db, &[Matcher::equal("job", "a")], 0, i64::MAX)[0].1.len(), 6);
}

#[test]
fn retention_by_time_drops_old_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let opts =
        Options { block_range_ms: 3_600_000, retention_ms: 4 * 3_600_000, ..Options::default() };
    let db = Db::open(dir.path(), opts).unwrap();
    fill(&db, &[lbl("m", "a")], 0, 10 * 3_600_000, 600_000);
    db.compact_head().unwrap();
    db.maintain(0).unwrap();
    let oldest = db.blocks().iter().map(|b| b.min_time).min().unwrap();
    assert!(oldest >= 5 * 3_600_000, "oldest block starts at {oldest}");
}

#[test]
fn corrupt_block_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        fill(&db, &[lbl("m", "a")], 0, 10_000_000, 60_000);
        db.compact_head().unwrap();
    }
    let blocks: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("index").exists())
        .collect();
    let idx = blocks[0].path().join("index");
    let mut b = std::fs::read(&idx).unwrap();
    let n = b.len();
    b[n - 20] ^= 0xff; // inside the table of contents
    std::fs::write(&idx, b).unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(db.blocks().len(), blocks.len() - 1);
    let got = query(&db, &[Matcher::equal("job", "a")], 0, i64::MAX);
    assert!(!got.is_empty());
}

#[test]
fn snapshot_with_head_has_all_data() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { block_range_ms: 3_600_000, ..Options::default() };
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    let series: Vec<Labels> = (0..5).map(|i| lbl("s", &format!("j{i}"))).collect();
    fill(&db, &series, 0, 2 * 3_600_000, 30_000);
    db.maintain(0).unwrap();
    fill(&db, &series, 2 * 3_600_000, 5 * 3_600_000, 30_000);
    let m = [Matcher::new(MatchType::Regex, "job", ".+").unwrap()];
    let want = query(&db, &m, i64::MIN, i64::MAX);
    let snap = tempfile::tempdir().unwrap();
    db.export(snap.path()).unwrap();
    let copy = Db::open(snap.path(), opts).unwrap();
    assert_eq!(query(&copy, &m, i64::MIN, i64::MAX), want);
    assert_eq!(query(&copy, &m, i64::MIN, i64::MAX)[0].1.len(), 600);
}

#[test]
fn extreme_timestamps_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options { retention_ms: 0, ..Options::default() }).unwrap();
    let a = lbl("m", "a");
    let b = lbl("m", "b");
    let mut app = db.appender();
    app.append(0, &a, i64::MIN + 1, 1.0).unwrap();
    app.append(0, &a, 0, 2.0).unwrap();
    app.append(0, &b, i64::MAX - 1, 3.0).unwrap();
    app.commit().unwrap();
    let got = query(&db, &[Matcher::equal("__name__", "m")], i64::MIN, i64::MAX);
    assert_eq!(got.iter().map(|s| s.1.len()).sum::<usize>(), 3);
    db.maintain(0).unwrap();
    drop(db);
    let db = Db::open(dir.path(), Options { retention_ms: 0, ..Options::default() }).unwrap();
    let got = query(&db, &[Matcher::equal("__name__", "m")], i64::MIN, i64::MAX);
    assert_eq!(got.iter().map(|s| s.1.len()).sum::<usize>(), 3);
}

#[test]
fn a_directory_is_opened_by_one_database_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let err = Db::open(dir.path(), Options::default()).unwrap_err();
    assert!(err.to_string().contains("in use"), "{err}");
    drop(db);
    Db::open(dir.path(), Options::default()).unwrap();
}

#[test]
fn block_tombstones_cover_only_each_series_data_as_in_prometheus() {
    // Prometheus' Block.Delete records a series' interval "only until the current values and
    // not beyond": the block's tombstones file holds the part of the interval over the
    // series' chunks, whatever the interval asked.
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    fill(&db, &[lbl("m", "a"), lbl("m", "b")], 60_000, 3_600_000, 60_000);
    db.compact_head().unwrap();
    let blocks = db.blocks();
    assert_eq!(blocks.len(), 1, "{blocks:?}");
    db.delete_series(&[Matcher::equal("job", "a")], -5_000, i64::MAX).unwrap();
    db.delete_series(&[Matcher::equal("job", "b")], 600_000, 900_000).unwrap();
    let stones = tsdb::tombstones::Tombstones::read(&dir.path().join(&blocks[0].ulid)).unwrap();
    let got: Vec<(i64, i64)> =
        stones.by_ref.values().flatten().map(|iv| (iv.mint, iv.maxt)).collect();
    assert_eq!(got, vec![(60_000, 3_540_000), (600_000, 900_000)]);
    let b = query(&db, &[Matcher::equal("job", "b")], i64::MIN, i64::MAX);
    assert_eq!(b[0].1.len(), 59 - 6);
    let a = query(&db, &[Matcher::equal("job", "a")], i64::MIN, i64::MAX);
    assert!(a.iter().all(|s| s.1.is_empty()), "{a:?}");
}

#[test]
fn a_series_deleted_from_a_block_is_not_selected_as_in_prometheus() {
    // Prometheus' block querier leaves out the chunks tombstones delete whole, and a series
    // left without chunks (so /api/v1/series no longer lists it); chunks deleted in part stay.
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    fill(&db, &[lbl("m", "a"), lbl("m", "b")], 60_000, 3_600_000, 60_000);
    db.compact_head().unwrap();
    assert_eq!(db.blocks().len(), 1);
    db.delete_series(&[Matcher::equal("job", "a")], i64::MIN, i64::MAX).unwrap();
    db.delete_series(&[Matcher::equal("job", "b")], 120_000, 3_480_000).unwrap();
    let all = Matcher::new(MatchType::Regex, "job", ".+").unwrap();
    let got = query(&db, std::slice::from_ref(&all), i64::MIN, i64::MAX);
    let got: Vec<(String, Vec<i64>)> = got
        .into_iter()
        .map(|(l, s)| (l.get("job").unwrap_or("").to_string(), s.iter().map(|x| x.t).collect()))
        .collect();
    assert_eq!(got, vec![("b".to_string(), vec![60_000, 3_540_000])]);
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    assert_eq!(q.label_values("job", std::slice::from_ref(&all)).unwrap(), vec!["b"]);
}
