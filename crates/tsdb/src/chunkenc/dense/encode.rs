//! The dense chunk encoder: picks the timestamp interval, the value coding (scaled decimal
//! integers with exceptions, or byte-wise XOR) and the compression for one run of samples.

use super::{
    CLASSES, COMPRESSION_EMPTY, COMPRESSION_NONE, COMPRESSION_RUN, COMPRESSION_ZSTD,
    FORMAT_VERSION, MAX_CLASS_BITS, MAX_SCALE, MODE_BITS, MODE_DECIMAL, MODE_PRODUCT, MODE_XOR,
    NEG_POW10, NIBBLE_ESCAPE, ORDER_BASE_OFFSETS, ORDER_OFFSETS, ORDER_UNSIGNED_DELTAS, TS_NIBBLES,
    TS_SHARED, TS_SPARSE, TS_VARINTS, ZSTD_MAGIC,
};
use crate::decimal;
use crate::encoding::Encbuf;

/// Encodes runs of samples as dense chunks, reusing one zstd context.
pub struct DenseEncoder {
    level: i32,
    zstd: Option<zstd::bulk::Compressor<'static>>,
    body: Encbuf,
    /// The timestamp section of the chunk being encoded, as stored (code and bytes): the
    /// same for every value layout tried.
    times: Option<(Vec<u8>, u8, Vec<u8>)>,
}

impl std::fmt::Debug for DenseEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DenseEncoder").field("level", &self.level).finish_non_exhaustive()
    }
}

impl DenseEncoder {
    /// An encoder compressing with zstd at `level` (0 stores bodies uncompressed).
    pub fn new(level: i32) -> DenseEncoder {
        let zstd = (level != 0).then(|| zstd::bulk::Compressor::new(level).ok()).flatten();
        DenseEncoder { level, zstd, body: Encbuf::new(), times: None }
    }

    /// Encodes `samples` (timestamps increasing, at least one) as one dense chunk.
    pub fn encode(&mut self, samples: &[(i64, f64)]) -> Vec<u8> {
        self.encode_sharing(samples, None)
    }

    /// As [`Self::encode`], but the timestamps are those of the chunk at offset `owner` of
    /// the same segment file, which must hold the same number of samples at the same times
    /// (the same [`Self::time_key`]) with timestamps of its own.
    pub fn encode_shared(&mut self, samples: &[(i64, f64)], owner: u64) -> Vec<u8> {
        self.encode_sharing(samples, Some(owner))
    }

    /// The bytes that identify the timestamps of `samples`: equal keys, equal timestamps.
    pub fn time_key(&self, samples: &[(i64, f64)]) -> Vec<u8> {
        let (t0, interval, mode, ts) = encode_times(samples);
        let mut key = Encbuf::new();
        key.put_uvarint(samples.len() as u64);
        key.put_varint(t0);
        key.put_uvarint(interval);
        key.put_byte(mode);
        key.put_bytes(&ts.b);
        key.b
    }

    fn encode_sharing(&mut self, samples: &[(i64, f64)], owner: Option<u64>) -> Vec<u8> {
        self.times = None;
        // The value plan is the same for every layout (xor aside).
        let values: Vec<f64> = samples.iter().map(|s| s.1).collect();
        let plan = choose_plan(&values);
        let (mut chunk, info) = self.encode_as(samples, Layout::Varints, owner, plan);
        // Numbers of more than one byte: noise (durations, memory gauges) often compresses
        // better as bit-length classes, whose bits below the top ones are stored as they are
        // (the class width estimated best), or, from two bytes on average, as byte planes,
        // whose low bytes are kept apart from the top.
        let planes = info.wide.then_some(Layout::Planes);
        if let Some(m) = info.classes {
            for layout in planes.into_iter().chain([Layout::Classes(m)]) {
                let (other, _) = self.encode_as(samples, layout, owner, plan);
                if other.len() < chunk.len() {
                    chunk = other;
                }
            }
        }
        if info.bits {
            // Bit-pattern deltas are estimated before compression; byte-wise XOR may still
            // compress better: keep the smaller.
            let (xor, _) = self.encode_as(samples, Layout::Xor, owner, None);
            if xor.len() < chunk.len() {
                chunk = xor;
            }
        }
        chunk
    }

    /// One chunk in `layout`, and what other layouts may be smaller; `owner` shares the
    /// timestamps of that chunk.
    fn encode_as(
        &mut self,
        samples: &[(i64, f64)],
        layout: Layout,
        owner: Option<u64>,
        plan: Option<DecimalPlan>,
    ) -> (Vec<u8>, Info) {
        self.body.reset();
        let (sections, info) = encode_body(samples, &mut self.body, layout, owner, plan);
        let mut out = Encbuf::new();
        out.put_byte(FORMAT_VERSION);
        out.put_uvarint(samples.len() as u64);
        out.put_uvarint(self.body.len() as u64);
        out.put_bytes(&self.body.b);
        let mut codes = 0u8;
        let mut rest = Encbuf::new();
        for (i, raw) in sections.iter().enumerate() {
            if i == 0 {
                if let Some((key, code, stored)) = &self.times
                    && *key == raw.b
                {
                    codes |= code;
                    rest.put_bytes(stored);
                    continue;
                }
                let mut stored = Encbuf::new();
                let code = self.put_section(&raw.b, true, &mut stored);
                codes |= code;
                rest.put_bytes(&stored.b);
                self.times = Some((raw.b.clone(), code, stored.b));
                continue;
            }
            // The value leads' length follows from the count and the value mode.
            codes |= self.put_section(&raw.b, i != 1, &mut rest) << (2 * i);
        }
        out.put_byte(codes);
        out.put_bytes(&rest.b);
        (out.b, info)
    }

    /// One section into `out`: its length (if `with_len`), then as a run of one byte, as a
    /// zstd frame without its magic number (with the stored length) when that is smaller, or
    /// as it is; returns the compression code. Compressing the sections apart gives each its
    /// own entropy tables: timestamp residuals and value deltas have little in common.
    fn put_section(&mut self, raw: &[u8], with_len: bool, out: &mut Encbuf) -> u8 {
        if raw.is_empty() {
            return COMPRESSION_EMPTY;
        }
        if with_len {
            out.put_uvarint(raw.len() as u64);
        }
        if let Some(&b) = raw.first()
            && raw.len() > 2
            && raw.iter().all(|&x| x == b)
        {
            // One byte repeated (regular timestamps, unchanging values): no zstd frame.
            out.put_byte(b);
            return COMPRESSION_RUN;
        }
        let packed = match self.zstd.as_mut() {
            Some(z) if raw.len() > 8 => z.compress(raw).ok(),
            _ => None,
        };
        match packed.as_deref().and_then(|p| p.strip_prefix(&ZSTD_MAGIC[..])) {
            Some(p) if p.len() + (uvarint_len(p.len() as u64) as usize) < raw.len() => {
                out.put_uvarint(p.len() as u64);
                out.put_bytes(p);
                COMPRESSION_ZSTD
            }
            _ => {
                out.put_bytes(raw);
                COMPRESSION_NONE
            }
        }
    }

    /// Encodes `samples` into chunks of at most `per_chunk` samples: (mint, maxt, bytes) each.
    pub fn encode_chunks(
        &mut self,
        samples: &[(i64, f64)],
        per_chunk: usize,
    ) -> Vec<(i64, i64, Vec<u8>)> {
        samples
            .chunks(per_chunk.max(1))
            .filter_map(|part| Some((part.first()?.0, part.last()?.0, self.encode(part))))
            .collect()
    }
}

/// The header (first timestamp, interval, value coding) into `header`, and the timestamp,
/// value lead, value continuation and exception sections.
/// Also says whether the values are bit patterns; `xor` forces byte-wise XOR values.
/// How values are laid out: the best integer plan with its numbers as split varints or as
/// byte planes, or byte-wise XOR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Varints,
    Planes,
    /// Bit-length classes with this many mantissa bits.
    Classes(u8),
    Xor,
}

/// What an encoding found out about other layouts.
#[derive(Debug, Clone, Copy, Default)]
struct Info {
    /// The values are bit patterns (xor may still be smaller).
    bits: bool,
    /// The numbers take two bytes and more on average (planes may be smaller).
    wide: bool,
    /// Some numbers take more than one byte: classes with this many mantissa bits may be
    /// smaller.
    classes: Option<u8>,
}

/// How the values are coded as integers, or `None` for byte-wise XOR (no plan is smaller).
fn choose_plan(values: &[f64]) -> Option<DecimalPlan> {
    let bits = DecimalPlan::at_scale(values, None, false);
    let plan = match DecimalPlan::best(values) {
        Some(dec) if bits.as_ref().is_none_or(|b| dec.cost <= b.cost) => Some(dec),
        _ => bits,
    };
    plan.filter(|p| p.cost <= xor_cost(values))
}

/// The header into `header` and the four sections, the values by `plan` in `layout` (xor
/// when there is no plan or the layout is xor).
fn encode_body(
    samples: &[(i64, f64)],
    header: &mut Encbuf,
    layout: Layout,
    owner: Option<u64>,
    plan: Option<DecimalPlan>,
) -> ([Encbuf; 4], Info) {
    let plan = plan.filter(|_| layout != Layout::Xor);
    let (t0, interval, ts_mode, ts) = match owner {
        Some(off) => {
            let mut ts = Encbuf::new();
            ts.put_uvarint(off);
            (0, 0, TS_SHARED, ts)
        }
        None => encode_times(samples),
    };
    header.put_varint(t0);
    header.put_uvarint(interval);
    let values: Vec<f64> = samples.iter().map(|s| s.1).collect();
    match plan {
        Some(plan) => {
            let (x0, vals, exc) = plan.encode(&values);
            let info = Info {
                bits: plan.scale.is_none(),
                wide: vals.cont.len() >= vals.nums.len(),
                classes: if vals.cont.is_empty() { None } else { vals.promising_classes() },
            };
            let mode = match plan.scale {
                None => MODE_BITS,
                Some(_) if plan.product => MODE_PRODUCT,
                Some(_) => MODE_DECIMAL,
            };
            let (width, lead, cont) = match layout {
                Layout::Planes => vals.planes(),
                Layout::Classes(m) => vals.classes(m),
                _ => (0, vals.lead, vals.cont),
            };
            let planes = if width > 0 { 0x80 } else { 0 };
            header.put_byte(ts_mode | mode << 2 | plan.order << 4 | planes);
            if width > 0 {
                header.put_byte(width);
            }
            if let Some(k) = plan.scale {
                header.put_byte(k);
                header.put_uvarint(plan.gcd);
                header.put_uvarint(plan.exceptions as u64);
            } else {
                header.put_uvarint(plan.gcd);
            }
            header.put_varint(x0);
            if plan.order == ORDER_BASE_OFFSETS {
                header.put_varint(plan.base);
            }
            ([ts, lead, cont, exc], info)
        }
        _ => {
            header.put_byte(ts_mode | MODE_XOR << 2);
            let Split { lead, cont, .. } = encode_xor(&values);
            ([ts, lead, cont, Encbuf::new()], Info::default())
        }
    }
}

/// The first timestamp, the grid's interval, the time mode and the timestamp section.
fn encode_times(samples: &[(i64, f64)]) -> (i64, u64, u8, Encbuf) {
    let t0 = samples.first().map_or(0, |s| s.0);
    let interval = median_interval(samples);
    let mut residuals = Vec::with_capacity(samples.len());
    let mut grid = t0;
    for w in samples.windows(2) {
        let pred = grid.wrapping_add(interval as i64);
        let e = w[1].0.wrapping_sub(pred);
        residuals.push(e);
        grid = if e.unsigned_abs() <= interval / 2 { pred } else { w[1].0 };
    }
    let (ts_mode, ts) = encode_residuals(&residuals);
    (t0, interval, ts_mode, ts)
}

/// The timestamp section and its mode: the residuals as zig-zag varints, or as nibbles (two to
/// a byte, high nibble first; 15 escapes to a varint in the trailing escape area) when that is
/// shorter, as it is for regular scrapes with a few milliseconds of jitter.
fn encode_residuals(residuals: &[i64]) -> (u8, Encbuf) {
    let mut out = Encbuf::new();
    let varint_cost: u64 = residuals.iter().map(|&e| uvarint_len(zigzag(e))).sum();
    let escapes =
        || residuals.iter().map(|&e| zigzag(e)).filter(|&z| z >= u64::from(NIBBLE_ESCAPE));
    let nibble_cost = residuals.len().div_ceil(2) as u64 + escapes().map(uvarint_len).sum::<u64>();
    let nonzero = || residuals.iter().enumerate().filter(|(_, e)| **e != 0);
    let mut last = 0;
    let sparse_cost: u64 = nonzero()
        .map(|(j, &e)| {
            let gap = (j - last) as u64;
            last = j;
            uvarint_len(gap) + uvarint_len(zigzag(e))
        })
        .sum();
    // zstd squeezes mostly-zero nibbles well: sparse pairs pay off when few residuals are set.
    if sparse_cost * 2 < nibble_cost.min(varint_cost) {
        let mut last = 0;
        for (j, &e) in nonzero() {
            out.put_uvarint((j - last) as u64);
            out.put_varint(e);
            last = j;
        }
        return (TS_SPARSE, out);
    }
    if nibble_cost < varint_cost {
        for pair in residuals.chunks(2) {
            let code = |e: i64| zigzag(e).min(u64::from(NIBBLE_ESCAPE)) as u8;
            let lo = pair.get(1).map_or(0, |&e| code(e));
            out.put_byte(code(pair[0]) << 4 | lo);
        }
        for z in escapes() {
            out.put_uvarint(z);
        }
        (TS_NIBBLES, out)
    } else {
        for &e in residuals {
            out.put_varint(e);
        }
        (TS_VARINTS, out)
    }
}

/// The median gap between consecutive timestamps (0 for a single sample): the scrape interval
/// for regular data, whatever the jitter and the occasional missed scrape.
fn median_interval(samples: &[(i64, f64)]) -> u64 {
    let mut gaps: Vec<u64> =
        samples.windows(2).map(|w| w[1].0.wrapping_sub(w[0].0) as u64).collect();
    if gaps.is_empty() {
        return 0;
    }
    let mid = gaps.len() / 2;
    *gaps.select_nth_unstable(mid).1
}

/// The smallest scale k at which `v` is an exact decimal integer `x / 10^k`, if any.
fn min_scale(v: f64) -> Option<u8> {
    if !v.is_finite() {
        return None;
    }
    (0..=MAX_SCALE).find(|&k| scaled(v, k).is_some())
}

/// `v * 10^k` as an integer, if dividing it by `10^k` gives back `v` bit for bit.
#[inline]
fn scaled(v: f64, k: u8) -> Option<i64> {
    decimal::scaled(v, u32::from(k))
}

/// As [`scaled`] for a header scale byte: k in the low four bits and, in the high four, s > 0
/// when the value is divided by 10^(k-s) and then by 10^s.
#[inline]
fn scaled_byte(v: f64, scale: u8) -> Option<i64> {
    match scale >> 4 {
        0 => scaled(v, scale),
        s => decimal::scaled_split(v, u32::from(scale & 15), u32::from(s)),
    }
}

/// `v` as an integer x with `x as f64 * NEG_POW10[k] == v` bit for bit (values a program
/// computed as, e.g., `milliseconds * 0.001`, which are often no exact decimal `x / 10^k`).
fn scaled_product(v: f64, k: u8) -> Option<i64> {
    let y = v * decimal::POW10[usize::from(k)];
    if y.abs().partial_cmp(&9_007_199_254_740_992.0) != Some(std::cmp::Ordering::Less) {
        return None;
    }
    let x = y.round() as i64;
    ((x as f64 * NEG_POW10[usize::from(k)]).to_bits() == v.to_bits()).then_some(x)
}

/// The divisor split tried when plain scaling leaves exceptions: `/ 1000.0 / 1000.0`
/// (microseconds to seconds in two steps, as node_exporter's pressure counters).
const SPLIT: u8 = 3;

fn uvarint_len(x: u64) -> u64 {
    u64::from((64 - x.leading_zeros()).max(1).div_ceil(7))
}

fn zigzag(x: i64) -> u64 {
    ((x << 1) ^ (x >> 63)) as u64
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// How the values of a chunk are coded as integers: scaled decimals, or (no scale) the
/// integers of their bit patterns.
#[derive(Debug, Clone, Copy)]
struct DecimalPlan {
    /// The decimal scale k, or `None` for bit patterns.
    scale: Option<u8>,
    /// The value is `x * 10^-k` (a product) rather than `x / 10^k`.
    product: bool,
    gcd: u64,
    /// 0: offsets from the first, 1: deltas, 2: deltas of deltas, 3: deltas that are never
    /// negative (unsigned), 4: unsigned offsets from the least (`base`).
    order: u8,
    /// The least integer (order 4 codes offsets from it).
    base: i64,
    exceptions: usize,
    /// Estimated bytes before compression.
    cost: u64,
}

impl DecimalPlan {
    /// The cheapest scale among those the values need, or `None` if no value is a decimal.
    fn best(values: &[f64]) -> Option<DecimalPlan> {
        let mut scales: Vec<u8> = values.iter().filter_map(|&v| min_scale(v)).collect();
        scales.sort_unstable();
        scales.dedup();
        let plain = scales
            .iter()
            .filter_map(|&k| Self::at_scale(values, Some(k), false))
            .min_by_key(|p| p.cost);
        if plain.is_none_or(|p| p.exceptions == 0) {
            return plain;
        }
        let split = scales
            .iter()
            .filter(|&&k| k > SPLIT)
            .filter_map(|&k| Self::at_scale(values, Some(k | SPLIT << 4), false))
            .min_by_key(|p| p.cost);
        let product = scales
            .iter()
            .filter(|&&k| k > 0)
            .filter_map(|&k| Self::at_scale(values, Some(k), true))
            .min_by_key(|p| p.cost);
        [plain, split, product].into_iter().flatten().min_by_key(|p| p.cost)
    }

    /// The integers at scale `k` (exceptions repeat the previous integer) and which are
    /// exceptions; with no scale, the bit patterns (no exceptions).
    fn integers(values: &[f64], k: Option<u8>, product: bool) -> (Vec<i64>, Vec<bool>) {
        let Some(k) = k else {
            return (
                values.iter().map(|v| v.to_bits() as i64).collect(),
                vec![false; values.len()],
            );
        };
        let mut xs = Vec::with_capacity(values.len());
        let mut exc = Vec::with_capacity(values.len());
        let mut prev = 0i64;
        for &v in values {
            let x = if product { scaled_product(v, k) } else { scaled_byte(v, k) };
            match x {
                Some(x) => {
                    xs.push(x);
                    exc.push(false);
                    prev = x;
                }
                None => {
                    xs.push(prev);
                    exc.push(true);
                }
            }
        }
        (xs, exc)
    }

    fn at_scale(values: &[f64], k: Option<u8>, product: bool) -> Option<DecimalPlan> {
        let (xs, exc) = Self::integers(values, k, product);
        let exceptions = exc.iter().filter(|&&e| e).count();
        if exceptions == values.len() {
            return None;
        }
        let x0 = xs.first().copied().unwrap_or(0);
        let d1: Vec<i64> = xs.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
        // Bit patterns may overflow in differences: a common factor is only used when no
        // delta, delta of deltas or offset wraps (with 1, wrapping arithmetic is exact).
        let wraps = xs.windows(2).any(|w| w[1].checked_sub(w[0]).is_none())
            || d1.windows(2).any(|w| w[1].checked_sub(w[0]).is_none())
            || xs.iter().any(|x| x.checked_sub(x0).is_none());
        let g = d1.iter().fold(0u64, |g, d| gcd(g, d.unsigned_abs())).max(1);
        // The header holds a positive i64.
        let g = if wraps || g > i64::MAX as u64 { 1 } else { g };
        let q = |d: i64| if g == 1 { d } else { d / g as i64 };
        let first = uvarint_len(zigzag(x0));
        let cost0: u64 =
            xs.iter().skip(1).map(|&x| uvarint_len(zigzag(q(x.wrapping_sub(x0))))).sum();
        let cost1: u64 = d1.iter().map(|&d| uvarint_len(zigzag(q(d)))).sum();
        let cost2: u64 = d1.first().map_or(0, |&d| uvarint_len(zigzag(q(d))))
            + d1.windows(2).map(|w| uvarint_len(zigzag(q(w[1].wrapping_sub(w[0]))))).sum::<u64>();
        let (mut order, mut body) = (1, cost1);
        if cost2 < body {
            (order, body) = (2, cost2);
        }
        if cost0 < body {
            (order, body) = (ORDER_OFFSETS, cost0);
        }
        // Noise above a floor: offsets from the least integer need no sign bit.
        let base = xs.iter().copied().min().unwrap_or(0);
        let above = |x: i64| x.wrapping_sub(base) as u64 / g;
        let cost4: u64 = xs.iter().skip(1).map(|&x| uvarint_len(above(x))).sum();
        if cost4 < body {
            (order, body) = (ORDER_BASE_OFFSETS, cost4);
        }
        if d1.iter().all(|&d| d >= 0) {
            // Counters: deltas never negative, so no zig-zag bit.
            let cost3: u64 = d1.iter().map(|&d| uvarint_len(d as u64 / g)).sum();
            if cost3 <= body {
                (order, body) = (ORDER_UNSIGNED_DELTAS, cost3);
            }
        }
        let cost = first + body + exceptions as u64 * 9;
        Some(DecimalPlan { scale: k, product, gcd: g, order, base, exceptions, cost })
    }

    /// The first integer (for the header), the value sections (from the second sample on)
    /// and the exception section.
    fn encode(&self, values: &[f64]) -> (i64, Split, Encbuf) {
        let (xs, exc) = Self::integers(values, self.scale, self.product);
        let g = self.gcd as i64;
        let q = |d: i64| if self.gcd == 1 { d } else { d / g };
        let x0 = xs.first().copied().unwrap_or(0);
        let mut vals = Split::default();
        let mut prev_d = 0i64;
        for (i, &x) in xs.iter().enumerate() {
            if i == 0 {
                continue;
            }
            let d = x.wrapping_sub(xs[i - 1]);
            match self.order {
                ORDER_UNSIGNED_DELTAS => vals.put_uvarint(d as u64 / self.gcd),
                ORDER_OFFSETS => vals.put_varint(q(x.wrapping_sub(x0))),
                ORDER_BASE_OFFSETS => vals.put_uvarint(x.wrapping_sub(self.base) as u64 / self.gcd),
                2 if i >= 2 => vals.put_varint(q(d.wrapping_sub(prev_d))),
                _ => vals.put_varint(q(d)),
            }
            prev_d = d;
        }
        let mut out = Encbuf::new();
        let mut last = 0usize;
        for (i, (&e, &v)) in exc.iter().zip(values).enumerate() {
            if e {
                out.put_uvarint((i - last) as u64);
                out.put_be64(v.to_bits());
                last = i;
            }
        }
        (x0, vals, out)
    }
}

/// Bytes the byte-wise XOR coding takes.
fn xor_cost(values: &[f64]) -> u64 {
    let mut prev = 0u64;
    values
        .iter()
        .map(|v| {
            let x = v.to_bits() ^ prev;
            prev = v.to_bits();
            let (lead, trail) = zero_bytes(x);
            1 + 8 - u64::from(lead + trail)
        })
        .sum()
}

/// Leading and trailing zero bytes of `x` (8 and 0 for zero).
fn zero_bytes(x: u64) -> (u8, u8) {
    if x == 0 {
        return (8, 0);
    }
    ((x.leading_zeros() / 8) as u8, (x.trailing_zeros() / 8) as u8)
}

/// Each value XOR'd with the previous (the first with 0): a control byte (leading zero bytes
/// in the high nibble, trailing in the low) and the bytes between them, most significant first.
fn encode_xor(values: &[f64]) -> Split {
    let mut out = Split::default();
    let mut prev = 0u64;
    for v in values {
        let x = v.to_bits() ^ prev;
        prev = v.to_bits();
        let (lead, trail) = zero_bytes(x);
        out.lead.put_byte(lead << 4 | trail);
        let be = x.to_be_bytes();
        out.cont.put_bytes(&be[usize::from(lead)..8 - usize::from(trail)]);
    }
    out
}

/// Writes bit fields most significant first into bytes.
#[derive(Debug, Default)]
struct BitWriter {
    acc: u64,
    len: u32,
}

impl BitWriter {
    /// The low `n` (at most 64) bits of `x`.
    fn put(&mut self, out: &mut Encbuf, x: u64, n: u32) {
        for i in (0..n).rev() {
            self.acc = self.acc << 1 | (x >> i & 1);
            self.len += 1;
            if self.len == 8 {
                out.put_byte(self.acc as u8);
                (self.acc, self.len) = (0, 0);
            }
        }
    }

    /// The last partial byte, padded with zero bits.
    fn flush(&mut self, out: &mut Encbuf) {
        if self.len > 0 {
            out.put_byte((self.acc << (8 - self.len)) as u8);
            (self.acc, self.len) = (0, 0);
        }
    }
}

/// One number per sample, split in two streams: the first byte of each (a varint's first byte,
/// or the XOR control byte) in `lead`, the rest in `cont`. Each stream is compressed apart, so
/// the small, frequent first bytes and the near-random later ones get their own tables.
#[derive(Debug, Default)]
struct Split {
    lead: Encbuf,
    cont: Encbuf,
    /// The numbers written (integer modes), for [`Split::planes`].
    nums: Vec<u64>,
}

impl Split {
    /// The numbers as byte planes of the width of the largest: the top byte of each in the
    /// leads, the lower bytes little-endian in the continuations.
    fn planes(&self) -> (u8, Encbuf, Encbuf) {
        let max = self.nums.iter().copied().max().unwrap_or(0);
        let width = (64 - max.leading_zeros()).div_ceil(8).max(1) as usize;
        let (mut lead, mut cont) = (Encbuf::new(), Encbuf::new());
        for &x in &self.nums {
            let le = x.to_le_bytes();
            lead.put_byte(le[width - 1]);
            cont.put_bytes(&le[..width - 1]);
        }
        (width as u8, lead, cont)
    }

    /// The numbers as bit-length classes with `m` mantissa bits: a number below 2^(m+1) is
    /// its own class; a number of b bits has class `(b - m) << m | m bits below its leading
    /// one`, and its b - 1 - m lower bits go to the continuations, one bit stream, most
    /// significant first, the last byte padded with zero bits. The width byte is `CLASSES +
    /// m`.
    fn classes(&self, m: u8) -> (u8, Encbuf, Encbuf) {
        let (mut lead, mut cont) = (Encbuf::new(), Encbuf::new());
        let mut bits = BitWriter::default();
        for &x in &self.nums {
            if x < 2 << m {
                lead.put_byte(x as u8);
                continue;
            }
            let b = 64 - x.leading_zeros();
            let n = b - 1 - u32::from(m);
            let mantissa = (x >> n) as u8 & ((1 << m) - 1);
            lead.put_byte(((b - u32::from(m)) as u8) << m | mantissa);
            bits.put(&mut cont, x, n);
        }
        bits.flush(&mut cont);
        (CLASSES + m, lead, cont)
    }

    /// The class width m (0..=[`MAX_CLASS_BITS`]) whose classes' order-0 entropy plus raw
    /// bits is the smallest, if that estimate is not clearly above the split varints' (the
    /// order-0 entropy of leads and continuations): a chunk is only encoded again as classes
    /// when they may be smaller.
    fn promising_classes(&self) -> Option<u8> {
        let total = self.nums.len() as f64;
        let bits = |counts: &[u32; 256], total: f64| -> f64 {
            let (mut entropy, mut used) = (0.0, 0.0);
            for &c in counts.iter().filter(|&&c| c > 0) {
                entropy += f64::from(c) * (total / f64::from(c)).log2();
                used += 1.0;
            }
            // A table entry costs about half a byte.
            entropy + used * 4.0
        };
        let split = |b: &Encbuf| {
            let mut counts = [0u32; 256];
            for &x in &b.b {
                counts[usize::from(x)] += 1;
            }
            bits(&counts, b.len() as f64)
        };
        let varints = split(&self.lead) + split(&self.cont);
        let cost = |m: u8| {
            let mut counts = [0u32; 256];
            let mut raw = 0f64;
            for &x in &self.nums {
                if x < 2 << m {
                    counts[x as usize] += 1;
                } else {
                    let b = 64 - x.leading_zeros();
                    let n = b - 1 - u32::from(m);
                    let mantissa = (x >> n) as u8 & ((1 << m) - 1);
                    counts[usize::from(((b - u32::from(m)) as u8) << m | mantissa)] += 1;
                    raw += f64::from(n);
                }
            }
            bits(&counts, total) + raw
        };
        let (m, best) =
            (0..=MAX_CLASS_BITS).map(|m| (m, cost(m))).min_by(|a, b| a.1.total_cmp(&b.1))?;
        (best < varints * 1.03).then_some(m)
    }

    fn put_uvarint(&mut self, mut x: u64) {
        self.nums.push(x);
        if x < 0x80 {
            self.lead.put_byte(x as u8);
            return;
        }
        self.lead.put_byte((x as u8) | 0x80);
        x >>= 7;
        self.cont.put_uvarint(x);
    }

    fn put_varint(&mut self, x: i64) {
        self.put_uvarint(zigzag(x));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_and_intervals() {
        assert_eq!(min_scale(3.0), Some(0));
        assert_eq!(min_scale(123.45), Some(2));
        assert_eq!(min_scale(0.1), Some(1));
        assert_eq!(min_scale(-0.0), None);
        assert_eq!(min_scale(f64::NAN), None);
        assert_eq!(min_scale(1e300), None);
        assert_eq!(min_scale(1.0 / 3.0), None);
        // Sixteen significant digits still fit below 2^53.
        assert_eq!(min_scale(std::f64::consts::PI), Some(15));
        let s: Vec<(i64, f64)> =
            [0, 15_000, 30_000, 45_002, 60_000, 105_000].iter().map(|&t| (t, 0.0)).collect();
        assert_eq!(median_interval(&s), 15_000);
        assert_eq!(gcd(4096 * 3, 4096 * 5), 4096);
    }

    /// Numbers of every bit length, coded as classes with each m, come back through the
    /// decoder's reader, which uses the stream up to its last byte.
    #[test]
    fn classes_round_trip_every_bit_length() {
        let mut nums = vec![0u64, 1, 2, 3, 4, 5, 7, 8, u64::MAX, u64::MAX - 1];
        for b in 1..64 {
            nums.extend([(1u64 << b) - 1, 1 << b, (1 << b) + 1, (1 << b) | (1 << (b - 1))]);
        }
        for m in 0..=MAX_CLASS_BITS {
            let split = Split { nums: nums.clone(), ..Split::default() };
            let (width, lead, cont) = split.classes(m);
            assert_eq!(width, CLASSES + m);
            let mut b = lead.b.clone();
            b.extend_from_slice(&cont.b);
            let mut l = super::super::Cursor { pos: 0, end: lead.len() };
            let (mut pos, end) = (lead.len() * 8, b.len() * 8);
            for &x in &nums {
                assert_eq!(super::super::class_number(&b, &mut l, &mut pos, end, m), Some(x));
            }
            assert!(l.done() && end - pos < 8, "m {m}");
        }
    }

    #[test]
    fn plan_prefers_gcd_and_deltas() {
        let v: Vec<f64> = (0..100).map(|i| f64::from((i * 7) % 13) * 4096.0).collect();
        let p = DecimalPlan::best(&v).unwrap();
        assert_eq!((p.scale, p.gcd, p.exceptions), (Some(0), 4096, 0));
        let c: Vec<f64> = (0..100).map(|i| f64::from(i) * 0.25 + 1.0).collect();
        let p = DecimalPlan::best(&c).unwrap();
        // Equal deltas of a counter: one byte each either way, and ties take unsigned deltas.
        assert_eq!((p.scale, p.gcd, p.order), (Some(2), 25, ORDER_UNSIGNED_DELTAS));
        // Noise above a floor: unsigned offsets from the least value.
        let n: Vec<f64> = (0..100).map(|i| f64::from(500 + (i * 7919) % 300) / 1e6).collect();
        let p = DecimalPlan::best(&n).unwrap();
        assert_eq!((p.order, p.base), (ORDER_BASE_OFFSETS, 500));
        // Deltas that grow steadily cost less as deltas of deltas.
        let q: Vec<f64> = (0..100).map(|i| f64::from(i * i) * 1000.0).collect();
        assert_eq!(DecimalPlan::best(&q).unwrap().order, 2);
    }
}
