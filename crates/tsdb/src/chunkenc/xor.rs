//! The XOR chunk encoder: appends samples to a chunk, or resumes appending to encoded bytes.
//!
//! Each sample after the second is one write to the bit stream: its delta-of-delta timestamp
//! code and XOR'd value code are assembled in a register first, 64 bits wide when they fit in
//! 57 (constants and most counters), else 128 (at most 101 bits unless the timestamp needs
//! the 64-bit bucket, which is written apart).

use super::bits::{BitReader, BitTail, MIN_CAPACITY, malloc_sized};
use super::xoriter::Decoder;

/// Appends samples to one XOR chunk.
#[derive(Debug, Clone)]
pub struct XorChunk {
    /// The encoded chunk: the 2-byte sample count, then the bit stream.
    stream: Vec<u8>,
    t: i64,
    v: f64,
    t_delta: u64,
    num: u16,
    /// The leading/trailing zero window of the last value that set one; `leading` is 0xff
    /// before the first (no value has leading zeros ≥ 0xff, so every test against it fails).
    leading: u8,
    trailing: u8,
    tail: BitTail,
    /// Samples after which the owner means to close the chunk ([`XorChunk::at_limit`]); in
    /// what would be padding, so free.
    limit: u16,
}

impl Default for XorChunk {
    fn default() -> Self {
        XorChunk::new()
    }
}

/// The code of a timestamp delta-of-delta that is not 0 and fits one of the 14, 17 and 20-bit
/// buckets: prefix and field as one number, and its width in bits. `None`: the 64-bit bucket.
#[inline(always)]
fn dod_code(dod: i64) -> Option<(u64, u32)> {
    // Bucket `n` holds -(2^(n-1) - 1) ..= 2^(n-1), so dod - 1 is an n-bit signed number:
    // `sig` counts its bits apart from the sign.
    let y = dod.wrapping_sub(1);
    let sig = 64 - (y ^ (y >> 63)).leading_zeros();
    let d = dod as u64;
    if sig <= 13 {
        Some(((0b10 << 14) | (d & 0x3fff), 16))
    } else if sig <= 16 {
        Some(((0b110 << 17) | (d & 0x1_ffff), 20))
    } else if sig <= 19 {
        Some(((0b1110 << 20) | (d & 0xf_ffff), 24))
    } else {
        None
    }
}

/// Bytes of a chunk up to its first sample: the header, a timestamp of today as a varint and
/// the value in full.
const FIRST_SAMPLE_BYTES: usize = 2 + 6 + 8;

/// Room for `samples` more samples at `per` bytes each: a tenth more to spare, and room for one
/// wide store past the end.
fn ahead_bytes(per: f64, samples: u16) -> usize {
    (per * 1.1 * f64::from(samples)).ceil() as usize + 8
}

/// Go's `binary.PutUvarint` as bits, first byte highest: (bits, width).
fn uvarint_bits(mut x: u64) -> (u128, u32) {
    let mut out = 0u128;
    let mut n = 0;
    while x >= 0x80 {
        out = (out << 8) | u128::from((x as u8) | 0x80);
        n += 8;
        x >>= 7;
    }
    ((out << 8) | u128::from(x as u8), n + 8)
}

impl XorChunk {
    pub fn new() -> XorChunk {
        XorChunk::with_capacity(MIN_CAPACITY)
    }

    /// An empty chunk whose buffer holds `cap` bytes (at least the smallest a chunk with a
    /// sample needs) before it grows.
    pub fn with_capacity(cap: usize) -> XorChunk {
        let mut stream = Vec::with_capacity(cap.max(MIN_CAPACITY));
        stream.extend_from_slice(&[0, 0]);
        XorChunk { stream, ..XorChunk::empty() }
    }

    /// An empty chunk in `buf` (its contents dropped): a buffer allocated ahead, e.g. by
    /// another thread, saves the allocation when the chunk is made.
    pub fn in_buffer(mut buf: Vec<u8>) -> XorChunk {
        buf.clear();
        buf.reserve(MIN_CAPACITY);
        buf.extend_from_slice(&[0, 0]);
        XorChunk { stream: buf, ..XorChunk::empty() }
    }

    /// A chunk without samples over an unallocated buffer.
    fn empty() -> XorChunk {
        XorChunk {
            stream: Vec::new(),
            t: 0,
            v: 0.0,
            t_delta: 0,
            num: 0,
            leading: 0xff,
            trailing: 0,
            tail: BitTail::default(),
            limit: u16::MAX,
        }
    }

    pub fn num_samples(&self) -> u16 {
        self.num
    }

    /// The newest sample's time (0 before the first).
    #[inline]
    pub fn last_time(&self) -> i64 {
        self.t
    }

    /// The encoded chunk (header included). Appends leave the header's sample count to be
    /// written here: it sits in the buffer's first cache line, away from the end the samples
    /// go to, and storing it at every append cost a second line of memory traffic per sample
    /// in a head of many series.
    pub fn bytes(&mut self) -> &[u8] {
        self.write_header();
        &self.stream
    }

    /// The encoded chunk for a reader that holds it shared: its header (as [`XorChunk::bytes`]
    /// writes it) and the bytes after the header.
    pub fn header_and_body(&self) -> ([u8; 2], &[u8]) {
        (self.num.to_be_bytes(), self.stream.get(2..).unwrap_or(&[]))
    }

    /// A copy of the encoded chunk, header included.
    pub fn to_boxed(&self) -> Box<[u8]> {
        let (header, body) = self.header_and_body();
        let mut out = Vec::with_capacity(2 + body.len());
        out.extend_from_slice(&header);
        out.extend_from_slice(body);
        out.into_boxed_slice()
    }

    /// Decodes the chunk's samples in place (the header is not read: it may be stale).
    pub fn iter(&self) -> super::XorIterator<&[u8]> {
        super::XorIterator::with_total(&self.stream, self.num)
    }

    /// Length of the encoded chunk in bytes, header included.
    pub fn len(&self) -> usize {
        self.stream.len()
    }

    /// Whether the chunk has no bytes (not even a header: an unallocated chunk).
    pub fn is_empty(&self) -> bool {
        self.stream.is_empty()
    }

    #[inline]
    fn write_header(&mut self) {
        if let Some(h) = self.stream.get_mut(..2) {
            h.copy_from_slice(&self.num.to_be_bytes());
        }
    }

    /// Bytes the buffer holds before it grows.
    pub fn capacity(&self) -> usize {
        self.stream.capacity()
    }

    /// The cache lines the next [`XorChunk::append`] stores to: the buffer's last byte
    /// (rewritten when partly filled) and the last byte a fixed-size store from there covers.
    /// For prefetching only: the pointers may lie past the buffer and must not be
    /// dereferenced.
    #[inline]
    pub fn write_lines(&self) -> [*const u8; 2] {
        let p = self.stream.as_ptr();
        let end = self.stream.len().saturating_sub(1);
        [p.wrapping_add(end), p.wrapping_add(end + 8)]
    }

    /// Resumes appending to an encoded chunk (header included) without re-appending its
    /// samples: one decoding pass recovers the encoder's state, so appending to the result
    /// gives the bytes that appending every sample to a new chunk would. `None` if `bytes` is
    /// not a whole XOR chunk as the encoder leaves it: malformed or truncated data, bytes after
    /// the last sample, or set bits in the padding of the last byte.
    pub fn resume(bytes: Vec<u8>) -> Option<XorChunk> {
        let (total, end) = match bytes.as_slice() {
            [h0, h1, ..] => (u16::from_be_bytes([*h0, *h1]), bytes.len() * 8),
            _ => return None,
        };
        let mut dec = Decoder::new(BitReader { pos: 16, end }, total);
        while dec.read < dec.total {
            dec.step(&bytes)?;
        }
        let free = end - dec.br.pos;
        if free >= 8 {
            return None;
        }
        if free > 0 && bytes.last().is_some_and(|&b| b & ((1u8 << free) - 1) != 0) {
            return None;
        }
        // A new chunk's encoder has no window until its first value with new bits ('11').
        let (leading, trailing) = if dec.window { (dec.leading, dec.trailing) } else { (0xff, 0) };
        Some(XorChunk {
            tail: BitTail::at_end(&bytes, free as u32),
            stream: bytes,
            t: dec.t,
            v: dec.v,
            t_delta: dec.t_delta,
            num: total,
            leading,
            trailing,
            limit: u16::MAX,
        })
    }

    /// Unwritten bits in the last byte.
    #[cfg(test)]
    pub(super) fn free_bits(&self) -> u32 {
        (8 - u32::from(self.tail.used())) % 8
    }

    /// Sizes the buffer for `total` samples in all: the bytes per sample after the first so
    /// far, a tenth more to spare, and room for one wide store past the end. A buffer large
    /// enough already is kept.
    pub fn reserve_for(&mut self, total: u16) {
        let len = self.stream.len();
        let Some(per) = self.bytes_per_sample().filter(|_| total > self.num) else {
            return;
        };
        let cap = malloc_sized(len + ahead_bytes(per, total - self.num));
        if cap > self.stream.capacity() {
            self.stream.reserve_exact(cap - len);
        }
    }

    /// The buffer capacity a chunk started after this one needs for its first `samples`
    /// samples if they code as this one's did, sized as [`XorChunk::reserve_for`] sizes ahead;
    /// [`MIN_CAPACITY`] if this chunk has too few samples to tell.
    pub fn capacity_for_next(&self, samples: u16) -> usize {
        match self.bytes_per_sample() {
            Some(per) if samples > 1 => {
                malloc_sized(FIRST_SAMPLE_BYTES + ahead_bytes(per, samples - 1)).max(MIN_CAPACITY)
            }
            _ => MIN_CAPACITY,
        }
    }

    /// Bytes per sample after the first so far, once there are two.
    fn bytes_per_sample(&self) -> Option<f64> {
        let num = usize::from(self.num);
        (num >= 2)
            .then(|| self.stream.len().saturating_sub(FIRST_SAMPLE_BYTES) as f64 / (num - 1) as f64)
    }

    /// Sets the sample count after which [`XorChunk::at_limit`] holds (`u16::MAX` until set).
    pub fn set_limit(&mut self, limit: u16) {
        self.limit = limit;
    }

    /// The limit set by [`XorChunk::set_limit`].
    pub fn limit(&self) -> u16 {
        self.limit
    }

    /// Whether the chunk holds as many samples as its limit.
    #[inline]
    pub fn at_limit(&self) -> bool {
        self.num >= self.limit
    }

    /// True when the chunk cannot take another sample.
    pub fn is_full(&self) -> bool {
        self.num == u16::MAX
    }

    /// Appends one sample. Timestamps must increase; the caller checks that.
    #[inline]
    pub fn append(&mut self, t: i64, v: f64) {
        if self.num < 2 {
            return self.append_first(t, v);
        }
        let t_delta = t.wrapping_sub(self.t) as u64;
        let dod = t_delta.wrapping_sub(self.t_delta) as i64;
        let delta = v.to_bits() ^ self.v.to_bits();
        if dod | delta as i64 == 0 {
            // The commonest sample of all: on time and unchanged.
            self.tail.write(&mut self.stream, 0, 2);
        } else {
            let (code, cn) = match dod_code(dod) {
                _ if dod == 0 => (0, 1),
                Some(c) => c,
                None => {
                    let big = (0b1111 << 64) | u128::from(dod as u64);
                    self.tail.write_wide(&mut self.stream, big, 68);
                    (0, 0)
                }
            };
            let (vc, vn, payload, pn) = self.value_code(delta);
            let n = cn + vn + pn;
            if n <= 57 {
                self.tail.write(&mut self.stream, (((code << vn) | vc) << pn) | payload, n);
            } else {
                let head = u128::from((code << vn) | vc);
                self.tail.write_wide(&mut self.stream, (head << pn) | u128::from(payload), n);
            }
        }
        self.finish(t, t_delta, v);
    }

    /// The first two samples: the timestamp as a varint, then its delta as a uvarint.
    #[cold]
    #[inline(never)]
    fn append_first(&mut self, t: i64, v: f64) {
        let mut t_delta = 0;
        if self.num == 0 {
            let (b, n) = uvarint_bits(((t << 1) ^ (t >> 63)) as u64);
            self.tail.write_wide(&mut self.stream, b, n);
            self.tail.write_wide(&mut self.stream, u128::from(v.to_bits()), 64);
        } else {
            t_delta = t.wrapping_sub(self.t) as u64;
            let (b, n) = uvarint_bits(t_delta);
            self.tail.write_wide(&mut self.stream, b, n);
            let (vc, vn, payload, pn) = self.value_code(v.to_bits() ^ self.v.to_bits());
            let head = u128::from(vc);
            self.tail.write_wide(&mut self.stream, (head << pn) | u128::from(payload), vn + pn);
        }
        self.finish(t, t_delta, v);
    }

    #[inline(always)]
    fn finish(&mut self, t: i64, t_delta: u64, v: f64) {
        self.t = t;
        self.v = v;
        self.t_delta = t_delta;
        self.num += 1;
    }

    /// The code of a value whose bits XOR the previous value's are `delta`, updating the
    /// window: a control field and a payload, (control, its width, payload, its width). `0` if
    /// unchanged; `10` and the XOR's bits inside the previous window if they fit; else `11`,
    /// 5 bits of leading zeros (at most 31) and 6 of significant bits (64 as 0), and the bits.
    #[inline(always)]
    fn value_code(&mut self, delta: u64) -> (u64, u32, u64, u32) {
        if delta == 0 {
            return (0, 1, 0, 0);
        }
        let leading = delta.leading_zeros().min(31);
        let trailing = delta.trailing_zeros();
        let (lw, tw) = (u32::from(self.leading), u32::from(self.trailing));
        if leading >= lw && trailing >= tw {
            return (0b10, 2, delta >> tw, 64 - lw - tw);
        }
        self.leading = leading as u8;
        self.trailing = trailing as u8;
        let sig = 64 - leading - trailing;
        let control = (0b11 << 11) | u64::from((leading << 6) | (sig & 0x3f));
        (control, 13, delta >> trailing, sig)
    }
}
