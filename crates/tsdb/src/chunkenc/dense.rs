//! Pharos' dense chunk encoding for compacted blocks (encoding byte [`ENCODING_DENSE`], outside
//! Prometheus' 1-3): timestamps as residuals against a regular grid (or shared with another
//! chunk of the same segment file), values as scaled decimal integers (divided or multiplied
//! back) or bit-pattern integers (offsets, deltas or deltas of deltas, divided by their common
//! factor; as split varints, byte planes or bit-length classes) with exact exceptions, or
//! byte-wise XOR; each section zstd-compressed apart. See
//! `docs/format/dense-chunks.md`. Only compaction writes it; `pharos tsdb export` turns it back
//! into XOR.

mod encode;

use std::cell::RefCell;

pub use encode::DenseEncoder;

/// The encoding byte of dense chunks in chunk files.
pub const ENCODING_DENSE: u8 = 0x50;
/// The format version the encoder writes, the first byte of the chunk data. Version 1 chunks
/// (per-section lengths and compression bytes, zstd frames with their magic number, no value
/// order 0 and no bits mode) and version 2 chunks (no bit-length classes, no offsets from the
/// least value) are still read.
pub const FORMAT_VERSION: u8 = 3;
const VERSION_1: u8 = 1;
const VERSION_2: u8 = 2;
/// Every zstd frame starts with these four bytes; version 2 leaves them out.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Largest decimal scale: values are integers divided by at most 10^15.
pub const MAX_SCALE: u8 = 15;
/// Largest body a chunk may announce (a guard against corrupt lengths).
pub const MAX_BODY: u64 = 64 << 20;

const COMPRESSION_NONE: u8 = 0;
const COMPRESSION_ZSTD: u8 = 1;
const COMPRESSION_RUN: u8 = 2;
/// Version 2: the section is empty (no length follows).
const COMPRESSION_EMPTY: u8 = 3;
const TS_VARINTS: u8 = 0;
const TS_NIBBLES: u8 = 1;
const TS_SPARSE: u8 = 2;
/// Version 2: the timestamps are those of another dense chunk of the same segment file (its
/// offset in section 1), which holds the same number of samples at the same times.
const TS_SHARED: u8 = 3;
/// The nibble code that sends a residual to the escape area.
const NIBBLE_ESCAPE: u8 = 15;
const MODE_DECIMAL: u8 = 0;
/// Decimal values coded as unsigned deltas (orders 1 and 2 are zig-zag deltas and deltas of
/// deltas).
const ORDER_UNSIGNED_DELTAS: u8 = 3;
/// Version 2: each integer as its offset from the first (noise around a level).
const ORDER_OFFSETS: u8 = 0;
/// Version 3: each integer as its unsigned offset from a base in the header, the least
/// integer of the chunk (noise above a floor, such as durations).
const ORDER_BASE_OFFSETS: u8 = 4;
/// Version 3: the width byte of a chunk whose numbers are bit-length classes with m mantissa
/// bits (`CLASSES + m`, m in 0..=2): the class in the leads, the bits below in the
/// continuations as one bit stream.
const CLASSES: u8 = 16;
const MAX_CLASS_BITS: u8 = 2;
const MODE_XOR: u8 = 1;
/// Version 2: values as the integers of their IEEE-754 bit patterns, coded like decimals.
const MODE_BITS: u8 = 2;
/// Version 3: values as scaled decimals multiplied back (`x * 10^-k`) instead of divided.
const MODE_PRODUCT: u8 = 3;
/// 10^-k for k up to 15: the doubles nearest, as the literals `1e-k` give them.
const NEG_POW10: [f64; 16] = [
    1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13, 1e-14,
    1e-15,
];

thread_local! {
    static DCTX: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
    /// A version 2 frame with its magic number put back.
    static FRAME: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Decompresses one zstd frame stored without its magic number into `out`.
fn decompress_magicless_into(src: &[u8], out: &mut [u8]) -> Option<()> {
    FRAME.with(|f| {
        let mut f = f.borrow_mut();
        f.clear();
        f.extend_from_slice(&ZSTD_MAGIC);
        f.extend_from_slice(src);
        decompress_into(&f, out)
    })
}

/// Decompresses one zstd frame into `out`, which it must fill exactly.
fn decompress_into(src: &[u8], out: &mut [u8]) -> Option<()> {
    DCTX.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = zstd::bulk::Decompressor::new().ok();
        }
        let n = c.as_mut()?.decompress_to_buffer(src, out).ok()?;
        (n == out.len()).then_some(())
    })
}

/// A cursor over one section of the body.
#[derive(Debug, Clone, Copy, Default)]
struct Cursor {
    pos: usize,
    end: usize,
}

impl Cursor {
    #[inline(always)]
    fn uvarint(&mut self, b: &[u8]) -> Option<u64> {
        let byte = *b.get(self.pos).filter(|_| self.pos < self.end)?;
        if byte < 0x80 {
            self.pos += 1;
            return Some(u64::from(byte));
        }
        let (x, n) = crate::encoding::read_uvarint(b.get(self.pos..self.end)?)?;
        self.pos += n;
        Some(x)
    }

    #[inline(always)]
    fn varint(&mut self, b: &[u8]) -> Option<i64> {
        let u = self.uvarint(b)?;
        Some(unzigzag(u))
    }

    #[inline(always)]
    fn byte(&mut self, b: &[u8]) -> Option<u8> {
        let x = *b.get(self.pos).filter(|_| self.pos < self.end)?;
        self.pos += 1;
        Some(x)
    }

    #[inline(always)]
    fn take(&mut self, n: usize) -> Option<std::ops::Range<usize>> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.end)?;
        let r = self.pos..end;
        self.pos = end;
        Some(r)
    }

    fn done(&self) -> bool {
        self.pos == self.end
    }
}

fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// A uvarint whose first byte is in `lead` and the rest in `cont`.
#[inline(always)]
fn split_uvarint(b: &[u8], lead: &mut Cursor, cont: &mut Cursor) -> Option<u64> {
    let b0 = lead.byte(b)?;
    if b0 < 0x80 {
        return Some(u64::from(b0));
    }
    let rest = cont.uvarint(b)?;
    // The first byte holds 7 bits: at most 57 may follow.
    if rest >> 57 != 0 {
        return None;
    }
    Some(u64::from(b0 & 0x7f) | rest << 7)
}

/// A number of `width` bytes: its top byte from `lead`, the lower ones (little-endian) from
/// `cont`.
#[inline(always)]
fn plane_number(b: &[u8], lead: &mut Cursor, cont: &mut Cursor, width: u8) -> Option<u64> {
    let top = u64::from(lead.byte(b)?);
    let low_len = usize::from(width - 1);
    let r = cont.take(low_len)?;
    let mut le = [0u8; 8];
    le.get_mut(..low_len)?.copy_from_slice(b.get(r)?);
    Some(top << (8 * low_len) | u64::from_le_bytes(le))
}

/// A number coded as a bit-length class with `m` mantissa bits: the class from `lead`, the
/// bits below the class's top bits from the bit stream at bit `pos` (ending at bit `end` of
/// `b`), most significant first.
#[inline(always)]
fn class_number(b: &[u8], lead: &mut Cursor, pos: &mut usize, end: usize, m: u8) -> Option<u64> {
    let c = lead.byte(b)?;
    if c < 2 << m {
        return Some(u64::from(c));
    }
    // The number has bl bits: a leading one, m mantissa bits from the class, and bl-1-m
    // bits from the stream.
    let bl = u32::from(c >> m) + u32::from(m);
    if bl > 64 {
        return None;
    }
    let top = u64::from((1 << m) | (c & ((1 << m) - 1)));
    let n = bl - 1 - u32::from(m);
    Some(top << n | read_bits(b, pos, end, n)?)
}

/// The next `n` (at most 64) bits of the stream at bit `pos` of `b`, most significant
/// first; the stream ends at bit `end`.
#[inline(always)]
fn read_bits(b: &[u8], pos: &mut usize, end: usize, n: u32) -> Option<u64> {
    if n == 0 {
        return Some(0);
    }
    let next = pos.checked_add(n as usize).filter(|&e| e <= end)?;
    let (byte, sh) = (*pos >> 3, (*pos & 7) as u32);
    let x = match b.get(byte..byte + 8) {
        Some(w) if sh + n <= 64 => {
            let w = u64::from_be_bytes(w.try_into().ok()?);
            (w << sh) >> (64 - n)
        }
        _ => {
            // Near the end of the body, or more than 64 bits to look at: byte by byte.
            let mut acc = 0u128;
            let last = (next - 1) >> 3;
            for &x in b.get(byte..=last)? {
                acc = acc << 8 | u128::from(x);
            }
            let spare = (last + 1) * 8 - next;
            ((acc >> spare) & ((1u128 << n) - 1)) as u64
        }
    };
    *pos = next;
    Some(x)
}

/// Where the timestamp residuals are read from.
#[derive(Debug, Clone, Copy)]
enum Residuals {
    /// Zig-zag varints.
    Varints(Cursor),
    /// Nibbles from `start` (the i-th residual in byte i/2), escapes as varints in `esc`.
    Nibbles { start: usize, esc: Cursor },
    /// Only the residuals that are not zero: (index gap, varint) pairs in `c`; `next` is the
    /// index (from 0) of the next one, holding `val`, or `u64::MAX` when none is left.
    Sparse { c: Cursor, next: u64, val: i64 },
}

impl Residuals {
    /// The residuals of `sec` in `mode`; the section holds `count` residuals.
    fn new(b: &[u8], mode: u8, mut sec: Cursor, count: u64) -> Option<Residuals> {
        match mode {
            TS_SPARSE => {
                let mut r = Residuals::Sparse { c: sec, next: u64::MAX, val: 0 };
                if !sec.done() {
                    let Residuals::Sparse { c, next, val } = &mut r else { return None };
                    *next = c.uvarint(b)?;
                    *val = c.varint(b)?;
                }
                Some(r)
            }
            TS_VARINTS if count <= (sec.end - sec.pos) as u64 => Some(Residuals::Varints(sec)),
            TS_NIBBLES => {
                let packed = usize::try_from(count.div_ceil(2)).ok()?;
                let start = sec.pos;
                sec.take(packed)?;
                Some(Residuals::Nibbles { start, esc: sec })
            }
            _ => None,
        }
    }

    /// The residual of sample `i` (from 1).
    #[inline(always)]
    fn get(&mut self, b: &[u8], i: u64) -> Option<i64> {
        let z = match self {
            Residuals::Sparse { c, next, val } => {
                if *next != i - 1 {
                    return Some(0);
                }
                let e = *val;
                if c.done() {
                    *next = u64::MAX;
                } else {
                    let gap = c.uvarint(b)?;
                    *next = next.checked_add(gap).filter(|_| gap > 0)?;
                    *val = c.varint(b)?;
                }
                return Some(e);
            }
            Residuals::Varints(c) => c.uvarint(b)?,
            Residuals::Nibbles { start, esc } => {
                let j = (i - 1) as usize;
                let byte = *b.get(*start + j / 2)?;
                let code = if j.is_multiple_of(2) { byte >> 4 } else { byte & 0xf };
                if code == NIBBLE_ESCAPE { esc.uvarint(b)? } else { u64::from(code) }
            }
        };
        Some(unzigzag(z))
    }

    fn done(&self) -> bool {
        match self {
            Residuals::Varints(c) => c.done(),
            Residuals::Nibbles { esc, .. } => esc.done(),
            Residuals::Sparse { c, next, .. } => c.done() && *next == u64::MAX,
        }
    }
}

/// How values are coded, with the decoder's running state.
#[derive(Debug, Clone, Copy)]
enum Values {
    /// Scaled decimals (`bits` false: the value is `x / p`) or bit patterns (`bits` true: the
    /// value's bits are `x`); `base` is the first integer (order 0 codes offsets from it).
    Decimal {
        p: f64,
        /// The second divisor (version 2 split scales), applied when `split`.
        p2: f64,
        split: bool,
        /// The value is `x * p` (version 3 products), p being 10^-k.
        product: bool,
        gcd: i64,
        order: u8,
        x: i64,
        d: i64,
        base: i64,
        bits: bool,
        /// 0: numbers are split varints; 1-8: byte planes of this width (the top byte in
        /// the leads, the lower bytes little-endian in the continuations); `CLASSES + m`:
        /// bit-length classes with m mantissa bits.
        width: u8,
        exc_left: u64,
        next_exc: u64,
    },
    Xor {
        prev: u64,
    },
}

/// The decoding state apart from the body bytes.
#[derive(Debug, Clone)]
struct Decoder {
    total: u64,
    read: u64,
    ts: Residuals,
    lead: Cursor,
    cont: Cursor,
    /// The bit position in the continuations, when they are a bit stream (classes).
    bit: usize,
    exc: Cursor,
    interval: u64,
    t: i64,
    grid: i64,
    values: Values,
}

impl Decoder {
    /// The decoder of a chunk with header `head` (its `header_len` bytes at the start of
    /// `b`), which is followed by the sections of `lens` bytes (timestamps, value leads, value continuations,
    /// exceptions); `None` if it is malformed.
    fn new(
        b: &[u8],
        head: Header,
        header_len: usize,
        total: u64,
        lens: [usize; 4],
    ) -> Option<Decoder> {
        let (t0, interval, ts_mode, values) = (head.t0, head.interval, head.ts_mode, head.values);
        let ts = Cursor { pos: header_len, end: header_len.checked_add(lens[0])? };
        let lead = Cursor { pos: ts.end, end: ts.end.checked_add(lens[1])? };
        let cont = Cursor { pos: lead.end, end: lead.end.checked_add(lens[2])? };
        // One lead byte per sample (decimal: after the first, whose integer is in the header).
        let leads = match values {
            Values::Decimal { .. } => total.checked_sub(1)?,
            Values::Xor { .. } => total,
        };
        if cont.end > b.len() || total == 0 || leads != lens[1] as u64 {
            return None;
        }
        let ts = Residuals::new(b, ts_mode, ts, total - 1)?;
        let exc = Cursor { pos: cont.end, end: b.len() };
        let bit = cont.pos.checked_mul(8)?;
        cont.end.checked_mul(8)?;
        let mut dec =
            Decoder { total, read: 0, ts, lead, cont, bit, exc, interval, t: t0, grid: t0, values };
        if let Values::Decimal { exc_left, next_exc, .. } = &mut dec.values
            && *exc_left > 0
        {
            *next_exc = dec.exc.uvarint(b)?;
        }
        Some(dec)
    }

    /// Decodes the next sample; `None` on malformed data.
    #[inline(always)]
    fn step(&mut self, b: &[u8]) -> Option<(i64, f64)> {
        let i = self.read;
        if i > 0 {
            let e = self.ts.get(b, i)?;
            let pred = self.grid.wrapping_add(self.interval as i64);
            self.t = pred.wrapping_add(e);
            self.grid = if e.unsigned_abs() <= self.interval / 2 { pred } else { self.t };
        }
        let v = match &mut self.values {
            Values::Decimal {
                p,
                p2,
                split,
                product,
                gcd,
                order,
                x,
                d,
                base,
                bits,
                width,
                exc_left,
                next_exc,
            } => {
                if i > 0 {
                    let u = if *width == 0 {
                        split_uvarint(b, &mut self.lead, &mut self.cont)?
                    } else if *width < CLASSES {
                        plane_number(b, &mut self.lead, &mut self.cont, *width)?
                    } else {
                        let end = self.cont.end * 8;
                        class_number(b, &mut self.lead, &mut self.bit, end, *width - CLASSES)?
                    };
                    let q = if *order >= ORDER_UNSIGNED_DELTAS { u as i64 } else { unzigzag(u) };
                    let step = q.wrapping_mul(*gcd);
                    if *order == ORDER_OFFSETS || *order == ORDER_BASE_OFFSETS {
                        *x = base.wrapping_add(step);
                    } else {
                        *d = if *order == 2 && i >= 2 { d.wrapping_add(step) } else { step };
                        *x = x.wrapping_add(*d);
                    }
                }
                if *exc_left > 0 && *next_exc == i {
                    let r = self.exc.take(8)?;
                    let raw = u64::from_be_bytes(b.get(r)?.try_into().ok()?);
                    *exc_left -= 1;
                    if *exc_left > 0 {
                        let gap = self.exc.uvarint(b)?;
                        *next_exc = next_exc.checked_add(gap).filter(|_| gap > 0)?;
                    }
                    f64::from_bits(raw)
                } else if *bits {
                    f64::from_bits(*x as u64)
                } else if *split {
                    *x as f64 / *p / *p2
                } else if *product {
                    *x as f64 * *p
                } else {
                    *x as f64 / *p
                }
            }
            Values::Xor { prev } => {
                let c = self.lead.byte(b)?;
                let (lead, trail) = (usize::from(c >> 4), usize::from(c & 0xf));
                let n = 8usize.checked_sub(lead + trail)?;
                let r = self.cont.take(n)?;
                let x = match b.get(r.start..r.start + 8) {
                    // Eight bytes from the start, keeping the first n: one load, two shifts.
                    Some(w) if n > 0 => {
                        let w = u64::from_be_bytes(w.try_into().ok()?);
                        (w >> ((8 - n) * 8)) << (trail * 8)
                    }
                    _ => {
                        let mut be = [0u8; 8];
                        be.get_mut(lead..lead + n)?.copy_from_slice(b.get(r)?);
                        u64::from_be_bytes(be)
                    }
                };
                *prev ^= x;
                f64::from_bits(*prev)
            }
        };
        self.read += 1;
        if self.read == self.total && !self.finished(b) {
            return None;
        }
        Some((self.t, v))
    }

    /// After the last sample: every section used up exactly.
    fn finished(&self, b: &[u8]) -> bool {
        let (exc_done, cont_done) = match self.values {
            // A bit stream ends within its last byte, padded with zero bits.
            Values::Decimal { exc_left, width, .. } if width >= CLASSES => {
                let pad = (self.cont.end * 8).wrapping_sub(self.bit);
                let last = self.cont.end.checked_sub(1).and_then(|i| b.get(i));
                let zeros =
                    pad == 0 || pad < 8 && last.is_some_and(|x| x & ((1u8 << pad) - 1) == 0);
                (exc_left == 0, zeros)
            }
            Values::Decimal { exc_left, .. } => (exc_left == 0, self.cont.done()),
            Values::Xor { .. } => (true, self.cont.done()),
        };
        self.ts.done() && self.lead.done() && cont_done && self.exc.done() && exc_done
    }
}

/// Appends one section of `data` at `h` to `body`, decompressed; returns its length.
fn read_section(data: &[u8], h: &mut Cursor, body: &mut Vec<u8>) -> Option<usize> {
    let raw_len = h.uvarint(data)?;
    if raw_len > MAX_BODY || body.len() as u64 + raw_len > MAX_BODY {
        return None;
    }
    let raw_len = usize::try_from(raw_len).ok()?;
    match h.byte(data)? {
        COMPRESSION_NONE => body.extend_from_slice(data.get(h.take(raw_len)?)?),
        COMPRESSION_RUN => {
            let byte = h.byte(data)?;
            body.resize(body.len() + raw_len, byte);
        }
        COMPRESSION_ZSTD => {
            let stored = usize::try_from(h.uvarint(data)?).ok()?;
            let src = data.get(h.take(stored)?)?;
            let at = body.len();
            body.resize(at + raw_len, 0);
            decompress_into(src, &mut body[at..])?;
        }
        _ => return None,
    }
    Some(raw_len)
}

/// Appends one version 2 section of `raw_len` bytes stored with compression `code` at `h`
/// to `body`; returns its length.
fn read_section_v2(
    data: &[u8],
    h: &mut Cursor,
    body: &mut Vec<u8>,
    code: u8,
    raw_len: u64,
) -> Option<usize> {
    if raw_len > MAX_BODY || body.len() as u64 + raw_len > MAX_BODY {
        return None;
    }
    let raw_len = usize::try_from(raw_len).ok()?;
    match code {
        COMPRESSION_EMPTY => {}
        COMPRESSION_NONE => body.extend_from_slice(data.get(h.take(raw_len)?)?),
        COMPRESSION_RUN => {
            let byte = h.byte(data)?;
            body.resize(body.len() + raw_len, byte);
        }
        _ => {
            let stored = usize::try_from(h.uvarint(data)?).ok()?;
            let src = data.get(h.take(stored)?)?;
            let at = body.len();
            body.resize(at + raw_len, 0);
            decompress_magicless_into(src, &mut body[at..])?;
        }
    }
    Some(raw_len)
}

/// The header and the decompressed timestamp section of the chunk at `off` in `segment` (a
/// chunk file: length, encoding byte, data, CRC32C), which must be a dense chunk of version 2
/// with `total` samples and timestamps of its own.
fn owner_times(segment: &[u8], off: u64, total: u64) -> Option<(Header, Vec<u8>)> {
    let b = segment.get(usize::try_from(off).ok()?..)?;
    let (len, n) = crate::encoding::read_uvarint(b)?;
    let end = n.checked_add(1)?.checked_add(usize::try_from(len).ok()?)?;
    let chunk = b.get(n..end)?;
    let crc = u32::from_be_bytes(b.get(end..end.checked_add(4)?)?.try_into().ok()?);
    if crate::encoding::crc32(chunk) != crc {
        return None;
    }
    let (&enc, data) = chunk.split_first()?;
    let mut h = Cursor { pos: 0, end: data.len() };
    let version = h.byte(data)?;
    if enc != ENCODING_DENSE || !(VERSION_2..=FORMAT_VERSION).contains(&version) {
        return None;
    }
    if h.uvarint(data)? != total {
        return None;
    }
    let header_len = usize::try_from(h.uvarint(data)?).ok()?;
    let header = data.get(h.take(header_len)?)?;
    let head = Header::parse(header, version, header_len)?;
    if head.ts_mode == TS_SHARED {
        return None;
    }
    let code = h.byte(data)? & 3;
    let raw = if code == COMPRESSION_EMPTY { 0 } else { h.uvarint(data)? };
    let mut times = Vec::new();
    read_section_v2(data, &mut h, &mut times, code, raw)?;
    Some((head, times))
}

/// A chunk's header: where time starts, its grid, and how values are coded.
#[derive(Debug, Clone, Copy)]
struct Header {
    t0: i64,
    interval: u64,
    ts_mode: u8,
    values: Values,
}

impl Header {
    /// Parses exactly the `header_len` bytes at the start of `b`, laid out as in `version`.
    fn parse(b: &[u8], version: u8, header_len: usize) -> Option<Header> {
        let mut h = Cursor { pos: 0, end: header_len };
        let t0 = h.varint(b)?;
        let interval = h.uvarint(b)?;
        let (ts_mode, mode, mut order, width) = if version == VERSION_1 {
            (h.byte(b)?, h.byte(b)?, 0, 0)
        } else {
            let m = h.byte(b)?;
            // Bit 7: byte planes, whose width follows (version 3: or bit-length classes).
            let classes = CLASSES..=CLASSES + MAX_CLASS_BITS;
            let ok = |w: &u8| (1..=8).contains(w) || (version > VERSION_2 && classes.contains(w));
            let width = if m >> 7 != 0 { h.byte(b).filter(ok)? } else { 0 };
            (m & 3, (m >> 2) & 3, (m >> 4) & 7, width)
        };
        // Version 3, order 4: the base follows the first integer.
        let base_of = |h: &mut Cursor, x: i64, order: u8| match order {
            ORDER_BASE_OFFSETS => h.varint(b),
            _ => Some(x),
        };
        let decimal = |p: f64, p2: f64, g: i64, order: u8, x: i64, base: i64, bits: bool| {
            let (d, split) = (0, p2 > 1.0);
            let next_exc = 0;
            Values::Decimal {
                p,
                p2,
                split,
                product: false,
                gcd: g,
                order,
                x,
                d,
                base,
                bits,
                width,
                exc_left: 0,
                next_exc,
            }
        };
        let gcd = |h: &mut Cursor| i64::try_from(h.uvarint(b)?).ok().filter(|&g| g > 0);
        let values = match mode {
            MODE_DECIMAL | MODE_PRODUCT => {
                // Version 2: the high four bits s > 0 divide by 10^(k-s), then by 10^s.
                let sk = h.byte(b)?;
                let (k, s) = if version == VERSION_1 { (sk, 0) } else { (sk & 15, sk >> 4) };
                // Version 3 products: x * 10^-k, no split.
                let product = mode == MODE_PRODUCT;
                if product && (version <= VERSION_2 || s != 0) {
                    return None;
                }
                let pows = if product { &NEG_POW10 } else { &crate::decimal::POW10 };
                let p = *pows.get(usize::from(k.checked_sub(s)?))?;
                let p2 = *crate::decimal::POW10.get(usize::from(s))?;
                let g = gcd(&mut h)?;
                if version == VERSION_1 {
                    order = h.byte(b).filter(|&o| o != ORDER_OFFSETS)?;
                }
                let exc_left = h.uvarint(b)?;
                let x = h.varint(b)?;
                let mut v = decimal(p, p2, g, order, x, base_of(&mut h, x, order)?, false);
                if let Values::Decimal { exc_left: e, product: pr, .. } = &mut v {
                    (*e, *pr) = (exc_left, product);
                }
                v
            }
            MODE_BITS if version != VERSION_1 => {
                let g = gcd(&mut h)?;
                let x = h.varint(b)?;
                decimal(1.0, 1.0, g, order, x, base_of(&mut h, x, order)?, true)
            }
            MODE_XOR if order == 0 && width == 0 => Values::Xor { prev: 0 },
            _ => return None,
        };
        let most = if version > VERSION_2 { ORDER_BASE_OFFSETS } else { ORDER_UNSIGNED_DELTAS };
        if order > most || !h.done() {
            return None;
        }
        Some(Header { t0, interval, ts_mode, values })
    }
}

/// Decodes a dense chunk (the data after the encoding byte), sample by sample.
#[derive(Debug, Clone)]
pub struct DenseIterator {
    body: Vec<u8>,
    dec: Option<Decoder>,
    total: u64,
    corrupt: bool,
}

impl DenseIterator {
    /// Reads the header and decompresses the body; a malformed chunk gives an iterator that is
    /// corrupt from the start.
    pub fn new(data: &[u8]) -> DenseIterator {
        Self::new_in(data, None)
    }

    /// As [`Self::new`], for a chunk read from a segment file (`segment`, the whole file):
    /// chunks whose timestamps are shared with another chunk of the segment read them there;
    /// without the segment they are corrupt.
    pub fn new_in(data: &[u8], segment: Option<&[u8]>) -> DenseIterator {
        match Self::open_in(data, segment) {
            Some((body, dec)) => {
                DenseIterator { total: dec.total, body, dec: Some(dec), corrupt: false }
            }
            None => DenseIterator { body: Vec::new(), dec: None, total: 0, corrupt: true },
        }
    }

    fn open_in(data: &[u8], segment: Option<&[u8]>) -> Option<(Vec<u8>, Decoder)> {
        let mut h = Cursor { pos: 0, end: data.len() };
        let version = h.byte(data)?;
        if !(VERSION_1..=FORMAT_VERSION).contains(&version) {
            return None;
        }
        let total = h.uvarint(data)?;
        let header_len = usize::try_from(h.uvarint(data)?).ok()?;
        let mut body = data.get(h.take(header_len)?)?.to_vec();
        let mut lens = [0usize; 4];
        let mut head = Header::parse(&body, version, header_len)?;
        if version == VERSION_1 {
            for len in &mut lens {
                *len = read_section(data, &mut h, &mut body)?;
            }
        } else {
            // The value leads' length follows from the count and the value mode.
            let leads = match head.values {
                Values::Xor { .. } => total,
                Values::Decimal { .. } => total.checked_sub(1)?,
            };
            let codes = h.byte(data)?;
            for (i, len) in lens.iter_mut().enumerate() {
                let code = (codes >> (2 * i)) & 3;
                let raw = if code == COMPRESSION_EMPTY {
                    0
                } else if i == 1 {
                    leads
                } else {
                    h.uvarint(data)?
                };
                *len = read_section_v2(data, &mut h, &mut body, code, raw)?;
            }
        }
        if !h.done() {
            return None;
        }
        if version != VERSION_1 && head.ts_mode == TS_SHARED {
            // Section 1 is the other chunk's offset: put its timestamp section in its place.
            let mut c = Cursor { pos: header_len, end: header_len.checked_add(lens[0])? };
            let off = c.uvarint(&body)?;
            if !c.done() {
                return None;
            }
            let (owner, times) = owner_times(segment?, off, total)?;
            (head.t0, head.interval, head.ts_mode) = (owner.t0, owner.interval, owner.ts_mode);
            let rest = body.split_off(c.end);
            body.truncate(header_len);
            body.extend_from_slice(&times);
            body.extend_from_slice(&rest);
            lens[0] = times.len();
        }
        let dec = Decoder::new(&body, head, header_len, total, lens)?;
        Some((body, dec))
    }

    /// True if decoding stopped because the data was malformed.
    pub fn is_corrupt(&self) -> bool {
        self.corrupt
    }

    /// The number of samples the header announces.
    pub fn num_samples(&self) -> u64 {
        self.total
    }

    /// The next sample, or `None` at the end or on malformed data (see [`Self::is_corrupt`]).
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Option<(i64, f64)> {
        let dec = self.dec.as_mut()?;
        if self.corrupt || dec.read >= dec.total {
            return None;
        }
        let r = dec.step(&self.body);
        if r.is_none() {
            self.corrupt = true;
        }
        r
    }

    /// Decodes samples in one loop, handing each to `f` until `f` returns false or the chunk
    /// ends (check [`Self::is_corrupt`] afterwards). The sample `f` refuses is consumed.
    #[inline]
    pub fn decode_while(&mut self, mut f: impl FnMut(i64, f64) -> bool) {
        let Some(dec0) = self.dec.as_mut() else { return };
        if self.corrupt {
            return;
        }
        let b = self.body.as_slice();
        let mut dec = dec0.clone();
        while dec.read < dec.total {
            match dec.step(b) {
                Some((t, v)) => {
                    if !f(t, v) {
                        break;
                    }
                }
                None => {
                    self.corrupt = true;
                    break;
                }
            }
        }
        *dec0 = dec;
    }
}

/// Decodes a whole dense chunk; `None` if it is malformed.
pub fn decode_all(data: &[u8]) -> Option<Vec<(i64, f64)>> {
    decode_all_in(data, None)
}

/// Decodes a whole dense chunk read from `segment` (see [`DenseIterator::new_in`]); `None` if
/// it is malformed.
pub fn decode_all_in(data: &[u8], segment: Option<&[u8]>) -> Option<Vec<(i64, f64)>> {
    let mut it = DenseIterator::new_in(data, segment);
    let mut out = Vec::with_capacity(usize::try_from(it.num_samples()).unwrap_or(0).min(1 << 20));
    while let Some(s) = it.next() {
        out.push(s);
    }
    (!it.is_corrupt()).then_some(out)
}
