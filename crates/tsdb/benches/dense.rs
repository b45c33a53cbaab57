//! Decoding speed of compacted blocks' dense chunks against Prometheus' XOR chunks, on the same
//! day of samples (5,760 at 15 s with scrape jitter): a hundredths-of-a-second counter and a
//! float gauge that is no decimal (the dense chunks' XOR fallback), and collector durations
//! (nanosecond noise: offsets from the least value as bit-length classes). Dense chunks hold up to
//! 4,096 samples and are decompressed when opened; XOR chunks hold 120. Also the encoding
//! cost, which compaction pays.

#![allow(clippy::unwrap_used)]

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tsdb::blockwriter::DENSE_ZSTD_LEVEL;
use tsdb::chunkenc::dense::{DenseEncoder, DenseIterator};
use tsdb::chunkenc::{XorIterator, encode_chunks};

const N: usize = 5760;

/// Collector durations in seconds with nanosecond digits: noise above a floor, spanning
/// several powers of two.
fn noise() -> Vec<(i64, f64)> {
    (0..N)
        .map(|i| {
            let r = common::mix(i as u64 ^ 0x5eed);
            let ns = 100_000 + (r % 400_000) * (1 + (r >> 60)) + (r >> 40) % 1000;
            (1_700_000_000_000 + i as i64 * 15_000, ns as f64 / 1e9)
        })
        .collect()
}

fn day(float: bool) -> Vec<(i64, f64)> {
    let mut v = 12345.67;
    (0..N)
        .map(|i| {
            let r = common::mix(i as u64);
            let t =
                1_700_000_000_000 + i as i64 * 15_000 + if r % 10 < 7 { 0 } else { (r % 3) as i64 };
            v = if float {
                v * 1.000_01 + (r % 100) as f64 / 7.0
            } else {
                v + (r % 1500) as f64 / 100.0
            };
            v = if float { v } else { (v * 100.0).round() / 100.0 };
            (t, v)
        })
        .collect()
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("dense");
    g.throughput(Throughput::Elements(N as u64));
    let cases = [("counter", day(false)), ("float", day(true)), ("noise", noise())];
    for (name, samples) in cases {
        let xor: Vec<Vec<u8>> = encode_chunks(&samples, 120).into_iter().map(|c| c.2).collect();
        let mut enc = DenseEncoder::new(DENSE_ZSTD_LEVEL);
        let dense: Vec<Vec<u8>> =
            enc.encode_chunks(&samples, 2880).into_iter().map(|c| c.2).collect();
        let bytes = |cs: &[Vec<u8>]| cs.iter().map(Vec::len).sum::<usize>() as f64 / N as f64;
        eprintln!("{name}: xor {:.3} bytes per sample, dense {:.3}", bytes(&xor), bytes(&dense));
        g.bench_function(format!("decode_xor_{name}_day"), |b| {
            b.iter(|| {
                let mut sum = 0.0;
                for c in &xor {
                    let mut it = XorIterator::new(c.as_slice());
                    it.decode_while(|_, v| {
                        sum += v;
                        true
                    });
                }
                sum
            })
        });
        g.bench_function(format!("decode_dense_{name}_day"), |b| {
            b.iter(|| {
                let mut sum = 0.0;
                for c in &dense {
                    let mut it = DenseIterator::new(c);
                    it.decode_while(|_, v| {
                        sum += v;
                        true
                    });
                }
                sum
            })
        });
        g.bench_function(format!("encode_dense_{name}_day"), |b| {
            b.iter(|| enc.encode_chunks(&samples, 2880).len())
        });
    }
    g.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
