//! The WAL's share of a commit: a scrape of 1,000 samples coded into a dense record
//! (`encode`), the record compressed, framed and written (`log`), and both (`commit`), with the
//! batched sync a server at 1 s scrapes of 100 targets does (one `sync` per 100 commits). Two
//! value models: node_exporter-like (hundredth and integer counters, page gauges, two-decimal
//! gauges, constants) and `crates/loadgen`'s (counters of sevenths, gauges in thirteenths,
//! integer counters: every value changes, few are short decimals). Prints the WAL bytes per
//! sample each model leaves, and the CPU snappy and zstd take per sample with cold caches.
//! Times are this thread's CPU (`/proc/thread-self` clock), so other
//! work on the machine does not inflate them.
//! Run: `taskset -c 1 cargo bench -p tsdb --bench wal`.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tsdb::wal::dense::{DenseEncoder, DenseSample};
use tsdb::wal::{DEFAULT_SEGMENT_SIZE, Wal};

const TARGETS: usize = 100;
const PER_TARGET: usize = 1_000;

#[derive(Clone, Copy)]
enum Model {
    Node,
    Loadgen,
}

/// Series `i`'s value at scrape `k` (`prev` its value at `k - 1`).
fn value(model: Model, i: usize, k: u64, prev: f64) -> f64 {
    let r = common::mix((i as u64) << 32 | k);
    let z = common::mix(i as u64);
    match model {
        Model::Node => common::node_value(i % 20, r, prev),
        // As crates/loadgen/src/body.rs: float counters, integer counters, gauges.
        Model::Loadgen => match i % 10 {
            0..=3 => (z % 1_000_000) as f64 / 7.0 + (0.01 + (z % 1000) as f64 / 100.0) * k as f64,
            4..=6 => ((z % 10_000_000_000) + (1 + z % 100_000) * k) as f64,
            _ => {
                let step = (k.wrapping_mul(7).wrapping_add(i as u64)) % 13;
                (z % 100_000_000_000) as f64 + (1.0 + (z % 1_000_000) as f64) * step as f64 / 13.0
            }
        },
    }
}

/// Two scrapes (with the values of the scrape before as bases) of each of 100 targets' series,
/// made ahead so that only the WAL's work is timed.
struct Load {
    scrapes: Vec<Vec<DenseSample>>,
    next: usize,
}

const ROUNDS: u64 = 2;

impl Load {
    fn new(model: Model) -> Load {
        let mut vals: Vec<f64> =
            (0..TARGETS * PER_TARGET).map(|i| (common::mix(i as u64) % 1_000_000) as f64).collect();
        let mut scrapes = Vec::new();
        for k in 1..=ROUNDS + 1 {
            for target in 0..TARGETS {
                let t =
                    1_700_000_000_000 + k as i64 * 1000 + (common::mix(target as u64) % 7) as i64;
                let mut scrape = Vec::with_capacity(PER_TARGET);
                for j in 0..PER_TARGET {
                    let i = target * PER_TARGET + j;
                    let base = vals[i];
                    let v = value(model, i, k, base);
                    vals[i] = v;
                    scrape.push(DenseSample {
                        r: i as u64 + 1,
                        t,
                        v,
                        base: Some(base),
                        sets_base: true,
                    });
                }
                if k > 1 {
                    scrapes.push(scrape);
                }
            }
        }
        Load { scrapes, next: 0 }
    }

    /// The next target's scrape into `enc`.
    fn scrape(&mut self, enc: &mut DenseEncoder) {
        let scrape = &self.scrapes[self.next];
        self.next = (self.next + 1) % self.scrapes.len();
        enc.clear();
        enc.reserve(PER_TARGET);
        for s in scrape {
            enc.push(s);
        }
    }
}

fn bench_model(c: &mut Criterion, name: &str, model: Model) {
    let mut g = c.benchmark_group(format!("wal_{name}"));
    g.throughput(Throughput::Elements(PER_TARGET as u64));
    let mut load = Load::new(model);
    let mut enc = DenseEncoder::default();
    let mut rec = Vec::new();
    g.bench_function("encode_1000", |b| {
        b.iter_custom(|iters| {
            let start = common::thread_cpu();
            for _ in 0..iters {
                load.scrape(&mut enc);
                rec.clear();
                enc.finish(&mut rec);
            }
            common::thread_cpu() - start
        })
    });
    // Records made ahead, so only the compression or the log is timed.
    let recs: Vec<Vec<u8>> = (0..TARGETS * ROUNDS as usize)
        .map(|_| {
            load.scrape(&mut enc);
            let mut r = Vec::new();
            enc.finish(&mut r);
            r
        })
        .collect();
    // Compression alone, at the WAL's level and at others (`ZSTD_CFG=level,hashlog,minmatch;...`
    // adds configurations), with the bytes per sample each leaves.
    let cfgs = std::env::var("ZSTD_CFG").unwrap_or_else(|_| "1,0,0".into());
    for cfg in cfgs.split(';') {
        let n: Vec<i32> = cfg.split(',').map(|x| x.trim().parse().unwrap()).collect();
        let mut z = zstd::bulk::Compressor::new(n[0]).unwrap();
        use zstd::zstd_safe::CParameter;
        if n.get(1).is_some_and(|&h| h > 0) {
            z.set_parameter(CParameter::HashLog(n[1] as u32)).unwrap();
        }
        if n.get(2).is_some_and(|&m| m > 0) {
            z.set_parameter(CParameter::MinMatch(n[2] as u32)).unwrap();
        }
        let mut packed = Vec::new();
        let packed_bytes: usize = recs
            .iter()
            .map(|r| {
                packed.clear();
                packed.reserve(r.len() + r.len() / 64 + 64);
                z.compress_to_buffer(r, &mut packed).unwrap()
            })
            .sum();
        eprintln!(
            "{name}: zstd {cfg}: {:.3} B/sample",
            packed_bytes as f64 / (recs.len() * PER_TARGET) as f64
        );
        let mut next = 0;
        g.bench_function(format!("zstd{}_1000", cfg.replace(',', "_")), |b| {
            b.iter_custom(|iters| {
                let start = common::thread_cpu();
                for _ in 0..iters {
                    let r = &recs[next % recs.len()];
                    next += 1;
                    packed.clear();
                    packed.reserve(r.len() + r.len() / 64 + 64);
                    z.compress_to_buffer(r, &mut packed).unwrap();
                }
                common::thread_cpu() - start
            })
        });
    }
    cold_compression(name, &recs);
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path(), DEFAULT_SEGMENT_SIZE).unwrap();
    let mut commits = 0u64;
    let (mut bytes, mut samples) = (0u64, 0u64);
    g.bench_function("log_1000", |b| {
        b.iter_custom(|iters| {
            let start = common::thread_cpu();
            for _ in 0..iters {
                let r = &recs[commits as usize % recs.len()];
                wal.reserve(r.len()).unwrap();
                wal.log(&[r]).unwrap();
                commits += 1;
                if commits.is_multiple_of(TARGETS as u64) {
                    wal.sync().unwrap();
                }
            }
            common::thread_cpu() - start
        })
    });
    drop(wal);
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path(), DEFAULT_SEGMENT_SIZE).unwrap();
    g.bench_function("commit_1000", |b| {
        b.iter_custom(|iters| {
            let start = common::thread_cpu();
            for _ in 0..iters {
                load.scrape(&mut enc);
                rec.clear();
                enc.finish(&mut rec);
                wal.reserve(rec.len()).unwrap();
                wal.log(&[&rec]).unwrap();
                commits += 1;
                samples += PER_TARGET as u64;
                bytes += rec.len() as u64;
                if commits.is_multiple_of(TARGETS as u64) {
                    wal.sync().unwrap();
                }
            }
            common::thread_cpu() - start
        })
    });
    wal.sync().unwrap();
    // Closed, so that blocks reserved ahead of the records do not count.
    drop(wal);
    let size = tsdb::wal::dir_size(dir.path());
    eprintln!(
        "{name}: dense record {:.2} B/sample, WAL {:.3} B/sample over {samples} samples",
        bytes as f64 / samples as f64,
        size as f64 / samples as f64
    );
    g.finish();
}

/// Snappy (the WAL's default) and zstd at level -1 as a server meets them: between two
/// records of a target the other targets' appends have gone through the head, so each
/// compression starts with its tables out of the CPU caches (here 16 MiB are written before
/// each, untimed). Prints the CPU and bytes per sample of each.
fn cold_compression(name: &str, recs: &[Vec<u8>]) {
    let mut evict = vec![0u8; 16 << 20];
    let mut zstd = zstd::bulk::Compressor::new(-1).unwrap();
    let mut snappy = snap::raw::Encoder::new();
    let mut out = Vec::new();
    let (mut zstd_cpu, mut snappy_cpu) = (Duration::ZERO, Duration::ZERO);
    let (mut zstd_bytes, mut snappy_bytes) = (0, 0);
    let recs = &recs[..recs.len().min(2_000)];
    for r in recs {
        flush_caches(&mut evict);
        let start = common::thread_cpu();
        out.clear();
        out.reserve(zstd::zstd_safe::compress_bound(r.len()));
        zstd_bytes += zstd.compress_to_buffer(r, &mut out).unwrap();
        zstd_cpu += common::thread_cpu() - start;
        flush_caches(&mut evict);
        let start = common::thread_cpu();
        out.clear();
        out.resize(snap::raw::max_compress_len(r.len()), 0);
        snappy_bytes += snappy.compress(r, &mut out).unwrap();
        snappy_cpu += common::thread_cpu() - start;
    }
    let samples = (recs.len() * PER_TARGET) as f64;
    let ns = |d: Duration| d.as_nanos() as f64 / samples;
    eprintln!(
        "{name}: cold caches: zstd -1 {:.2} ns and {:.3} B per sample, snappy {:.2} ns and {:.3} B",
        ns(zstd_cpu),
        zstd_bytes as f64 / samples,
        ns(snappy_cpu),
        snappy_bytes as f64 / samples
    );
}

/// Writes a byte of every cache line of `b`.
fn flush_caches(b: &mut [u8]) {
    for line in b.chunks_mut(64) {
        line[0] = line[0].wrapping_add(1);
    }
    std::hint::black_box(b);
}

fn wal(c: &mut Criterion) {
    bench_model(c, "node", Model::Node);
    bench_model(c, "loadgen", Model::Loadgen);
}

criterion_group!(benches, wal);
criterion_main!(benches);
