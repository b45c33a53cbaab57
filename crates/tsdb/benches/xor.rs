//! The XOR chunk encoder and decoder alone, on node_exporter-like series: constant values,
//! counters with small integer increments, two-decimal gauges and random floats, 120 samples a
//! chunk at 15 s with a few milliseconds of scrape jitter on one sample in eight. `append`
//! builds 64 chunks from new, a sample to each in turn as a head's appends come (allocation
//! and growth included; all in the CPU caches);
//! `append_cold` appends to 200,000 chunks in turn, out of the CPU caches as in a head;
//! `decode` reads chunks back. Throughput is in samples.
//! Run: `cargo bench -p tsdb --bench xor`.

#![allow(clippy::unwrap_used)]

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tsdb::chunkenc::{XorChunk, XorIterator};

const SERIES: usize = 64;
const PER_CHUNK: usize = 120;

#[derive(Clone, Copy)]
enum Kind {
    Constant,
    Counter,
    Gauge,
    Float,
}

fn series(kind: Kind, s: usize) -> Vec<(i64, f64)> {
    let mut v = match kind {
        Kind::Constant => 1.0 + s as f64,
        Kind::Counter => (common::mix(s as u64) % 100_000) as f64,
        Kind::Gauge => (common::mix(s as u64) % 10_000) as f64 / 100.0,
        Kind::Float => 0.5,
    };
    (0..PER_CHUNK)
        .map(|i| {
            let r = common::mix(((s as u64) << 32) | i as u64);
            let jitter = if r.is_multiple_of(8) { (r >> 8) as i64 % 7 - 3 } else { 0 };
            let t = 1_700_000_000_000 + i as i64 * 15_000 + jitter;
            let out = (t, v);
            v = match kind {
                Kind::Constant => v,
                Kind::Counter => v + ((r >> 16) % 20) as f64,
                Kind::Gauge => ((v * 100.0).round() + ((r >> 16) % 201) as f64 - 100.0) / 100.0,
                Kind::Float => f64::from((r >> 16) as u32) / 7.0,
            };
            out
        })
        .collect()
}

const KINDS: [(&str, Kind); 4] = [
    ("constant", Kind::Constant),
    ("counter", Kind::Counter),
    ("gauge", Kind::Gauge),
    ("float", Kind::Float),
];

fn append(c: &mut Criterion) {
    let mut g = c.benchmark_group("xor_append");
    g.throughput(Throughput::Elements((SERIES * PER_CHUNK) as u64));
    for (name, kind) in KINDS {
        let all: Vec<Vec<(i64, f64)>> = (0..SERIES).map(|s| series(kind, s)).collect();
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut chunks: Vec<XorChunk> = (0..SERIES).map(|_| XorChunk::new()).collect();
                for i in 0..PER_CHUNK {
                    for (c, s) in chunks.iter_mut().zip(&all) {
                        c.append(s[i].0, s[i].1);
                    }
                }
                chunks.iter().map(|c| c.len()).sum::<usize>()
            })
        });
    }
    g.finish();
}

/// Like the head: one sample appended to each of 200,000 chunks in turn, so the chunks are
/// no longer in the CPU caches when their next sample comes (about 100 bytes of encoder and
/// buffer per chunk, 20 MB and more in all). A chunk is cut at 120 samples and a new one
/// started, as the head does. Only the appends are timed, per pass over all chunks.
fn append_cold(c: &mut Criterion) {
    const CHUNKS: usize = 200_000;
    let mut g = c.benchmark_group("xor_append_cold");
    g.throughput(Throughput::Elements(CHUNKS as u64));
    g.sample_size(20);
    for (name, kind) in KINDS {
        // 64 distinct series, each chunk following one of them from a different offset.
        let all: Vec<Vec<(i64, f64)>> = (0..SERIES).map(|s| series(kind, s)).collect();
        let mut chunks: Vec<(XorChunk, usize)> = (0..CHUNKS)
            .map(|i| {
                let mut c = XorChunk::new();
                for &(t, v) in &all[i % SERIES][..i % PER_CHUNK] {
                    c.append(t, v);
                }
                (c, i % PER_CHUNK)
            })
            .collect();
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = std::time::Instant::now();
                for _ in 0..iters {
                    for (i, (c, k)) in chunks.iter_mut().enumerate() {
                        if *k == PER_CHUNK {
                            *c = XorChunk::new();
                            *k = 0;
                        }
                        let (t, v) = all[i % SERIES][*k];
                        c.append(t, v);
                        *k += 1;
                    }
                }
                start.elapsed()
            })
        });
    }
    g.finish();
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("xor_decode");
    g.throughput(Throughput::Elements((SERIES * PER_CHUNK) as u64));
    for (name, kind) in KINDS {
        let chunks: Vec<Vec<u8>> = (0..SERIES)
            .map(|s| {
                let mut c = XorChunk::new();
                for (t, v) in series(kind, s) {
                    c.append(t, v);
                }
                c.bytes().to_vec()
            })
            .collect();
        let bytes: usize = chunks.iter().map(Vec::len).sum();
        println!("{name}: {:.2} bytes/sample", bytes as f64 / (SERIES * PER_CHUNK) as f64);
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut sum = 0.0;
                for c in &chunks {
                    let mut it = XorIterator::new(c.as_slice());
                    it.decode_while(|t, v| {
                        sum += v + t as f64;
                        true
                    });
                }
                sum
            })
        });
    }
    g.finish();
}

criterion_group!(benches, append, append_cold, decode);
criterion_main!(benches);
