//! The append path of `Db`: series-ref hints that outlive their series, samples of one series
//! repeated in a batch (none stored twice for one time), what a commit does with samples that
//! data committed since their append refuses, and appenders racing on the same series from
//! several threads.

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
    // `a`'s sample is older than the live series' newest one now: the commit drops it (and
    // counts it) and applies the rest, as Prometheus' commit does.
    let before = db.metrics().out_of_order_samples_total;
    held.commit().unwrap();
    assert_eq!(db.metrics().out_of_order_samples_total, before + 1);
    let ts = |s: Vec<Sample>| s.iter().map(|s| (s.t, s.v)).collect::<Vec<_>>();
    assert_eq!(ts(samples(&db, &a)), vec![(1000, 1.0), (3_800_000, 3.0)]);
    assert_eq!(ts(samples(&db, &b)), vec![(1000, 1.0), (3_700_000, 2.0), (3_750_000, 4.0)]);
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
fn appenders_racing_on_the_same_series_apply_whole_batches_or_nothing() {
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
                    // thread behind another gets out-of-order errors at append, or has its
                    // samples refused (dropped and counted) at commit.
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
                        app.commit().unwrap();
                        committed.push(t);
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
    // Every series has the same newest time after each commit, so a commit applies all of
    // its batch or refuses all of it: the series hold the same times, each once.
    let applied: Vec<i64> = samples(&db, &series[0]).iter().map(|s| s.t).collect();
    assert!(applied.len() >= ROUNDS as usize, "the first commit of each round applies");
    assert!(applied.iter().all(|t| committed.contains(t)));
    for (i, l) in series.iter().enumerate() {
        let got: Vec<(i64, f64)> = samples(&db, l).iter().map(|s| (s.t, s.v)).collect();
        let want: Vec<(i64, f64)> = applied.iter().map(|&t| (t, t as f64 + i as f64)).collect();
        assert_eq!(got, want, "series {i} holds whole batches");
    }
    let m = db.metrics();
    let n = series.len() as u64;
    assert_eq!(m.head_samples_appended_total, applied.len() as u64 * n);
    // Refused at commit: the committed batches that were not applied.
    let refused_at_commit = (committed.len() - applied.len()) as u64 * n;
    assert!(m.out_of_order_samples_total >= refused_at_commit);
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

/// The samples of `l` as (time, value bits), so that values compare bit for bit.
fn bits(db: &Db, l: &Labels) -> Vec<(i64, u64)> {
    samples(db, l).iter().map(|s| (s.t, s.v.to_bits())).collect()
}

fn bits_of(bits: &[(i64, f64)]) -> Vec<(i64, u64)> {
    bits.iter().map(|&(t, v)| (t, v.to_bits())).collect()
}

#[test]
fn a_sample_at_the_time_of_one_pending_in_its_batch_is_a_duplicate_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let opts = || Options { out_of_order_time_window_ms: 600_000, ..Options::default() };
    let db = Db::open(dir.path(), opts()).unwrap();
    let a = lbl("m", "a");
    let mut app = db.appender();
    let r = app.append(0, &a, 100_000, 1.0).unwrap();
    app.commit().unwrap();
    let before = db.metrics();

    // In order first: the out-of-order sample at a pending in-order sample's time (not the
    // batch's newest) is ignored with the same value and refused with another.
    let mut app = db.appender();
    assert_eq!(app.append(r, &a, 200_000, 2.0), Ok(r));
    assert_eq!(app.append(r, &a, 300_000, 3.0), Ok(r));
    assert_eq!(app.append(r, &a, 200_000, 2.0), Ok(r), "same value: ignored");
    assert_eq!(app.append(r, &a, 200_000, 9.0), Err(StorageError::DuplicateSampleForTimestamp));
    // -0.0 and 0.0 differ: values compare bit for bit.
    assert_eq!(app.append(r, &a, 250_000, 0.0), Ok(r));
    assert_eq!(app.append(r, &a, 250_000, -0.0), Err(StorageError::DuplicateSampleForTimestamp));
    // Out of order first: two out-of-order samples at one time, the first one stays.
    assert_eq!(app.append(r, &a, 150_000, 1.5), Ok(r));
    assert_eq!(app.append(r, &a, 150_000, 7.0), Err(StorageError::DuplicateSampleForTimestamp));
    assert_eq!(app.append(r, &a, 150_000, 1.5), Ok(r), "same value: ignored");
    let nan = f64::from_bits(0x7ff8_0000_0000_0001);
    assert_eq!(app.append(r, &a, 120_000, nan), Ok(r));
    assert_eq!(app.append(r, &a, 120_000, nan), Ok(r), "the same NaN: ignored");
    assert_eq!(
        app.append(r, &a, 120_000, model::value::stale_nan()),
        Err(StorageError::DuplicateSampleForTimestamp)
    );
    app.commit().unwrap();
    let want = bits_of(&[
        (100_000, 1.0),
        (120_000, nan),
        (150_000, 1.5),
        (200_000, 2.0),
        (250_000, 0.0),
        (300_000, 3.0),
    ]);
    assert_eq!(bits(&db, &a), want);
    let m = db.metrics();
    // Three in order, three out of order; duplicates are not refusals of any counted kind.
    assert_eq!(
        m.head_out_of_order_samples_appended_total
            - before.head_out_of_order_samples_appended_total,
        3
    );
    assert_eq!(
        (m.out_of_order_samples_total, m.too_old_samples_total, m.out_of_bound_samples_total),
        (
            before.out_of_order_samples_total,
            before.too_old_samples_total,
            before.out_of_bound_samples_total
        )
    );

    // Against stored data in a later batch: the same rules.
    let mut app = db.appender();
    assert_eq!(app.append(r, &a, 150_000, 1.5), Ok(r));
    assert_eq!(app.append(r, &a, 150_000, 1.25), Err(StorageError::DuplicateSampleForTimestamp));
    assert_eq!(app.append(r, &a, 200_000, 2.5), Err(StorageError::DuplicateSampleForTimestamp));
    app.commit().unwrap();
    assert_eq!(bits(&db, &a), want);

    // What was logged is what was kept: a restart replays the same samples.
    drop(db);
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(bits(&db, &a), want);
}

#[test]
fn the_out_of_order_window_reaches_back_from_the_heads_newest_time_when_the_batch_began() {
    // As Prometheus 2.42's `appendable`: `t >= headMaxt - window`, with `headMaxt` taken when
    // the appender was created, whatever the series' own newest sample.
    let dir = tempfile::tempdir().unwrap();
    let window = 5 * 60_000;
    let db =
        Db::open(dir.path(), Options { out_of_order_time_window_ms: window, ..opts() }).unwrap();
    let (ahead, behind) = (lbl("ahead", "w"), lbl("behind", "w"));
    let mut app = db.appender();
    app.append(0, &behind, 5 * 60_000, 1.0).unwrap();
    app.append(0, &ahead, 20 * 60_000, 1.0).unwrap();
    app.commit().unwrap();
    let mut app = db.appender();
    // Four minutes before `behind`'s newest sample, but more than the window before the head's.
    assert_eq!(app.append(0, &behind, 60_000, 2.0).unwrap_err(), StorageError::TooOldSample);
    // Newer than `behind`'s newest: in order, whatever the window.
    app.append(0, &behind, 6 * 60_000, 3.0).unwrap();
    // Inside the window from the head's newest time.
    app.append(0, &ahead, 16 * 60_000, 4.0).unwrap();
    // A sample newer than the head's newest does not move the batch's window.
    app.append(0, &ahead, 30 * 60_000, 5.0).unwrap();
    app.append(0, &ahead, 17 * 60_000, 6.0).unwrap();
    assert_eq!(app.append(0, &ahead, 14 * 60_000, 7.0).unwrap_err(), StorageError::TooOldSample);
    app.commit().unwrap();
    let ts = |l: &Labels| samples(&db, l).iter().map(|s| (s.t, s.v)).collect::<Vec<_>>();
    assert_eq!(ts(&behind), [(5 * 60_000, 1.0), (6 * 60_000, 3.0)]);
    assert_eq!(
        ts(&ahead),
        [(16 * 60_000, 4.0), (17 * 60_000, 6.0), (20 * 60_000, 1.0), (30 * 60_000, 5.0)]
    );
    let m = db.metrics();
    assert_eq!((m.too_old_samples_total, m.head_out_of_order_samples_appended_total), (2, 2));
}

#[test]
fn a_commit_drops_the_samples_data_committed_since_their_append_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let opts = || Options { out_of_order_time_window_ms: 0, ..Options::default() };
    let db = Db::open(dir.path(), opts()).unwrap();
    let (a, b, c, d) = (lbl("up", "a"), lbl("up", "b"), lbl("up", "c"), lbl("up", "d"));
    let mut app = db.appender();
    for l in [&a, &b, &c, &d] {
        app.append(0, l, 1000, 1.0).unwrap();
    }
    app.commit().unwrap();
    let before = db.metrics();
    let mut x = db.appender();
    let mut y = db.appender();
    x.append(0, &a, 5000, 5.0).unwrap();
    x.append(0, &c, 7000, 7.0).unwrap();
    x.append(0, &d, 5000, 5.0).unwrap();
    y.append(0, &b, 5000, 1.0).unwrap();
    y.append(0, &a, 5000, 6.0).unwrap(); // a duplicate once x is in: refused
    y.append(0, &c, 6000, 6.0).unwrap(); // out of order once x is in: refused, counted
    y.append(0, &d, 5000, 5.0).unwrap(); // the same sample as x's: ignored
    x.commit().unwrap();
    // Prometheus' commit re-checks each sample, drops (and counts) the ones that no longer
    // fit and applies the rest: y's commit succeeds.
    y.commit().unwrap();
    let ts = |db: &Db, l: &Labels| samples(db, l).iter().map(|s| (s.t, s.v)).collect::<Vec<_>>();
    assert_eq!(ts(&db, &a), vec![(1000, 1.0), (5000, 5.0)]);
    assert_eq!(ts(&db, &b), vec![(1000, 1.0), (5000, 1.0)]);
    assert_eq!(ts(&db, &c), vec![(1000, 1.0), (7000, 7.0)]);
    assert_eq!(ts(&db, &d), vec![(1000, 1.0), (5000, 5.0)]);
    let m = db.metrics();
    assert_eq!(m.head_samples_appended_total - before.head_samples_appended_total, 4);
    assert_eq!(m.out_of_order_samples_total - before.out_of_order_samples_total, 1);
    drop(db);
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(ts(&db, &a), vec![(1000, 1.0), (5000, 5.0)]);
    assert_eq!(ts(&db, &b), vec![(1000, 1.0), (5000, 1.0)]);
    assert_eq!(ts(&db, &c), vec![(1000, 1.0), (7000, 7.0)]);
}

#[test]
fn samples_of_a_series_truncated_mid_batch_meet_its_new_series_samples_at_commit() {
    let dir = tempfile::tempdir().unwrap();
    let opts = || Options {
        block_range_ms: 3_600_000,
        out_of_order_time_window_ms: 600_000,
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts()).unwrap();
    let a = lbl("up", "a");
    let mut app = db.appender();
    let ra = app.append(0, &a, 1000, 1.0).unwrap();
    app.commit().unwrap();
    let mut held = db.appender();
    assert_eq!(held.append(ra, &a, 3_700_000, 2.0).unwrap(), ra);
    assert_eq!(held.append(ra, &a, 3_650_000, 1.5).unwrap(), ra);
    db.compact_head().unwrap();
    assert_eq!(db.head_series(), 0);
    // Under the series created again, the appender cannot tell these meet the samples above;
    // the commit, which puts them all in one series, does.
    let ra2 = held.append(ra, &a, 3_800_000, 3.0).unwrap();
    assert_ne!(ra2, ra);
    assert_eq!(held.append(ra2, &a, 3_700_000, 9.0), Ok(ra2)); // refused at commit
    assert_eq!(held.append(ra2, &a, 3_650_000, 1.5), Ok(ra2)); // ignored at commit
    assert_eq!(held.append(ra2, &a, 3_750_000, 3.5), Ok(ra2));
    held.commit().unwrap();
    let want = bits_of(&[
        (1000, 1.0),
        (3_650_000, 1.5),
        (3_700_000, 2.0),
        (3_750_000, 3.5),
        (3_800_000, 3.0),
    ]);
    assert_eq!(bits(&db, &a), want);
    assert_eq!(db.metrics().head_out_of_order_samples_appended_total, 2);
    drop(db);
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(bits(&db, &a), want);
}

#[test]
fn concurrent_appenders_interleaving_on_shared_series_store_each_time_once_and_count_the_rest() {
    const THREADS: usize = 4;
    const BATCHES: i64 = 150;
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let series: Arc<Vec<Labels>> = Arc::new((0..64).map(|i| lbl("m", &format!("j{i}"))).collect());
    let handles: Vec<_> = (0..THREADS)
        .map(|k| {
            let (db, series) = (db.clone(), series.clone());
            std::thread::spawn(move || {
                // Appends go through the unlocked in-order check once the refs are known;
                // other threads commit newer times to the same series all along.
                let mut refs = vec![0u64; series.len()];
                let mut attempts = 0u64;
                for b in 0..BATCHES {
                    let mut app = db.appender();
                    for (i, l) in series.iter().enumerate() {
                        // Times unique per thread, interleaved across threads, and a few
                        // samples of a series per batch.
                        for j in 0..(1 + (i + k) % 3) as i64 {
                            let t = ((b * 3 + j) * THREADS as i64 + k as i64) * 1000;
                            attempts += 1;
                            match app.append(refs[i], l, t, (t + i as i64) as f64) {
                                Ok(r) => refs[i] = r,
                                Err(StorageError::OutOfOrderSample) => {}
                                Err(e) => panic!("{e}"),
                            }
                        }
                    }
                    app.commit().unwrap();
                }
                attempts
            })
        })
        .collect();
    let attempts: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let mut stored = 0u64;
    for (i, l) in series.iter().enumerate() {
        let got = samples(&db, l);
        assert!(got.windows(2).all(|w| w[0].t < w[1].t), "series {i}: each time once, in order");
        assert!(got.iter().all(|s| s.v == (s.t + i as i64) as f64), "series {i}: its own values");
        stored += got.len() as u64;
    }
    let m = db.metrics();
    assert_eq!(m.head_samples_appended_total, stored);
    // Every sample is stored or refused as out of order, at append or at commit.
    assert_eq!(stored + m.out_of_order_samples_total, attempts);
    assert!(stored >= series.len() as u64 * 3, "{stored}");
}
