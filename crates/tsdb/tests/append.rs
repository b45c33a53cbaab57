//! The append path of `Db`: series-ref hints that outlive their series, samples of one series
//! repeated in a batch, and appenders racing on the same series from several threads.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

use model::{Labels, Matcher, Sample};
use storage::{Appendable, Queryable, StorageError, collect_samples};
use tsdb::{Db, Options};

mod common;

fn lbl(name: &str, job: &str) -> Labels {
    Labels::new([("__name__", name), ("job", job)])
}

fn samples(db: &Db, l: &Labels) -> Vec<Sample> {
    let m: Vec<Matcher> = l.iter().map(|x| Matcher::equal(&x.name, &x.value)).collect();
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let mut out = Vec::new();
    for s in q.select(true, None, &m).unwrap() {
        let mut s = s.unwrap();
        assert_eq!(&s.labels, l);
        out.extend(collect_samples(s.samples.as_mut()).unwrap());
    }
    out
}

fn opts() -> Options {
    Options { block_range_ms: 3_600_000, ..Options::default() }
}

#[test]
fn a_hint_whose_series_left_the_head_creates_the_series_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let (a, b) = (lbl("up", "a"), lbl("up", "b"));
    let mut app = db.appender();
    let ra = app.append(0, &a, 1000, 1.0).unwrap();
    let rb = app.append(0, &b, 1000, 1.0).unwrap();
    app.commit().unwrap();
    assert_ne!(ra, rb);
    db.compact_head().unwrap();
    assert_eq!(db.head_series(), 0, "both series were truncated away");

    // The old refs name no series any more: the labels decide, and refs are never reused.
    let mut app = db.appender();
    let ra2 = app.append(ra, &a, 3_700_000, 2.0).unwrap();
    let rb2 = app.append(ra, &b, 3_700_000, 3.0).unwrap();
    app.commit().unwrap();
    assert!(ra2 != ra && ra2 != rb && rb2 != ra && rb2 != rb && ra2 != rb2);
    // A live series' ref given with other labels is not taken for them.
    let mut app = db.appender();
    assert_eq!(app.append(ra2, &b, 3_800_000, 4.0).unwrap(), rb2);
    assert_eq!(app.append(rb2, &a, 3_800_000, 5.0).unwrap(), ra2);
    app.commit().unwrap();
    let ts = |s: Vec<Sample>| s.iter().map(|s| (s.t, s.v)).collect::<Vec<_>>();
    assert_eq!(ts(samples(&db, &a)), vec![(1000, 1.0), (3_700_000, 2.0), (3_800_000, 5.0)]);
    assert_eq!(ts(samples(&db, &b)), vec![(1000, 1.0), (3_700_000, 3.0), (3_800_000, 4.0)]);
}

#[test]
fn a_series_truncated_between_append_and_commit_takes_the_sample_under_a_new_ref() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let a = lbl("up", "a");
    let mut app = db.appender();
    let ra = app.append(0, &a, 1000, 1.0).unwrap();
    app.commit().unwrap();
    let mut app = db.appender();
    assert_eq!(app.append(ra, &a, 3_700_000, 2.0).unwrap(), ra);
    // Persisting [0, 1 h) drops the series (no data left in the head) while the batch is open.
    db.compact_head().unwrap();
    assert_eq!(db.head_series(), 0);
    app.commit().unwrap();
    assert_eq!(db.head_series(), 1);
    let got: Vec<i64> = samples(&db, &a).iter().map(|s| s.t).collect();
    assert_eq!(got, vec![1000, 3_700_000]);
    // The batch was logged under the new ref: a restart replays it.
    drop(db);
    let db = Db::open(dir.path(), opts()).unwrap();
    let got: Vec<i64> = samples(&db, &a).iter().map(|s| s.t).collect();
    assert_eq!(got, vec![1000, 3_700_000]);
}

#[test]
fn a_batch_holding_a_truncated_series_meets_the_series_created_again_by_another_batch() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let (a, b) = (lbl("up", "a"), lbl("up", "b"));
    let mut app = db.appender();
    let ra = app.append(0, &a, 1000, 1.0).unwrap();
    let rb = app.append(0, &b, 1000, 1.0).unwrap();
    app.commit().unwrap();
    // `held` points to both series when truncation removes them.
    let mut held = db.appender();
    assert_eq!(held.append(ra, &a, 3_700_000, 2.0).unwrap(), ra);
    assert_eq!(held.append(rb, &b, 3_700_000, 2.0).unwrap(), rb);
    db.compact_head().unwrap();
    assert_eq!(db.head_series(), 0);
    // Later batches (whose pins do not hold the removed series) come and go; one creates
    // series `a` again under a new ref, and appends to it after `held`'s sample.
    for _ in 0..3 {
        db.appender().rollback();
    }
    let mut app = db.appender();
    let ra2 = app.append(ra, &a, 3_800_000, 3.0).unwrap();
    assert_ne!(ra2, ra);
    app.commit().unwrap();
    // The removed series' hint no longer resolves within `held` either.
    let rb2 = held.append(rb, &b, 3_750_000, 4.0).unwrap();
    assert_ne!(rb2, rb);
    // `a`'s sample is older than the live series' newest one now: the whole batch fails.
    assert_eq!(held.commit(), Err(StorageError::OutOfOrderSample));
    let ts = |s: Vec<Sample>| s.iter().map(|s| (s.t, s.v)).collect::<Vec<_>>();
    assert_eq!(ts(samples(&db, &a)), vec![(1000, 1.0), (3_800_000, 3.0)]);
    assert_eq!(ts(samples(&db, &b)), vec![(1000, 1.0)]);
}

#[test]
fn an_empty_label_set_is_refused_with_or_without_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let mut app = db.appender();
    let r = app.append(0, &lbl("up", "a"), 1000, 1.0).unwrap();
    let empty = Labels::empty();
    for hint in [0, r, r + 1] {
        assert!(matches!(app.append(hint, &empty, 1000, 1.0), Err(StorageError::InvalidLabels(_))));
    }
    app.commit().unwrap();
    assert_eq!(db.head_series(), 1);
}

#[test]
fn samples_repeated_in_a_batch_are_checked_against_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    // Far more series than the first batch's table has slots, so most share one.
    let series: Vec<Labels> = (0..3000).map(|i| lbl("m", &format!("j{i}"))).collect();
    let mut refs = vec![0u64; series.len()];
    let mut app = db.appender();
    for t in 1..=3i64 {
        for (i, l) in series.iter().enumerate() {
            refs[i] = app.append(refs[i], l, t * 1000, (t * 10 + i as i64) as f64).unwrap();
        }
    }
    for (i, l) in series.iter().enumerate().step_by(7) {
        assert_eq!(app.append(refs[i], l, 2000, 0.5), Err(StorageError::OutOfOrderSample));
        let same = (30 + i as i64) as f64;
        assert_eq!(app.append(refs[i], l, 3000, same), Ok(refs[i]), "duplicate: ignored");
        assert_eq!(
            app.append(refs[i], l, 3000, same + 1.0),
            Err(StorageError::DuplicateSampleForTimestamp)
        );
    }
    app.commit().unwrap();
    for (i, l) in series.iter().enumerate().step_by(97) {
        let got: Vec<(i64, f64)> = samples(&db, l).iter().map(|s| (s.t, s.v)).collect();
        let want: Vec<(i64, f64)> =
            (1..=3i64).map(|t| (t * 1000, (t * 10 + i as i64) as f64)).collect();
        assert_eq!(got, want);
    }
    // The next batch (its table sized from this one) sees the committed samples.
    let mut app = db.appender();
    assert_eq!(
        app.append(refs[5], &series[5], 3000, 0.0),
        Err(StorageError::DuplicateSampleForTimestamp)
    );
    assert_eq!(app.append(refs[5], &series[5], 2500, 0.0), Err(StorageError::OutOfOrderSample));
    app.append(refs[5], &series[5], 4000, 0.0).unwrap();
    app.commit().unwrap();
    assert_eq!(samples(&db, &series[5]).len(), 4);
}

#[test]
fn appenders_racing_on_the_same_series_commit_whole_batches_or_nothing() {
    const THREADS: usize = 4;
    const ROUNDS: i64 = 60;
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let series: Arc<Vec<Labels>> = Arc::new((0..200).map(|i| lbl("m", &format!("j{i}"))).collect());
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|k| {
            let (db, series, barrier) = (db.clone(), series.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut refs = vec![0u64; series.len()];
                let mut committed = Vec::new();
                for round in 0..ROUNDS {
                    barrier.wait();
                    // Every thread writes every series at its own timestamp of the round; a
                    // thread behind another gets out-of-order errors, at append or at commit.
                    let t = (round * THREADS as i64 + k as i64 + 1) * 1000;
                    let mut app = db.appender();
                    let mut ok = true;
                    // Threads walk the series in different orders.
                    let order: Vec<usize> = if k % 2 == 0 {
                        (0..series.len()).collect()
                    } else {
                        (0..series.len()).rev().collect()
                    };
                    for i in order {
                        match app.append(refs[i], &series[i], t, t as f64 + i as f64) {
                            Ok(r) => refs[i] = r,
                            Err(StorageError::OutOfOrderSample) => ok = false,
                            Err(e) => panic!("{e}"),
                        }
                    }
                    if ok {
                        match app.commit() {
                            Ok(()) => committed.push(t),
                            Err(StorageError::OutOfOrderSample) => {}
                            Err(e) => panic!("{e}"),
                        }
                    } else {
                        app.rollback();
                    }
                }
                committed
            })
        })
        .collect();
    let mut committed: BTreeSet<i64> = BTreeSet::new();
    for h in handles {
        committed.extend(h.join().unwrap());
    }
    assert!(committed.len() >= ROUNDS as usize, "at least one batch per round commits");
    for (i, l) in series.iter().enumerate() {
        let got: Vec<(i64, f64)> = samples(&db, l).iter().map(|s| (s.t, s.v)).collect();
        let want: Vec<(i64, f64)> = committed.iter().map(|&t| (t, t as f64 + i as f64)).collect();
        assert_eq!(got, want, "series {i} holds exactly the committed batches");
    }
}

#[test]
fn batches_with_repeated_series_are_logged_and_replayed_bit_exactly() {
    use std::collections::BTreeMap;
    let dir = tempfile::tempdir().unwrap();
    let opts = || Options {
        wal_segment_size: 64 * 1024,
        out_of_order_time_window_ms: 3_600_000,
        ..Options::default()
    };
    let mut want: BTreeMap<Labels, BTreeMap<i64, u64>> = BTreeMap::new();
    let put = |want: &mut BTreeMap<Labels, BTreeMap<i64, u64>>, l: &Labels, t: i64, v: f64| {
        want.entry(l.clone()).or_default().insert(t, v.to_bits());
    };
    {
        let db = Db::open(dir.path(), opts()).unwrap();
        let mut series: Vec<Labels> = (0..100).map(common::series).collect();
        let mut refs = vec![0u64; 400];
        for step in 0..200i64 {
            let t = 1_000_000 + step * 15_000;
            // A series first seen in the middle of a batch, every tenth step.
            if step % 10 == 5 {
                series.push(common::series(1000 + step as usize));
            }
            let mut app = db.appender();
            for (i, l) in series.iter().enumerate() {
                let v = common::value(i, step);
                refs[i] = app.append(refs[i], l, t, v).unwrap();
                put(&mut want, l, t, v);
            }
            for (i, l) in series.iter().enumerate().step_by(10) {
                // Later samples of the same series in the batch, a duplicate of one of them
                // (ignored), a conflicting one (refused) and an out-of-order one.
                let v = common::value(i + 1, step) + 0.5;
                refs[i] = app.append(refs[i], l, t + 1, v).unwrap();
                app.append(refs[i], l, t + 2, v).unwrap();
                app.append(refs[i], l, t + 2, v).unwrap();
                assert_eq!(
                    app.append(refs[i], l, t + 2, v + 1.0),
                    Err(StorageError::DuplicateSampleForTimestamp)
                );
                put(&mut want, l, t + 1, v);
                put(&mut want, l, t + 2, v);
                if step > 0 {
                    app.append(refs[i], l, t - 7_000, -3.25).unwrap();
                    put(&mut want, l, t - 7_000, -3.25);
                }
            }
            app.commit().unwrap();
        }
        let flat = |d: common::Dump| -> BTreeMap<Labels, BTreeMap<i64, u64>> {
            d.into_iter().map(|(l, s)| (l, s.into_iter().collect())).collect()
        };
        assert_eq!(flat(common::dump(&db)), want);
        let segments = std::fs::read_dir(dir.path().join("wal")).unwrap().count();
        assert!(segments > 3, "expected several segments, got {segments}");
        // Dropped without a close: the next open replays the WAL.
    }
    let db = Db::open(dir.path(), opts()).unwrap();
    let got: BTreeMap<Labels, BTreeMap<i64, u64>> =
        common::dump(&db).into_iter().map(|(l, s)| (l, s.into_iter().collect())).collect();
    assert_eq!(got, want);
}

#[test]
fn a_batch_append_gives_each_sample_what_its_own_append_gives() {
    use storage::BatchSample;
    let opts = || Options { out_of_order_time_window_ms: 10_000, ..Options::default() };
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (one, many) = (Db::open(d1.path(), opts()).unwrap(), Db::open(d2.path(), opts()).unwrap());
    let series: Vec<Labels> = (0..50).map(|i| lbl("m", &format!("j{i}"))).collect();
    let mut refs_one = vec![0u64; series.len()];
    let mut refs_many = vec![0u64; series.len()];
    let empty = Labels::empty();
    for step in 0..30i64 {
        let t = 100_000 + step * 15_000;
        // Each series in order, some again (later, duplicate, conflicting, out of order, too
        // old), an empty label set, and a series first seen in this batch.
        let mut plan: Vec<(usize, i64, f64)> =
            (0..series.len()).map(|i| (i, t, (step * 3 + i as i64) as f64)).collect();
        for i in (0..series.len()).step_by(9) {
            plan.extend([(i, t + 1, 1.5), (i, t + 1, 1.5), (i, t + 1, 2.5), (i, t - 5_000, 0.25)]);
            plan.push((i, t - 60_000, 0.0));
        }
        plan.push((usize::MAX, t, 1.0));
        let mut app = one.appender();
        let mut want = Vec::new();
        for &(i, t, v) in &plan {
            let (hint, l) = match series.get(i) {
                Some(l) => (refs_one[i], l),
                None => (0, &empty),
            };
            let res = app.append(hint, l, t, v);
            if let (Ok(r), Some(slot)) = (&res, refs_one.get_mut(i)) {
                *slot = *r;
            }
            want.push(res);
        }
        app.commit().unwrap();
        let batch: Vec<BatchSample<'_>> = plan
            .iter()
            .map(|&(i, t, v)| match series.get(i) {
                Some(l) => BatchSample { hint: refs_many[i], labels: l, t, v },
                None => BatchSample { hint: 0, labels: &empty, t, v },
            })
            .collect();
        let mut app = many.appender();
        let mut got = Vec::new();
        app.append_batch(&batch, &mut got);
        app.commit().unwrap();
        assert_eq!(got, want, "step {step}");
        for (&(i, ..), res) in plan.iter().zip(&got) {
            if let (Ok(r), Some(slot)) = (res, refs_many.get_mut(i)) {
                *slot = *r;
            }
        }
    }
    assert_eq!(common::dump(&one), common::dump(&many));
}
