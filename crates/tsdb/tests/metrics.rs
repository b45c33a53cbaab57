//! The database's own metrics (`Db::metrics`, exposed as `prometheus_tsdb_*`) follow what
//! opening, head compaction, truncation, checkpoints, block merges and retention did.

#![allow(clippy::unwrap_used)]

use model::Labels;
use storage::Appendable;
use tsdb::{Db, Options};

const HOUR: i64 = 3_600_000;

fn lbl(job: &str) -> Labels {
    Labels::new([("__name__", "m"), ("job", job)])
}

/// One sample a minute for each series in `[from, to)`.
fn fill(db: &Db, series: &[Labels], from: i64, to: i64) {
    for t in (from..to).step_by(60_000) {
        let mut app = db.appender();
        for l in series {
            app.append(0, l, t, t as f64).unwrap();
        }
        app.commit().unwrap();
    }
}

#[test]
fn open_counts_one_reload_and_reports_an_empty_head() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let m = db.metrics();
    assert_eq!(m.reloads_total, 1);
    assert_eq!((m.head_series, m.blocks_loaded, m.compactions_total), (0, 0, 0));
    assert_eq!((m.head_min_time, m.head_max_time), (i64::MAX, i64::MIN));
    assert_eq!(m.lowest_timestamp, i64::MAX);
    assert!(m.data_replay_duration_seconds >= 0.0);
}

#[test]
fn head_compaction_counts_truncations_checkpoints_and_removed_series() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { block_range_ms: HOUR, ..Options::default() };
    let db = Db::open(dir.path(), opts).unwrap();
    // `gone` has samples in the first hour only: it leaves the head when that hour is cut.
    fill(&db, &[lbl("gone"), lbl("stays")], 0, HOUR);
    fill(&db, &[lbl("stays")], HOUR, 3 * HOUR);
    let rep = db.maintain(0).unwrap();
    let cut = rep.head_blocks_written as u64;
    assert!(cut >= 1, "{rep:?}");
    let m = db.metrics();
    assert_eq!(m.compactions_triggered_total, 1);
    assert_eq!(m.reloads_total, 2);
    assert!(m.compactions_total >= cut);
    assert_eq!(m.head_truncations_total, cut);
    assert_eq!(m.checkpoint_creations_total, cut);
    assert_eq!(m.checkpoint_deletions_total, cut - 1);
    assert_eq!(m.wal_truncations_total, cut);
    assert_eq!(m.wal_truncate_duration_seconds.count, cut);
    assert_eq!(m.compaction_duration_seconds.count, m.compactions_total);
    assert_eq!((m.compactions_failed_total, m.checkpoint_creations_failed_total), (0, 0));
    assert_eq!(m.head_series, 1);
    assert_eq!(m.head_series_removed_total, 1);
    assert_eq!(m.head_series_created_total, 2);
    assert_eq!(m.blocks_loaded, db.blocks().len() as u64);
    assert!(m.storage_blocks_bytes > 0);
    assert_eq!(m.lowest_timestamp, 0);
    assert!(m.head_min_time >= cut as i64 * HOUR, "{}", m.head_min_time);
    assert_eq!(m.head_max_time, 3 * HOUR - 60_000);
    assert!(m.wal_fsync_duration_seconds.count >= 1);
}

#[test]
fn block_merges_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options { block_range_ms: HOUR, ..Options::default() }).unwrap();
    fill(&db, &[lbl("a")], 0, 4 * HOUR);
    let heads = db.compact_head().unwrap() as u64;
    assert_eq!(db.metrics().compactions_total, heads);
    let before = db.blocks().len();
    let rep = db.maintain(0).unwrap();
    assert!(rep.blocks_compacted > 0, "{rep:?}");
    let m = db.metrics();
    assert!(m.compactions_total > heads, "{m:?}");
    assert_eq!(m.compaction_duration_seconds.count, m.compactions_total);
    assert!(m.blocks_loaded < before as u64);
    assert_eq!(m.blocks_loaded, db.blocks().len() as u64);
    assert_eq!(m.time_retentions_total, 0);
}

#[test]
fn time_retention_is_counted_once_per_pass() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { block_range_ms: HOUR, retention_ms: 4 * HOUR, ..Options::default() };
    let db = Db::open(dir.path(), opts).unwrap();
    fill(&db, &[lbl("a")], 0, 10 * HOUR);
    db.compact_head().unwrap();
    db.maintain(0).unwrap();
    let m = db.metrics();
    assert_eq!(m.time_retentions_total, 1);
    assert_eq!(m.size_retentions_total, 0);
    assert_eq!(m.lowest_timestamp, db.blocks().iter().map(|b| b.min_time).min().unwrap());
    db.maintain(0).unwrap();
    assert_eq!(db.metrics().time_retentions_total, 1, "nothing left to delete");
}

#[test]
fn appends_count_committed_samples_and_refusals_by_kind() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    fill(&db, &[lbl("a"), lbl("b")], 0, 10 * 60_000);
    assert_eq!(db.metrics().head_samples_appended_total, 20);
    let mut app = db.appender();
    let err = app.append(0, &lbl("a"), 60_000, 1.0).unwrap_err();
    assert_eq!(err, storage::StorageError::OutOfOrderSample);
    app.commit().unwrap();
    // A rolled-back batch adds nothing.
    let mut app = db.appender();
    app.append(0, &lbl("a"), 20 * 60_000, 1.0).unwrap();
    app.rollback();
    let m = db.metrics();
    assert_eq!((m.head_samples_appended_total, m.out_of_order_samples_total), (20, 1));
    assert_eq!((m.out_of_bound_samples_total, m.too_old_samples_total), (0, 0));
    assert_eq!(m.head_out_of_order_samples_appended_total, 0);
}

#[test]
fn out_of_order_window_counts_accepted_and_too_old_samples() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { out_of_order_time_window_ms: 5 * 60_000, ..Options::default() };
    let db = Db::open(dir.path(), opts).unwrap();
    fill(&db, &[lbl("a")], 0, 20 * 60_000);
    let mut app = db.appender();
    app.append(0, &lbl("a"), 17 * 60_000 + 1, 1.0).unwrap();
    let err = app.append(0, &lbl("a"), 60_000 + 1, 1.0).unwrap_err();
    assert_eq!(err, storage::StorageError::TooOldSample);
    app.commit().unwrap();
    let m = db.metrics();
    assert_eq!(m.head_out_of_order_samples_appended_total, 1);
    // As Prometheus 2.42: the out-of-order sample counts among the samples appended too.
    assert_eq!(m.head_samples_appended_total, 21);
    assert_eq!(m.too_old_samples_total, 1);
}
