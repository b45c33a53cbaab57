//! The head's global series limit (`Options::max_series`): appends that would create a series
//! beyond it fail with a limit error and are counted; existing series, and series restored from
//! the WAL, always take samples.

#![allow(clippy::unwrap_used)]

use model::Labels;
use storage::{Appendable, StorageError};
use tsdb::{Db, Options};

fn series(i: usize) -> Labels {
    Labels::new([("__name__", "m"), ("i", &i.to_string())])
}

fn limited(max: Option<usize>) -> Options {
    Options { max_series: max, ..Options::default() }
}

/// Appends one sample at `t` to each of `ids` in one commit; returns each append's result.
fn append(db: &Db, ids: &[usize], t: i64) -> Vec<Result<(), StorageError>> {
    let mut app = db.appender();
    let res = ids.iter().map(|&i| app.append(0, &series(i), t, i as f64).map(|_| ())).collect();
    app.commit().unwrap();
    res
}

#[test]
fn new_series_beyond_the_limit_are_refused_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), limited(Some(3))).unwrap();
    let res = append(&db, &[0, 1, 2, 3, 4], 1000);
    assert!(res[..3].iter().all(Result::is_ok), "{res:?}");
    for r in &res[3..] {
        match r {
            Err(StorageError::LimitExceeded(msg)) => {
                assert!(msg.contains("series limit of 3"), "{msg}");
            }
            other => panic!("expected a limit error, got {other:?}"),
        }
    }
    assert_eq!(db.head_series(), 3);
    assert_eq!(db.series_limit_reached_total(), 2);

    // Existing series keep taking samples; a new one is still refused.
    let res = append(&db, &[0, 1, 2, 9], 2000);
    assert!(res[..3].iter().all(Result::is_ok), "{res:?}");
    assert!(matches!(res[3], Err(StorageError::LimitExceeded(_))));
    assert_eq!(db.series_limit_reached_total(), 3);
    assert_eq!(db.stats(10).head_stats.num_series, 3);
}

#[test]
fn zero_or_none_means_unlimited() {
    for max in [None, Some(0)] {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), limited(max)).unwrap();
        let ids: Vec<usize> = (0..500).collect();
        assert!(append(&db, &ids, 1000).iter().all(Result::is_ok));
        assert_eq!(db.head_series(), 500);
        assert_eq!(db.series_limit_reached_total(), 0);
    }
}

#[test]
fn series_restored_from_the_wal_are_kept_even_above_a_lower_limit() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path(), limited(None)).unwrap();
        assert!(append(&db, &[0, 1, 2, 3, 4], 1000).iter().all(Result::is_ok));
        db.close().unwrap();
    }
    let db = Db::open(dir.path(), limited(Some(2))).unwrap();
    assert_eq!(db.head_series(), 5);
    let res = append(&db, &[0, 4, 7], 2000);
    assert!(res[0].is_ok() && res[1].is_ok(), "{res:?}");
    assert!(matches!(res[2], Err(StorageError::LimitExceeded(_))));
    assert_eq!(db.head_series(), 5);
}

#[test]
fn concurrent_appenders_never_overshoot_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), limited(Some(50))).unwrap();
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let db = db.clone();
            std::thread::spawn(move || {
                let ids: Vec<usize> = (0..100).map(|i| w * 1000 + i).collect();
                append(&db, &ids, 1000).iter().filter(|r| r.is_ok()).count()
            })
        })
        .collect();
    let accepted: usize = workers.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(accepted, 50);
    assert_eq!(db.head_series(), 50);
    assert_eq!(db.series_limit_reached_total(), 350);
}
