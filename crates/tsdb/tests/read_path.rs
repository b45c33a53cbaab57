//! Property-style tests of the sample read path: XOR chunks round-trip bit for bit through
//! `next` and the batch decoder for random series (NaN, ±Inf, stale markers, repeated values,
//! tiny and huge timestamp deltas), truncated chunks decode a prefix and report corruption, and
//! the chunk and merge iterators return through `next_batch` (any batch size, mixed with `next`
//! and `seek`) exactly what a simple model of their semantics returns.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use model::Sample;
use storage::{SampleIterator, SliceIterator};
use tsdb::chunkenc::{XorChunk, XorIterator};
use tsdb::iter::{ChunkData, ChunkSeriesIterator, MergeIterator, PendingChunk};
use tsdb::tombstones::Interval;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn value(r: &mut Rng, prev: f64) -> f64 {
    match r.below(14) {
        0 => f64::NAN,
        1 => model::value::stale_nan(),
        2 => f64::INFINITY,
        3 => f64::NEG_INFINITY,
        4..=6 => prev,
        7 => -0.0,
        8 => f64::from_bits(r.next()),
        9 => f64::MIN_POSITIVE / 3.0,
        10 => (r.below(1000) as f64) * 0.25,
        11 => prev + 1.0,
        12 => -(r.next() as f64),
        _ => r.below(1 << 20) as f64,
    }
}

fn delta(r: &mut Rng, prev: i64) -> i64 {
    match r.below(10) {
        0 => 1,
        1 => 1 + r.below(1 << 13) as i64,
        2 => 1 + r.below(1 << 16) as i64,
        3 => 1 + r.below(1 << 19) as i64,
        4 => 1 + r.below(1 << 40) as i64,
        5 => 15_000 + r.below(3) as i64 - 1,
        _ => prev,
    }
}

/// A random strictly increasing series of `n` samples.
fn series(r: &mut Rng, n: usize) -> Vec<(i64, f64)> {
    let mut t = match r.below(3) {
        0 => -(r.below(1 << 45) as i64),
        1 => 0,
        _ => 1_700_000_000_000 + r.below(1 << 20) as i64,
    };
    let (mut d, mut v) = (15_000i64, 0.0f64);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push((t, v));
        d = delta(r, d);
        t += d;
        v = value(r, v);
    }
    out
}

fn encode(samples: &[(i64, f64)]) -> Vec<u8> {
    let mut c = XorChunk::new();
    for &(t, v) in samples {
        c.append(t, v);
    }
    c.bytes().to_vec()
}

fn same(a: &[(i64, f64)], b: &[(i64, f64)]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.0 == y.0 && x.1.to_bits() == y.1.to_bits())
}

#[test]
fn xor_chunks_round_trip_bit_exact() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    for case in 0..3000 {
        let n = match case % 4 {
            0 => r.below(4) as usize,
            _ => r.below(400) as usize,
        };
        let want = series(&mut r, n);
        let bytes = encode(&want);
        let mut it = XorIterator::new(bytes.as_slice());
        let mut got = Vec::new();
        while let Some(s) = it.next() {
            got.push(s);
        }
        assert!(!it.is_corrupt(), "case {case}");
        assert!(same(&got, &want), "next(), case {case}");
        for stop_every in [1usize, 2, 7, 128, usize::MAX] {
            let mut it = XorIterator::new(bytes.as_slice());
            let mut got = Vec::new();
            loop {
                let mut k = 0;
                it.decode_while(|t, v| {
                    got.push((t, v));
                    k += 1;
                    k < stop_every
                });
                if k < stop_every {
                    break;
                }
            }
            assert!(!it.is_corrupt());
            assert!(same(&got, &want), "decode_while every {stop_every}, case {case}");
        }
    }
}

#[test]
fn truncated_chunks_decode_a_prefix_then_report_corruption() {
    let mut r = Rng(7);
    for case in 0..300 {
        let n = 2 + r.below(200) as usize;
        let want = series(&mut r, n);
        let bytes = encode(&want);
        for cut in [2, 3, 9, 10, bytes.len() / 2, bytes.len() - 1] {
            let cut = cut.min(bytes.len() - 1);
            let mut it = XorIterator::new(&bytes[..cut]);
            let mut got = Vec::new();
            while let Some(s) = it.next() {
                got.push(s);
            }
            assert!(it.is_corrupt(), "case {case} cut {cut}");
            assert!(same(&got, &want[..got.len()]), "case {case} cut {cut}");
            let mut it = XorIterator::new(&bytes[..cut]);
            let mut batch = Vec::new();
            it.decode_while(|t, v| {
                batch.push((t, v));
                true
            });
            assert!(it.is_corrupt());
            assert!(same(&batch, &got), "case {case} cut {cut}");
        }
    }
}

/// Samples as (t, value bits), so NaNs compare equal to themselves.
fn bits(s: &[Sample]) -> Vec<(i64, u64)> {
    s.iter().map(|x| (x.t, x.v.to_bits())).collect()
}

fn bits1(s: Option<Sample>) -> Option<(i64, u64)> {
    s.map(|x| (x.t, x.v.to_bits()))
}

fn to_samples(s: &[(i64, f64)]) -> Vec<Sample> {
    s.iter().map(|&(t, v)| Sample::new(t, v)).collect()
}

fn chunks(r: &mut Rng, s: &[(i64, f64)]) -> Vec<(i64, PendingChunk)> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let k = (1 + r.below(150) as usize).min(rest.len());
        let (part, tail) = rest.split_at(k);
        let data = ChunkData::owned(&encode(part));
        out.push((part[k - 1].0, PendingChunk::Ready(data)));
        rest = tail;
    }
    out
}

/// Reads `it` with a random mix of `next`, `next_batch` and forward `seek`s; the model `want`
/// is the exact sample sequence the iterator represents (strictly increasing timestamps).
fn check_reads(r: &mut Rng, mut it: Box<dyn SampleIterator>, want: &[Sample], what: &str) {
    let mut pos = 0usize; // index in want of the next sample next() returns
    let mut cur: Option<usize> = None; // index of the last sample returned
    let mut started = false;
    for _ in 0..10_000 {
        match r.below(6) {
            0 => {
                let got = it.next();
                assert_eq!(bits1(got), bits1(want.get(pos).copied()), "{what}: next at {pos}");
                started = true;
                cur = (pos < want.len()).then_some(pos);
                pos = (pos + 1).min(want.len());
            }
            1 => {
                let base = cur.map_or(want.first().map_or(0, |s| s.t), |c| want[c].t);
                let ts = base + r.below(200_000) as i64 - 20_000;
                let got = it.seek(ts);
                let expect = match cur {
                    Some(c) if want[c].t >= ts => Some(c),
                    None if started => None,
                    _ => {
                        let from = cur.map_or(0, |c| c + 1);
                        let i = from + want[from..].partition_point(|s| s.t < ts);
                        (i < want.len()).then_some(i)
                    }
                };
                started = true;
                assert_eq!(bits1(got), bits1(expect.map(|i| want[i])), "{what}: seek {ts}");
                cur = expect;
                pos = expect.map_or(want.len(), |i| i + 1);
            }
            _ => {
                let max = [0usize, 1, 2, 3, 5, 64, 128, 1000][r.below(8) as usize];
                let mut out = vec![Sample::new(-1, -1.0)];
                let n = it.next_batch(&mut out, max);
                let end = (pos + max).min(want.len());
                assert_eq!(n, end - pos, "{what}: next_batch({max}) at {pos}");
                assert_eq!(
                    bits(&out[1..]),
                    bits(&want[pos..end]),
                    "{what}: next_batch({max}) at {pos}"
                );
                if max > 0 {
                    started = true;
                    // A short batch means a next() call returned None: the position is past
                    // the end.
                    cur = (end - pos == max).then(|| end - 1);
                    pos = end;
                }
            }
        }
        if started && cur.is_none() {
            break;
        }
    }
    assert!(it.err().is_none());
}

#[test]
fn chunk_series_iterator_batches_equal_next_and_model() {
    let mut r = Rng(0xdead_beef);
    for case in 0..400 {
        let n = r.below(1200) as usize;
        let s = series(&mut r, n);
        let first = s.first().map_or(0, |x| x.0);
        let last = s.last().map_or(0, |x| x.0);
        let span = (last - first).max(1) as u64;
        let (mint, maxt) = match r.below(3) {
            0 => (i64::MIN, i64::MAX),
            _ => {
                let a = first + r.below(span) as i64 - 5;
                (a, a + r.below(span) as i64)
            }
        };
        let deleted = if r.below(2) == 0 {
            Vec::new()
        } else {
            let a = first + r.below(span) as i64;
            let b = a + r.below(span / 4 + 1) as i64;
            let c = b + 1 + r.below(span / 4 + 1) as i64;
            vec![
                Interval { mint: a, maxt: b },
                Interval { mint: c, maxt: c + r.below(span / 8 + 1) as i64 },
            ]
        };
        let want: Vec<Sample> = to_samples(&s)
            .into_iter()
            .filter(|x| x.t >= mint && x.t <= maxt)
            .filter(|x| !deleted.iter().any(|d| x.t >= d.mint && x.t <= d.maxt))
            .collect();
        let cs = chunks(&mut r, &s);
        let it = ChunkSeriesIterator::new(cs, mint, maxt, deleted);
        check_reads(&mut r, Box::new(it), &want, &format!("chunk series case {case}"));
    }
}

/// The merge model: the smallest head wins, the earliest source on ties, equal heads dropped.
fn merge_model(srcs: &[Vec<Sample>]) -> Vec<Sample> {
    let mut pos = vec![0usize; srcs.len()];
    let mut out = Vec::new();
    loop {
        let mut best: Option<(usize, i64)> = None;
        for (j, s) in srcs.iter().enumerate() {
            if let Some(h) = s.get(pos[j])
                && best.is_none_or(|(_, t)| h.t < t)
            {
                best = Some((j, h.t));
            }
        }
        let Some((i, t)) = best else { return out };
        out.push(srcs[i][pos[i]]);
        for (j, s) in srcs.iter().enumerate() {
            if s.get(pos[j]).is_some_and(|h| h.t == t) {
                pos[j] += 1;
            }
        }
    }
}

#[test]
fn merge_iterator_batches_equal_model_overlapping_or_not() {
    let mut r = Rng(42);
    for case in 0..600 {
        let k = 1 + r.below(4) as usize;
        let overlapping = r.below(2) == 0;
        let mut srcs: Vec<Vec<Sample>> = Vec::new();
        let mut t0 = 0i64;
        for j in 0..k {
            let n = r.below(500) as usize;
            let mut s: Vec<Sample> = if overlapping {
                // Shared 15 s grid so timestamps collide; values tell sources apart.
                let mut t = (r.below(50) * 15_000) as i64;
                (0..n)
                    .map(|_| {
                        t += (1 + r.below(3) as i64) * 15_000;
                        Sample::new(t, j as f64 * 1000.0 + r.below(100) as f64)
                    })
                    .collect()
            } else {
                let s = series(&mut r, n);
                let shift = t0 - s.first().map_or(0, |x| x.0);
                let s: Vec<Sample> =
                    s.iter().map(|&(t, v)| Sample::new(t + shift, v + j as f64)).collect();
                t0 = s.last().map_or(t0, |x| x.t) + 1 + r.below(100_000) as i64;
                s
            };
            if !overlapping && r.below(4) == 0 {
                s.clear();
            }
            srcs.push(s);
        }
        let want = merge_model(&srcs);
        let its: Vec<Box<dyn SampleIterator>> = srcs
            .iter()
            .map(|s| {
                let n = s.len();
                let pairs: Vec<(i64, f64)> = s.iter().map(|x| (x.t, x.v)).collect();
                if r.below(2) == 0 || n == 0 {
                    Box::new(SliceIterator::new(Arc::from(s.clone()), 0, n))
                        as Box<dyn SampleIterator>
                } else {
                    let cs = chunks(&mut r, &pairs);
                    Box::new(ChunkSeriesIterator::new(cs, i64::MIN, i64::MAX, Vec::new()))
                }
            })
            .collect();
        let m = MergeIterator::new(its);
        check_reads(
            &mut r,
            Box::new(m),
            &want,
            &format!("merge case {case} overlapping {overlapping}"),
        );
    }
}
