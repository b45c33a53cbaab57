//! Head append throughput (through the full commit path: validation, WAL write, chunk append)
//! and chunk decoding speed.

#![allow(clippy::unwrap_used)]

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use model::Labels;
use storage::{Appendable, BatchSample, Queryable};
use tsdb::chunkenc::{XorChunk, XorIterator};
use tsdb::{Db, Options};

const SERIES: usize = 10_000;

/// The clock the append benches read: wall time, or with `PHAROS_BENCH_CPU=1` this thread's
/// CPU time (what a shared, busy machine does not inflate by running others on the core).
fn clock() -> std::time::Duration {
    if std::env::var_os("PHAROS_BENCH_CPU").is_none() {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        return START.get_or_init(std::time::Instant::now).elapsed();
    }
    common::thread_cpu()
}

/// Times `iters` runs of `f` on [`clock`].
fn timed(iters: u64, mut f: impl FnMut()) -> std::time::Duration {
    let start = clock();
    for _ in 0..iters {
        f();
    }
    clock() - start
}

fn labels() -> Vec<Labels> {
    (0..SERIES)
        .map(|i| {
            Labels::new([
                ("__name__", format!("node_metric_{}", i % 100).as_str()),
                ("instance", &format!("host-{}:9100", i / 100)),
                ("job", "node"),
            ])
        })
        .collect()
}

fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let ls = labels();
    let mut refs = vec![0u64; SERIES];
    let mut t = 0i64;
    let mut g = c.benchmark_group("head");
    g.throughput(Throughput::Elements(SERIES as u64));
    g.bench_function("append_commit_10k_existing_series", |b| {
        b.iter_custom(|iters| {
            timed(iters, || {
                t += 15_000;
                let mut app = db.appender();
                for (i, l) in ls.iter().enumerate() {
                    let v = (t / 1000 + i as i64) as f64 * 0.5;
                    refs[i] = app.append(refs[i], l, t, v).unwrap();
                }
                app.commit().unwrap();
            })
        })
    });
    let mut refs = vec![0u64; SERIES];
    let mut out = Vec::with_capacity(SERIES);
    // Filled per batch (as a caller would), allocated once.
    let mut batch: Vec<BatchSample<'_>> = Vec::with_capacity(SERIES);
    g.bench_function("append_batch_commit_10k_existing_series", |b| {
        b.iter_custom(|iters| {
            timed(iters, || {
                t += 15_000;
                batch.clear();
                batch.extend(ls.iter().zip(&refs).enumerate().map(|(i, (l, &hint))| BatchSample {
                    hint,
                    labels: l,
                    t,
                    v: (t / 1000 + i as i64) as f64 * 0.5,
                }));
                let mut app = db.appender();
                out.clear();
                app.append_batch(&batch, &mut out);
                app.commit().unwrap();
                for (r, res) in refs.iter_mut().zip(&out) {
                    *r = *res.as_ref().unwrap();
                }
            })
        })
    });
    g.finish();
}

/// Like a server scraping 100 targets of 1,000 series each: one batch per target, the batches
/// in turn, and between two batches enough other memory traffic (a parse, an HTTP read) that
/// the series of the next batch are no longer in the CPU caches. Only appends and commits are
/// timed.
fn append_cold(c: &mut Criterion) {
    append_cold_as(c, "append_commit_1k_of_100k_series_cold", false);
    append_cold_as(c, "append_batch_commit_1k_of_100k_series_cold", true);
}

/// [`append_cold`], appending one sample per call or a whole batch per call.
fn append_cold_as(c: &mut Criterion, name: &str, batched: bool) {
    const TARGETS: usize = 100;
    const PER_TARGET: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let ls = common::node_labels(TARGETS, PER_TARGET);
    let mut refs = vec![vec![0u64; PER_TARGET]; TARGETS];
    let mut t = 0i64;
    let mut next = 0usize;
    let mut thrash = vec![0u8; 16 << 20];
    let mut g = c.benchmark_group("head");
    g.throughput(Throughput::Elements(PER_TARGET as u64));
    let mut out = Vec::with_capacity(PER_TARGET);
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                let tg = next % TARGETS;
                next += 1;
                if tg == 0 {
                    t += 1000;
                }
                for (k, x) in thrash.iter_mut().step_by(64).enumerate() {
                    *x = x.wrapping_add(k as u8);
                }
                let batch: Vec<BatchSample<'_>> = if batched {
                    ls[tg]
                        .iter()
                        .zip(&refs[tg])
                        .enumerate()
                        .map(|(i, (l, &hint))| {
                            let v = (t / 1000 + i as i64) as f64 * 0.5;
                            BatchSample { hint, labels: l, t, v }
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                let start = clock();
                let mut app = db.appender();
                if batched {
                    out.clear();
                    app.append_batch(&batch, &mut out);
                } else {
                    for (i, l) in ls[tg].iter().enumerate() {
                        let v = (t / 1000 + i as i64) as f64 * 0.5;
                        refs[tg][i] = app.append(refs[tg][i], l, t, v).unwrap();
                    }
                }
                app.commit().unwrap();
                total += clock() - start;
                if batched {
                    for (r, res) in refs[tg].iter_mut().zip(&out) {
                        *r = *res.as_ref().unwrap();
                    }
                }
            }
            std::hint::black_box(&thrash);
            total
        })
    });
    g.finish();
}

fn decode(c: &mut Criterion) {
    let mut chunk = XorChunk::new();
    let mut v = 100.0;
    for i in 0..120 {
        v += (i % 7) as f64 * 0.25;
        chunk.append(1_700_000_000_000 + i * 15_000, v);
    }
    let bytes = chunk.bytes().to_vec();
    let mut g = c.benchmark_group("chunk");
    g.throughput(Throughput::Elements(120));
    g.bench_function("decode_xor_120", |b| {
        b.iter(|| {
            let mut it = XorIterator::new(bytes.as_slice());
            let mut sum = 0.0;
            while let Some((_, v)) = it.next() {
                sum += v;
            }
            sum
        })
    });
    g.finish();
}

fn query(c: &mut Criterion) {
    let per_series = 5760; // one day at 15 s
    let m = [model::Matcher::equal("job", "node")];
    let mut g = c.benchmark_group("query");
    g.throughput(Throughput::Elements(1000 * per_series as u64));
    g.sample_size(10);
    // Built on the bench's first call, so that runs of the other benches (a filter) skip it.
    let mut fixture: Option<(tempfile::TempDir, Db)> = None;
    g.bench_function("select_all_1000_series_1d_blocks_and_head", |b| {
        let (_, db) = fixture.get_or_insert_with(|| {
            let dir = tempfile::tempdir().unwrap();
            let db = Db::open(dir.path(), Options::default()).unwrap();
            let ls: Vec<Labels> = labels().into_iter().take(1000).collect();
            for k in 0..per_series {
                let mut app = db.appender();
                for (i, l) in ls.iter().enumerate() {
                    app.append(0, l, k * 15_000, ((k as usize * 3 + i) % 500) as f64).unwrap();
                }
                app.commit().unwrap();
            }
            db.maintain(0).unwrap();
            (dir, db)
        });
        b.iter(|| {
            let q = db.querier(i64::MIN, i64::MAX).unwrap();
            let mut n = 0u64;
            for s in q.select(true, None, &m).unwrap() {
                let mut s = s.unwrap();
                while s.samples.next().is_some() {
                    n += 1;
                }
            }
            assert_eq!(n, 1000 * per_series as u64);
        })
    });
    g.finish();
}

criterion_group!(benches, append, append_cold, decode, query);
criterion_main!(benches);
