//! Pharos' dense float-samples WAL record (type [`DENSE_SAMPLES`]): column-wise refs and
//! timestamps, and values coded against the previous in-order value of the same series logged
//! in the same segment (unchanged, a decimal delta, an XOR, or raw). Every sample says whether
//! it becomes its series' base, so decoding never has to guess what the head accepted. Bases
//! live only within one segment file: the decoder is reset at each segment start, and the
//! writer codes a series against a base only if that base was logged in the segment it is
//! writing. See `docs/format/wal.md`.

use std::collections::HashMap;

use crate::decimal::{pow10, scaled};
use crate::encoding::{Decbuf, Encbuf, read_uvarint};
use crate::error::{Result, TsdbError};
use crate::head::refmap::RefMap;

/// Record type of dense samples (Prometheus' own types are below 32).
pub const DENSE_SAMPLES: u8 = 0xE1;

const KIND_SAME: u8 = 0;
const KIND_DECIMAL: u8 = 1;
const KIND_XOR: u8 = 2;
const KIND_RAW: u8 = 3;
const SETS_BASE: u8 = 0x04;
/// Largest number of decimal digits after the point a decimal delta may use.
const MAX_SCALE: u32 = 9;

/// One sample to encode: its series' base value (the previous in-order value logged in the
/// same segment), and whether this sample becomes the new base (it is in order).
#[derive(Debug, Clone, Copy)]
pub struct DenseSample {
    pub r: u64,
    pub t: i64,
    pub v: f64,
    pub base: Option<f64>,
    pub sets_base: bool,
}

/// The smallest scale at which both `v` and `base` are exact decimals, with the delta.
#[inline]
fn decimal_delta(v: f64, base: f64) -> Option<(u32, i64)> {
    let at = |k: u32| {
        // A cheap necessary condition first: most scales of most values fail it, and the
        // exact test below costs divisions.
        let p = pow10(k);
        if !near_integer(v * p) || !near_integer(base * p) {
            return None;
        }
        let (mv, mb) = (scaled(v, k)?, scaled(base, k)?);
        let d = mv.checked_sub(mb)?;
        // The decoder recomputes the base's units the same way, so this round-trips.
        let back = (mb.checked_add(d)? as f64) / pow10(k);
        (back.to_bits() == v.to_bits()).then_some((k, d))
    };
    // Integers and hundredths (counters, cents, percentages) are found in the first scales;
    // past them, one test tells whether any scale can hold both values.
    if let Some(found) = (0..=2).find_map(at) {
        return Some(found);
    }
    if !maybe_decimal(v) || !maybe_decimal(base) {
        return None;
    }
    (3..=MAX_SCALE).find_map(at)
}

/// False when `v` is an exact decimal at no scale up to [`MAX_SCALE`] (one test instead of
/// up to ten for the values that are not: most floats that are not short decimals).
/// If `v` is the double nearest `m / 10^k`, then for every `K >= k`, `v * 10^K` is the
/// integer `m * 10^(K-k)` times (1 + e) with |e| below 2^-51 (two roundings, 10^K exact),
/// which [`near_integer`] accepts. `K` is the largest scale at which `|v| * 10^K` stays below 2^53:
/// at larger scales the exact test fails too (the product only grows).
#[inline(always)]
fn maybe_decimal(v: f64) -> bool {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    let a = v.abs();
    let mut k = MAX_SCALE;
    let mut x = a * pow10(k);
    while x >= EXACT && k > 0 {
        k -= 1;
        x = a * pow10(k);
    }
    near_integer(x)
}

/// False when `x` (a value times 10^k) is too far from an integer for the value to be an
/// exact decimal at that scale. If `v` is the double nearest `m / 10^k` (what [`scaled`]
/// accepts), `v * 10^k` is `m` times (1 + e) with |e| below 2^-51 (two roundings), so it is
/// within |x| * 2^-50 of `m`; both sides of the test are exact. Also false where `scaled`
/// fails anyway (|x| ≥ 2^53, NaN, infinities).
#[inline(always)]
fn near_integer(x: f64) -> bool {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if x.abs() >= EXACT || x.is_nan() {
        return false;
    }
    let t = x as i64 as f64;
    let frac = (x - t).abs();
    frac.min(1.0 - frac) <= x.abs() * (1.0 / (1u64 << 50) as f64)
}

/// True if `x` takes fewer than 8 bytes as a uvarint (7 bits a byte), i.e. it is below 2^49:
/// a payload worth coding instead of the 8 raw bytes.
#[inline(always)]
fn short_uvarint(x: u64) -> bool {
    x < 1 << 49
}

#[cfg(test)]
fn uvarint_len(mut x: u64) -> usize {
    let mut n = 1;
    while x >= 0x80 {
        x >>= 7;
        n += 1;
    }
    n
}

/// Appends the record for `samples` to `out`.
pub fn encode(samples: &[DenseSample], out: &mut Encbuf) {
    let mut e = DenseEncoder::default();
    for s in samples {
        e.push(s);
    }
    e.finish(&mut out.b);
}

/// Builds a dense record one sample at a time (the columns apart, joined by
/// [`DenseEncoder::finish`]); its buffers are kept for the next record after
/// [`DenseEncoder::clear`]. Gives the bytes [`encode`] gives.
#[derive(Debug, Default)]
pub struct DenseEncoder {
    n: u64,
    first_t: i64,
    prev_r: u64,
    prev_t: i64,
    refs: Vec<u8>,
    times: Vec<u8>,
    tags: Vec<u8>,
    payload: Vec<u8>,
}

#[inline(always)]
fn put_uvarint(b: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        b.push((x as u8) | 0x80);
        x >>= 7;
    }
    b.push(x as u8);
}

#[inline(always)]
fn put_varint(b: &mut Vec<u8>, x: i64) {
    put_uvarint(b, ((x << 1) ^ (x >> 63)) as u64);
}

impl DenseEncoder {
    /// Starts a new record, keeping the buffers.
    pub fn clear(&mut self) {
        self.n = 0;
        self.refs.clear();
        self.times.clear();
        self.tags.clear();
        self.payload.clear();
    }

    /// Samples pushed since the last clear.
    pub fn len(&self) -> usize {
        self.n as usize
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Makes room for `n` more samples of typical size.
    pub fn reserve(&mut self, n: usize) {
        self.refs.reserve(n);
        self.times.reserve(n);
        self.tags.reserve(n);
        self.payload.reserve(2 * n);
    }

    #[inline]
    pub fn push(&mut self, s: &DenseSample) {
        if self.n == 0 {
            self.first_t = s.t;
            self.prev_t = s.t;
            self.prev_r = 0;
        }
        self.n += 1;
        put_varint(&mut self.refs, s.r.wrapping_sub(self.prev_r) as i64);
        self.prev_r = s.r;
        put_varint(&mut self.times, s.t.wrapping_sub(self.prev_t));
        self.prev_t = s.t;
        let flag = if s.sets_base { SETS_BASE } else { 0 };
        let payload = &mut self.payload;
        let tag = match s.base {
            Some(b) if b.to_bits() == s.v.to_bits() => KIND_SAME,
            Some(b) => match decimal_delta(s.v, b) {
                Some((k, d)) if short_uvarint(((d << 1) ^ (d >> 63)) as u64) => {
                    put_varint(payload, d);
                    KIND_DECIMAL | (k as u8) << 3
                }
                _ => {
                    let x = s.v.to_bits() ^ b.to_bits();
                    if short_uvarint(x) {
                        put_uvarint(payload, x);
                        KIND_XOR
                    } else {
                        payload.extend_from_slice(&s.v.to_bits().to_le_bytes());
                        KIND_RAW
                    }
                }
            },
            None => {
                payload.extend_from_slice(&s.v.to_bits().to_le_bytes());
                KIND_RAW
            }
        };
        self.tags.push(tag | flag);
    }

    /// Appends the record of the samples pushed to `out`.
    pub fn finish(&self, out: &mut Vec<u8>) {
        out.reserve(20 + self.refs.len() + self.times.len() + self.tags.len() + self.payload.len());
        out.push(DENSE_SAMPLES);
        put_uvarint(out, self.n);
        if self.n == 0 {
            return;
        }
        put_varint(out, self.first_t);
        out.extend_from_slice(&self.refs);
        out.extend_from_slice(&self.times);
        out.extend_from_slice(&self.tags);
        out.extend_from_slice(&self.payload);
    }
}

/// Reads `n` varints from the start of `b` and calls `push` with their running sums from
/// `start` (the ref and time columns); returns the bytes read, `None` if the column is cut
/// short or bad.
#[inline]
fn running_sums(b: &[u8], n: usize, start: i64, mut push: impl FnMut(i64)) -> Option<usize> {
    let mut pos = 0;
    let mut acc = start;
    let mut left = n;
    let unzigzag = |u: u64| ((u >> 1) as i64) ^ -((u & 1) as i64);
    while left > 0 {
        // Most deltas (consecutive refs, time jitter) fit one byte: eight of them at a time
        // when the next eight bytes are all one-byte varints.
        if left >= 8
            && let Some(w) = b.get(pos..pos + 8).and_then(|w| <[u8; 8]>::try_from(w).ok())
            && u64::from_le_bytes(w) & 0x8080_8080_8080_8080 == 0
        {
            for x in w {
                acc = acc.wrapping_add(unzigzag(u64::from(x)));
                push(acc);
            }
            pos += 8;
            left -= 8;
            continue;
        }
        let u = match b.get(pos) {
            Some(&x) if x < 0x80 => {
                pos += 1;
                u64::from(x)
            }
            _ => {
                let (u, used) = read_uvarint(b.get(pos..)?)?;
                pos += used;
                u
            }
        };
        acc = acc.wrapping_add(unzigzag(u));
        push(acc);
        left -= 1;
    }
    Some(pos)
}

/// Decodes the value of a sample with `tag` whose series' base is `base` from `d`.
fn value(tag: u8, base: Option<f64>, d: &mut Decbuf<'_>) -> Result<f64> {
    let bad = |why: &str| TsdbError::corrupted("wal dense samples record", why.to_string());
    let v = match tag & 0x03 {
        KIND_RAW => f64::from_bits(u64::from_le_bytes(
            d.bytes(8).try_into().map_err(|_| bad("truncated value"))?,
        )),
        kind => {
            let b = base.ok_or_else(|| bad("value coded against a missing base"))?;
            match kind {
                KIND_SAME => b,
                KIND_XOR => f64::from_bits(b.to_bits() ^ d.uvarint()),
                _ => {
                    let k = u32::from(tag >> 3);
                    let delta = d.varint();
                    let mb = scaled(b, k).ok_or_else(|| bad("base is not decimal"))?;
                    let m = mb.checked_add(delta).ok_or_else(|| bad("delta overflow"))?;
                    m as f64 / pow10(k)
                }
            }
        }
    };
    d.check("wal dense samples record")?;
    Ok(v)
}

/// What a replay knows before reading the WAL of the series that have chunks in the head chunk
/// cache: per series ref, the end of its last cached chunk (`upto`) and the value there
/// (`last_v`). Looked up for every sample, so the ends of small refs sit in a plain vector.
#[derive(Debug, Default)]
pub struct CachedEnds {
    /// `upto` by ref, `i64::MIN` for none (a sample at `i64::MIN` is then kept, which only
    /// costs its decoding: the head rejects it again).
    dense: Vec<i64>,
    far: HashMap<u64, i64, ahash::RandomState>,
    last_v: RefMap<f64>,
}

impl CachedEnds {
    /// From `(ref, upto, last_v)` entries.
    pub fn new(ends: &[(u64, i64, f64)]) -> CachedEnds {
        let mut c = CachedEnds::default();
        // Refs are mostly small and dense; a few far-off ones must not size the vector.
        let limit = (ends.len() as u64).saturating_mul(16).saturating_add(1024);
        let len = ends.iter().map(|e| e.0).filter(|&r| r < limit).max().map_or(0, |r| r + 1);
        c.dense = vec![i64::MIN; len as usize];
        for &(r, upto, last_v) in ends {
            match c.dense.get_mut(r as usize) {
                Some(slot) => *slot = upto,
                None => {
                    c.far.insert(r, upto);
                }
            }
            c.last_v.insert(r, last_v);
        }
        c
    }

    pub fn is_empty(&self) -> bool {
        self.last_v.is_empty()
    }

    /// True unless the sample of series `r` at `t` is in the series' cached chunks.
    #[inline]
    pub fn keeps(&self, r: u64, t: i64) -> bool {
        let upto = match self.dense.get(r as usize) {
            Some(&u) => u,
            None if self.far.is_empty() => return true,
            None => match self.far.get(&r) {
                Some(&u) => u,
                None => return true,
            },
        };
        t > upto
    }
}

/// Decodes dense records of one segment; holds each series' base value.
#[derive(Default)]
pub struct DenseDecoder {
    bases: RefMap<f64>,
    /// Scratch columns of the record being decoded.
    refs: Vec<u64>,
    ts: Vec<i64>,
}

impl DenseDecoder {
    /// Forgets every base (call at the start of each segment file).
    pub fn reset(&mut self) {
        self.bases = RefMap::default();
    }

    /// Decodes a [`DENSE_SAMPLES`] record into `(ref, t, v)` samples.
    pub fn decode(&mut self, rec: &[u8]) -> Result<Vec<(u64, i64, f64)>> {
        let mut out = Vec::new();
        self.decode_into(rec, |_, _| true, &mut out)?;
        Ok(out)
    }

    /// Like [`DenseDecoder::decode`], appending to `out` only the samples `keep(ref, t)`
    /// accepts (every sample still updates the bases). On error `out` may hold part of the
    /// record.
    pub fn decode_into(
        &mut self,
        rec: &[u8],
        keep: impl Fn(u64, i64) -> bool,
        out: &mut Vec<(u64, i64, f64)>,
    ) -> Result<()> {
        let bad = |why: &str| TsdbError::corrupted("wal dense samples record", why.to_string());
        let Some((mut d, tags)) = self.columns(rec)? else { return Ok(()) };
        out.reserve(tags.len());
        for ((&tag, &r), &t) in tags.iter().zip(&self.refs).zip(&self.ts) {
            let base = self.bases.get_mut(&r);
            let v = value(tag, base.as_deref().copied(), &mut d)?;
            if tag & SETS_BASE != 0 {
                match base {
                    Some(b) => *b = v,
                    None => self.bases.insert(r, v),
                }
            }
            if keep(r, t) {
                out.push((r, t, v));
            }
        }
        if !d.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Ok(())
    }

    /// Decodes a [`DENSE_SAMPLES`] record for a replay with an out-of-order window, sorting
    /// the samples by how their commit placed them: those logged in order go to `in_order`
    /// unless they are in their series' cached chunks (`cached`), those logged out of order
    /// to `out_of_order`, whatever their time (the head chunk cache holds only in-order
    /// chunks). Every value is decoded: an out-of-order sample is coded against the newest
    /// in-order value of its series at its commit, which may be any earlier one in the
    /// segment, cached or not.
    pub fn decode_split(
        &mut self,
        rec: &[u8],
        cached: &CachedEnds,
        in_order: &mut Vec<(u64, i64, f64)>,
        out_of_order: &mut Vec<(u64, i64, f64)>,
    ) -> Result<()> {
        let bad = |why: &str| TsdbError::corrupted("wal dense samples record", why.to_string());
        let Some((mut d, tags)) = self.columns(rec)? else { return Ok(()) };
        in_order.reserve(tags.len());
        for ((&tag, &r), &t) in tags.iter().zip(&self.refs).zip(&self.ts) {
            let base = self.bases.get_mut(&r);
            let v = value(tag, base.as_deref().copied(), &mut d)?;
            if tag & SETS_BASE == 0 {
                out_of_order.push((r, t, v));
                continue;
            }
            match base {
                Some(b) => *b = v,
                None => self.bases.insert(r, v),
            }
            if cached.keeps(r, t) {
                in_order.push((r, t, v));
            }
        }
        if !d.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Ok(())
    }

    /// Reads the header and the ref and time columns of a [`DENSE_SAMPLES`] record into
    /// `self.refs` and `self.ts`; returns the tags and the decoder at the value payloads, or
    /// `None` for a record without samples.
    fn columns<'r>(&mut self, rec: &'r [u8]) -> Result<Option<(Decbuf<'r>, &'r [u8])>> {
        let bad = |why: &str| TsdbError::corrupted("wal dense samples record", why.to_string());
        let mut d = Decbuf::new(rec);
        if d.byte() != DENSE_SAMPLES {
            return Err(bad("wrong record type"));
        }
        let n = d.uvarint() as usize;
        d.check("wal dense samples record")?;
        if n == 0 {
            return Ok(None);
        }
        // Each sample needs at least three bytes (ref, time, tag): bounds the allocation.
        if n > rec.len() {
            return Err(bad("sample count larger than the record"));
        }
        let t0 = d.varint();
        let (refs, ts) = (&mut self.refs, &mut self.ts);
        refs.clear();
        ts.clear();
        let used = running_sums(d.b, n, 0, |r| refs.push(r as u64));
        d.skip(used.ok_or_else(|| bad("bad ref column"))?);
        let used = running_sums(d.b, n, t0, |t| ts.push(t));
        d.skip(used.ok_or_else(|| bad("bad time column"))?);
        let tags = d.bytes(n);
        d.check("wal dense samples record")?;
        Ok(Some((d, tags)))
    }

    /// Decodes a [`DENSE_SAMPLES`] record for a replay whose head already holds, for each
    /// series in `cached`, every sample up to `upto` in its cached chunks, `last_v` being the
    /// value at `upto` (without an out-of-order window). Samples at or before `upto` are
    /// skipped without decoding their values; the rest are appended to `out`.
    ///
    /// A skipped sample's value is only ever a base for later skipped samples or for the
    /// series' first kept sample of the segment. The writer logs a series' in-order samples
    /// in time order, so the base of that first kept sample, if it has one, is the sample at
    /// `upto` logged earlier in the same segment: `last_v`. The decoder uses `last_v` as the
    /// base of a cached series that has no base decoded in this segment.
    pub fn decode_skipping(
        &mut self,
        rec: &[u8],
        cached: &CachedEnds,
        out: &mut Vec<(u64, i64, f64)>,
    ) -> Result<()> {
        let Some((mut d, tags)) = self.columns(rec)? else { return Ok(()) };
        let keep = |r: u64, t: i64| cached.keeps(r, t);
        // Nothing after the last kept sample needs its value payload read.
        let Some(last) = self.refs.iter().zip(&self.ts).rposition(|(&r, &t)| keep(r, t)) else {
            return Ok(());
        };
        out.reserve(last + 1);
        for ((&tag, &r), &t) in tags.iter().zip(&self.refs).zip(&self.ts).take(last + 1) {
            if !keep(r, t) {
                match tag & 0x03 {
                    KIND_RAW => d.skip(8),
                    KIND_SAME => {}
                    _ => {
                        d.uvarint();
                    }
                }
                continue;
            }
            let base = match self.bases.get(&r) {
                Some(&b) => Some(b),
                None => cached.last_v.get(&r).copied(),
            };
            let v = value(tag, base, &mut d)?;
            if tag & SETS_BASE != 0 {
                match self.bases.get_mut(&r) {
                    Some(b) => *b = v,
                    None => self.bases.insert(r, v),
                }
            }
            out.push((r, t, v));
        }
        d.check("wal dense samples record")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(batches: &[Vec<(u64, i64, f64, bool)>]) -> usize {
        let mut bases: std::collections::HashMap<u64, f64> = Default::default();
        let mut dec = DenseDecoder::default();
        let mut bytes = 0;
        for batch in batches {
            let samples: Vec<DenseSample> = batch
                .iter()
                .map(|&(r, t, v, sets_base)| {
                    let s = DenseSample { r, t, v, base: bases.get(&r).copied(), sets_base };
                    if sets_base {
                        bases.insert(r, v);
                    }
                    s
                })
                .collect();
            let mut e = Encbuf::new();
            encode(&samples, &mut e);
            bytes += e.b.len();
            let got = dec.decode(&e.b).unwrap();
            assert_eq!(got.len(), batch.len());
            for (g, w) in got.iter().zip(batch) {
                assert_eq!((g.0, g.1, g.2.to_bits()), (w.0, w.1, w.2.to_bits()));
            }
        }
        bytes
    }

    /// The search of the scale without the cheap filter, as it was first written.
    fn decimal_delta_plain(v: f64, base: f64) -> Option<(u32, i64)> {
        (0..=MAX_SCALE).find_map(|k| {
            let (mv, mb) = (scaled(v, k)?, scaled(base, k)?);
            let d = mv.checked_sub(mb)?;
            let back = (mb.checked_add(d)? as f64) / pow10(k);
            (back.to_bits() == v.to_bits()).then_some((k, d))
        })
    }

    /// Decimals of every scale and size, their neighbours one ulp away, products of
    /// divisions, random bit patterns.
    fn value_cases() -> Vec<f64> {
        let mut out = vec![0.0, -0.0, f64::NAN, f64::INFINITY, 1e-300, 4503599627370495.5];
        // Decimals of every scale around 2^53 / 10^k and 2^52 / 10^k, where the scales that
        // can be exact change.
        for k in 0..=MAX_SCALE + 1 {
            for top in [1u64 << 53, 1 << 52] {
                for j in 0..=MAX_SCALE {
                    let units = (top as f64 / pow10(k) * pow10(j)) as i64;
                    for d in -12..=12 {
                        let m = units.saturating_add(d);
                        out.extend([m as f64 / pow10(j), -(m as f64) / pow10(j)]);
                    }
                }
            }
        }
        for i in 0..20_000u64 {
            let z = mix(i);
            let k = (z % 12) as i32;
            let m = (mix(z) >> (z % 60)) as i64 * if z & 1 == 0 { 1 } else { -1 };
            let d = m as f64 / 10f64.powi(k);
            out.extend([
                d,
                f64::from_bits(d.to_bits().wrapping_add(1)),
                f64::from_bits(d.to_bits().wrapping_sub(1)),
                m as f64 * 0.001,
                (m % 100_000) as f64 / 1000.0 / 1000.0,
                f64::from_bits(mix(z ^ 7)),
            ]);
        }
        out
    }

    #[test]
    fn short_uvarints_are_those_of_fewer_than_eight_bytes() {
        for b in 0..64 {
            for x in [1u64 << b, (1u64 << b) - 1, (1u64 << b) + 1] {
                assert_eq!(short_uvarint(x), uvarint_len(x) < 8, "{x}");
            }
        }
        assert!(short_uvarint(0) && !short_uvarint(u64::MAX));
    }

    #[test]
    fn the_filtered_scale_search_finds_what_the_plain_one_finds() {
        let vals = value_cases();
        for (i, &v) in vals.iter().enumerate() {
            for base in
                [vals[(i * 7 + 3) % vals.len()], v + 0.5, v * 1.1, (v * 100.0).round() / 100.0]
            {
                assert_eq!(decimal_delta(v, base), decimal_delta_plain(v, base), "{v:e} {base:e}");
            }
        }
    }

    /// The record [`encode`] wrote before it was built on [`DenseEncoder`].
    fn encode_plain(samples: &[DenseSample], out: &mut Encbuf) {
        out.put_byte(DENSE_SAMPLES);
        out.put_uvarint(samples.len() as u64);
        let Some(first) = samples.first() else { return };
        out.put_varint(first.t);
        let mut prev_r = 0u64;
        for s in samples {
            out.put_varint(s.r.wrapping_sub(prev_r) as i64);
            prev_r = s.r;
        }
        let mut prev_t = first.t;
        for s in samples {
            out.put_varint(s.t.wrapping_sub(prev_t));
            prev_t = s.t;
        }
        let mut payload = Encbuf::new();
        for s in samples {
            let flag = if s.sets_base { SETS_BASE } else { 0 };
            let tag = match s.base {
                Some(b) if b.to_bits() == s.v.to_bits() => KIND_SAME,
                Some(b) => match decimal_delta_plain(s.v, b) {
                    Some((k, d)) if uvarint_len(((d << 1) ^ (d >> 63)) as u64) < 8 => {
                        payload.put_varint(d);
                        KIND_DECIMAL | (k as u8) << 3
                    }
                    _ => {
                        let x = s.v.to_bits() ^ b.to_bits();
                        if uvarint_len(x) < 8 {
                            payload.put_uvarint(x);
                            KIND_XOR
                        } else {
                            payload.put_bytes(&s.v.to_bits().to_le_bytes());
                            KIND_RAW
                        }
                    }
                },
                None => {
                    payload.put_bytes(&s.v.to_bits().to_le_bytes());
                    KIND_RAW
                }
            };
            out.put_byte(tag | flag);
        }
        out.put_bytes(&payload.b);
    }

    #[test]
    fn the_streaming_encoder_writes_the_bytes_of_the_plain_one_and_reuses_its_buffers() {
        let vals = value_cases();
        let mut enc = DenseEncoder::default();
        let mut got = Vec::new();
        for batch in 0..40usize {
            let samples: Vec<DenseSample> = (0..batch * 13)
                .map(|i| {
                    let z = mix((batch * 1000 + i) as u64);
                    DenseSample {
                        r: (i as u64 * 3) ^ (z & 1),
                        t: 1_700_000_000_000 + (z % 5) as i64 - 2,
                        v: vals[z as usize % vals.len()],
                        base: (z & 6 != 0).then(|| vals[(z >> 8) as usize % vals.len()]),
                        sets_base: z & 8 != 0,
                    }
                })
                .collect();
            let mut want = Encbuf::new();
            encode_plain(&samples, &mut want);
            enc.clear();
            for s in &samples {
                enc.push(s);
            }
            got.clear();
            enc.finish(&mut got);
            assert_eq!(got, want.b, "batch {batch}");
        }
    }

    #[test]
    fn every_kind_of_value_roundtrips_bit_exactly() {
        let specials = [
            0.0,
            -0.0,
            1.0,
            0.1,
            0.30000000000000004,
            1e300,
            -1e-300,
            f64::NAN,
            f64::from_bits(model::value::STALE_NAN_BITS),
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            123456789.123,
            9_007_199_254_740_993.0,
            f64::MAX,
        ];
        let mut batches = Vec::new();
        for (k, v) in specials.iter().enumerate() {
            batches.push(vec![(1, k as i64 * 15_000, *v, true), (2, k as i64, -*v, k % 2 == 0)]);
        }
        roundtrip(&batches);
    }

    #[test]
    fn counters_and_constants_take_a_few_bytes_per_sample() {
        let mut batches = Vec::new();
        let mut counter = 1234.56;
        for step in 0..100i64 {
            counter = ((counter * 100.0f64).round() + 157.0) / 100.0;
            let t = 1_700_000_000_000 + step * 15_000;
            batches.push(
                (0..100u64)
                    .map(|r| (r, t + (r as i64 % 3), if r % 2 == 0 { counter } else { 42.0 }, true))
                    .collect(),
            );
        }
        let bytes = roundtrip(&batches);
        assert!(bytes < 100 * 100 * 5, "{bytes} bytes for 10,000 samples");
    }

    #[test]
    fn out_of_order_samples_do_not_move_the_base() {
        roundtrip(&[
            vec![(7, 2000, 10.5, true)],
            vec![(7, 1000, 3.25, false), (7, 3000, 10.75, true)],
            vec![(7, 4000, 10.75, true), (7, 2500, 10.5, false)],
        ]);
    }

    #[test]
    fn skipping_cached_samples_decodes_the_rest_exactly() {
        // Series 1 and 2 have cached chunks up to t = 5 (value there 1.05 and -3.0); series 3
        // has none. Values are decimal deltas, XORs and repeats against their bases.
        let value = |r: u64, t: i64| match r {
            1 => 1.0 + t as f64 / 100.0,
            2 => -3.0 * (t as f64 / 5.0).floor(),
            _ => (t as f64).sqrt(),
        };
        let mut bases: std::collections::HashMap<u64, f64> = Default::default();
        let mut recs = Vec::new();
        for t in 1..=9i64 {
            let mut samples = Vec::new();
            for r in 1..=3u64 {
                let v = value(r, t);
                samples.push(DenseSample {
                    r,
                    t,
                    v,
                    base: bases.get(&r).copied(),
                    sets_base: true,
                });
                bases.insert(r, v);
            }
            let mut e = Encbuf::new();
            encode(&samples, &mut e);
            recs.push(e.b);
        }
        let cached = CachedEnds::new(&[(1, 5, value(1, 5)), (2, 5, value(2, 5)), (9, 1, 0.0)]);
        let mut dec = DenseDecoder::default();
        let mut got = Vec::new();
        for rec in &recs {
            dec.decode_skipping(rec, &cached, &mut got).unwrap();
        }
        let want: Vec<(u64, i64, u64)> = (1..=9i64)
            .flat_map(|t| (1..=3u64).map(move |r| (r, t)))
            .filter(|&(r, t)| r == 3 || t > 5)
            .map(|(r, t)| (r, t, value(r, t).to_bits()))
            .collect();
        let got: Vec<(u64, i64, u64)> = got.iter().map(|s| (s.0, s.1, s.2.to_bits())).collect();
        assert_eq!(got, want);
        assert!(cached.keeps(3, 1) && cached.keeps(1, 6) && !cached.keeps(1, 5));
        assert!(cached.keeps(1 << 40, 0));
    }

    #[test]
    fn skipping_agrees_with_decoding_everything_on_long_mixed_records() {
        // Refs and times with one-byte and longer deltas mixed (the eight-at-a-time path and
        // the varint path), cached ends cutting records anywhere, series without cached chunks.
        let mut bases: std::collections::HashMap<u64, f64> = Default::default();
        let mut recs = Vec::new();
        let mut all = Vec::new();
        for step in 0..40i64 {
            let mut samples = Vec::new();
            for k in 0..300u64 {
                let r = if k % 37 == 5 { 1000 + k * 977 } else { k };
                let x = mix(r ^ (step as u64) << 20);
                let t = step * 15_000 + (x % 7) as i64 * if k % 50 == 0 { 100_000 } else { 1 };
                let v = match r % 4 {
                    0 => 42.0,
                    1 => step as f64 * 1.5 + r as f64,
                    2 => f64::from_bits(x),
                    _ => (x % 1000) as f64 / 100.0,
                };
                let sets_base = !x.is_multiple_of(11);
                samples.push(DenseSample { r, t, v, base: bases.get(&r).copied(), sets_base });
                if sets_base {
                    bases.insert(r, v);
                }
                all.push((r, t, v, sets_base));
            }
            let mut e = Encbuf::new();
            encode(&samples, &mut e);
            recs.push(e.b);
        }
        // Cached chunks end at some in-order sample of most series (its value as `last_v`).
        let mut ends: std::collections::HashMap<u64, (i64, f64)> = Default::default();
        for &(r, t, v, sets_base) in &all {
            if sets_base && !r.is_multiple_of(5) && mix(r.wrapping_add(t as u64)).is_multiple_of(9)
            {
                ends.entry(r).or_insert((t, v));
            }
        }
        // Only samples in order after the end are kept, as the head would have them.
        let list: Vec<(u64, i64, f64)> = ends.iter().map(|(&r, &(t, v))| (r, t, v)).collect();
        let cached = CachedEnds::new(&list);
        let (mut got, mut want) = (Vec::new(), Vec::new());
        let (mut skipping, mut full) = (DenseDecoder::default(), DenseDecoder::default());
        for rec in &recs {
            skipping.decode_skipping(rec, &cached, &mut got).unwrap();
            full.decode_into(rec, |r, t| cached.keeps(r, t), &mut want).unwrap();
        }
        // The skipping decoder needs bases only from after each series' cached end, where
        // `last_v` stands in: compare the samples whose base chain starts after the end.
        let bits = |v: &[(u64, i64, f64)]| -> Vec<(u64, i64, u64)> {
            v.iter().map(|s| (s.0, s.1, s.2.to_bits())).collect()
        };
        assert!(!want.is_empty() && want.len() < all.len());
        assert_eq!(bits(&got), bits(&want));
    }

    #[test]
    fn split_decoding_sorts_samples_by_placement_and_drops_only_cached_in_order_ones() {
        // Series 1 is cached up to t = 50. Its out-of-order samples are coded against the
        // newest in-order value at their commit: 20's value (inside the cache) for the one
        // at 15, 60's for the one at 40.
        let inorder = |t: i64| t as f64 / 10.0 + 0.01;
        let mut samples = Vec::new();
        let mut base = None;
        for t in (10..=70).step_by(10) {
            samples.push(DenseSample { r: 1, t, v: inorder(t), base, sets_base: true });
            base = Some(inorder(t));
            if t == 20 {
                samples.push(DenseSample { r: 1, t: 15, v: 7.25, base, sets_base: false });
            }
            if t == 60 {
                samples.push(DenseSample { r: 1, t: 40, v: -1.5, base, sets_base: false });
            }
        }
        samples.push(DenseSample { r: 2, t: 5, v: 3.0, base: None, sets_base: true });
        let mut e = Encbuf::new();
        encode(&samples, &mut e);
        let cached = CachedEnds::new(&[(1, 50, inorder(50))]);
        let (mut kept, mut late) = (Vec::new(), Vec::new());
        DenseDecoder::default().decode_split(&e.b, &cached, &mut kept, &mut late).unwrap();
        let bits = |v: &[(u64, i64, f64)]| -> Vec<(u64, i64, u64)> {
            v.iter().map(|s| (s.0, s.1, s.2.to_bits())).collect()
        };
        let want_kept = [(1, 60, inorder(60)), (1, 70, inorder(70)), (2, 5, 3.0)];
        assert_eq!(bits(&kept), bits(&want_kept));
        assert_eq!(bits(&late), bits(&[(1, 15, 7.25), (1, 40, -1.5)]));
        // Cut short, it is an error, not a panic.
        for cut in 0..e.b.len() {
            let _ =
                DenseDecoder::default().decode_split(&e.b[..cut], &cached, &mut kept, &mut late);
        }
    }

    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[test]
    fn damaged_records_are_errors_not_panics() {
        let mut e = Encbuf::new();
        let s = |r, v, base| DenseSample { r, t: 5, v, base, sets_base: true };
        encode(&[s(1, 1.5, None), s(1, 2.5, Some(1.5))], &mut e);
        for cut in 0..e.b.len() {
            let _ = DenseDecoder::default().decode(&e.b[..cut]);
        }
        // A value coded against a base the decoder never saw.
        e.reset();
        encode(&[s(3, 2.5, Some(1.5))], &mut e);
        assert!(DenseDecoder::default().decode(&e.b).is_err());
        let mut huge = Encbuf::new();
        huge.put_byte(DENSE_SAMPLES);
        huge.put_uvarint(u64::MAX);
        assert!(DenseDecoder::default().decode(&huge.b).is_err());
    }
}
