//! Prometheus' XOR (Gorilla) chunk encoding, bit for bit.
//!
//! A chunk is a 2-byte big-endian sample count followed by a bit stream: the first timestamp as
//! a varint and value as 64 raw bits, the second timestamp as a uvarint delta and an XOR'd
//! value, then delta-of-delta timestamps in 1/14/17/20/64-bit buckets and XOR'd values that reuse
//! the previous leading/trailing zero window when they fit. See `docs/format/chunks.md`.
//! Pharos' own denser encoding for compacted blocks is in [`dense`].

pub mod dense;

/// The encoding byte of XOR chunks in chunk files.
pub const ENCODING_XOR: u8 = 1;

/// Decodes a whole chunk of either encoding Pharos writes (XOR or dense); `None` for an unknown
/// encoding or malformed data.
pub fn decode_any(encoding: u8, data: &[u8]) -> Option<Vec<(i64, f64)>> {
    match encoding {
        ENCODING_XOR => decode_all(data),
        dense::ENCODING_DENSE => dense::decode_all(data),
        _ => None,
    }
}

/// A bit stream writer, most significant bit first.
#[derive(Debug, Clone, Default)]
struct BitWriter {
    stream: Vec<u8>,
    /// Free bits in the last byte.
    count: u8,
}

impl BitWriter {
    fn write_bit(&mut self, bit: bool) {
        if self.count == 0 {
            self.stream.push(0);
            self.count = 8;
        }
        if bit && let Some(last) = self.stream.last_mut() {
            *last |= 1 << (self.count - 1);
        }
        self.count -= 1;
    }

    fn write_byte(&mut self, byte: u8) {
        if self.count == 0 {
            self.stream.push(byte);
            return;
        }
        if let Some(last) = self.stream.last_mut() {
            *last |= byte >> (8 - self.count);
        }
        self.stream.push(byte << self.count);
    }

    fn write_bits(&mut self, u: u64, nbits: u32) {
        let mut n = nbits.min(64);
        while n > 0 {
            if self.count == 0 {
                self.stream.push(0);
                self.count = 8;
            }
            let take = u32::from(self.count).min(n);
            let bits = (u >> (n - take)) & ((1u64 << take) - 1);
            if let Some(last) = self.stream.last_mut() {
                *last |= (bits as u8) << (u32::from(self.count) - take);
            }
            self.count -= take as u8;
            n -= take;
        }
    }
}

/// Appends samples to one XOR chunk.
#[derive(Debug, Clone)]
pub struct XorChunk {
    w: BitWriter,
    num: u16,
    t: i64,
    v: f64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
}

impl Default for XorChunk {
    fn default() -> Self {
        XorChunk::new()
    }
}

fn bit_range(x: i64, nbits: u32) -> bool {
    -((1i64 << (nbits - 1)) - 1) <= x && x <= 1i64 << (nbits - 1)
}

impl XorChunk {
    pub fn new() -> XorChunk {
        XorChunk {
            w: BitWriter { stream: vec![0, 0], count: 0 },
            num: 0,
            t: 0,
            v: 0.0,
            t_delta: 0,
            leading: 0xff,
            trailing: 0,
        }
    }

    pub fn num_samples(&self) -> u16 {
        self.num
    }

    /// The encoded chunk (header included).
    pub fn bytes(&self) -> &[u8] {
        &self.w.stream
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
        let mut dec = Decoder {
            br: BitReader { pos: 16, end },
            total,
            read: 0,
            t: 0,
            v: 0.0,
            t_delta: 0,
            leading: 0,
            trailing: 0,
            window: false,
        };
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
            w: BitWriter { stream: bytes, count: free as u8 },
            num: total,
            t: dec.t,
            v: dec.v,
            t_delta: dec.t_delta,
            leading,
            trailing,
        })
    }

    /// True when the chunk cannot take another sample.
    pub fn is_full(&self) -> bool {
        self.num == u16::MAX
    }

    /// Appends one sample. Timestamps must increase; the caller checks that.
    pub fn append(&mut self, t: i64, v: f64) {
        let mut t_delta = 0u64;
        match self.num {
            0 => {
                let mut b = crate::encoding::Encbuf::new();
                b.put_varint(t);
                for &x in &b.b {
                    self.w.write_byte(x);
                }
                self.w.write_bits(v.to_bits(), 64);
            }
            1 => {
                t_delta = t.wrapping_sub(self.t) as u64;
                let mut b = crate::encoding::Encbuf::new();
                b.put_uvarint(t_delta);
                for &x in &b.b {
                    self.w.write_byte(x);
                }
                self.write_v_delta(v);
            }
            _ => {
                t_delta = t.wrapping_sub(self.t) as u64;
                let dod = t_delta.wrapping_sub(self.t_delta) as i64;
                if dod == 0 {
                    self.w.write_bit(false);
                } else if bit_range(dod, 14) {
                    self.w.write_bits(0b10, 2);
                    self.w.write_bits(dod as u64, 14);
                } else if bit_range(dod, 17) {
                    self.w.write_bits(0b110, 3);
                    self.w.write_bits(dod as u64, 17);
                } else if bit_range(dod, 20) {
                    self.w.write_bits(0b1110, 4);
                    self.w.write_bits(dod as u64, 20);
                } else {
                    self.w.write_bits(0b1111, 4);
                    self.w.write_bits(dod as u64, 64);
                }
                self.write_v_delta(v);
            }
        }
        self.t = t;
        self.v = v;
        self.t_delta = t_delta;
        self.num += 1;
        let n = self.num.to_be_bytes();
        self.w.stream[0] = n[0];
        self.w.stream[1] = n[1];
    }

    fn write_v_delta(&mut self, v: f64) {
        let delta = v.to_bits() ^ self.v.to_bits();
        if delta == 0 {
            self.w.write_bit(false);
            return;
        }
        self.w.write_bit(true);
        let mut leading = delta.leading_zeros() as u8;
        let trailing = delta.trailing_zeros() as u8;
        if leading >= 32 {
            leading = 31;
        }
        if self.leading != 0xff && leading >= self.leading && trailing >= self.trailing {
            self.w.write_bit(false);
            let n = 64 - u32::from(self.leading) - u32::from(self.trailing);
            self.w.write_bits(delta >> self.trailing, n);
            return;
        }
        self.leading = leading;
        self.trailing = trailing;
        self.w.write_bit(true);
        self.w.write_bits(u64::from(leading), 5);
        let sigbits = 64 - u32::from(leading) - u32::from(trailing);
        self.w.write_bits(u64::from(sigbits), 6);
        self.w.write_bits(delta >> trailing, sigbits);
    }
}

/// A bit stream reader, most significant bit first. Reads go through a 64-bit big-endian window
/// loaded at the current position, so a field of up to 57 bits costs one load and two shifts;
/// bits past the end read as zero and every read checks that it ends within the stream.
#[derive(Debug, Clone)]
struct BitReader {
    /// Position in bits from the start of the slice.
    pos: usize,
    end: usize,
}

impl BitReader {
    /// The 64 bits from `pos` on, left-aligned; at least 57 are real (zero past the end).
    #[inline(always)]
    fn peek(&self, b: &[u8]) -> u64 {
        let byte = self.pos >> 3;
        let w = match b.get(byte..byte + 8) {
            Some(s) => {
                let mut a = [0u8; 8];
                a.copy_from_slice(s);
                u64::from_be_bytes(a)
            }
            None => {
                let mut a = [0u8; 8];
                let tail = b.get(byte..).unwrap_or(&[]);
                a[..tail.len()].copy_from_slice(tail);
                u64::from_be_bytes(a)
            }
        };
        w << (self.pos & 7)
    }

    /// Consumes `n` bits if the stream holds them.
    #[inline(always)]
    fn consume(&mut self, n: usize) -> Option<()> {
        if self.pos + n > self.end {
            return None;
        }
        self.pos += n;
        Some(())
    }

    #[inline(always)]
    fn read_bits(&mut self, b: &[u8], n: u32) -> Option<u64> {
        if n == 0 {
            return self.consume(0).map(|()| 0);
        }
        if n > 57 {
            return self.read_wide(b, n);
        }
        let v = self.peek(b) >> (64 - n);
        self.consume(n as usize)?;
        Some(v)
    }

    /// A field of 58 to 64 bits, in two reads.
    #[cold]
    #[inline(never)]
    fn read_wide(&mut self, b: &[u8], n: u32) -> Option<u64> {
        let hi = self.read_bits(b, n - 32)?;
        let lo = self.read_bits(b, 32)?;
        Some((hi << 32) | lo)
    }

    fn read_uvarint(&mut self, b: &[u8]) -> Option<u64> {
        let mut x = 0u64;
        let mut s = 0u32;
        for i in 0..10 {
            let byte = self.read_bits(b, 8)? as u8;
            if byte < 0x80 {
                if i == 9 && byte > 1 {
                    return None;
                }
                return Some(x | (u64::from(byte) << s));
            }
            x |= u64::from(byte & 0x7f) << s;
            s += 7;
        }
        None
    }
}

/// The decoding state of an XOR chunk, apart from the bytes it reads.
#[derive(Debug, Clone)]
struct Decoder {
    br: BitReader,
    total: u16,
    read: u16,
    t: i64,
    v: f64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
    /// True once a value has set the leading/trailing window (a `11` control).
    window: bool,
}

impl Decoder {
    /// Decodes the next sample from `b`; `None` on malformed or truncated data.
    #[inline(always)]
    fn step(&mut self, b: &[u8]) -> Option<(i64, f64)> {
        if self.read >= 2 {
            self.read_dod(b)?;
        } else if self.read == 0 {
            let u = self.br.read_uvarint(b)?;
            self.t = ((u >> 1) as i64) ^ -((u & 1) as i64);
            self.v = f64::from_bits(self.br.read_bits(b, 64)?);
            self.read = 1;
            return Some((self.t, self.v));
        } else {
            self.t_delta = self.br.read_uvarint(b)?;
            self.t = self.t.wrapping_add(self.t_delta as i64);
        }
        self.read_value(b)?;
        self.read += 1;
        Some((self.t, self.v))
    }

    /// A delta-of-delta timestamp: prefix `0`, `10`, `110`, `1110` or `1111`, then 0, 14, 17, 20
    /// or 64 bits.
    #[inline(always)]
    fn read_dod(&mut self, b: &[u8]) -> Option<()> {
        let w = self.br.peek(b);
        let ones = w.leading_ones();
        let dod = match ones {
            0 => {
                self.br.consume(1)?;
                0
            }
            1..=3 => {
                let sz = match ones {
                    1 => 14,
                    2 => 17,
                    _ => 20,
                };
                let prefix = ones + 1;
                let mut bits = (w << prefix) >> (64 - sz);
                self.br.consume((prefix + sz) as usize)?;
                if bits > (1 << (sz - 1)) {
                    bits = bits.wrapping_sub(1 << sz);
                }
                bits as i64
            }
            _ => {
                self.br.consume(4)?;
                self.br.read_bits(b, 64)? as i64
            }
        };
        self.t_delta = (self.t_delta as i64).wrapping_add(dod) as u64;
        self.t = self.t.wrapping_add(self.t_delta as i64);
        Some(())
    }

    /// An XOR'd value: `0` (unchanged), `10` + bits in the previous window, or `11` + 5 bits of
    /// leading zeros + 6 bits of significant bits (0 meaning 64) + the bits.
    #[inline(always)]
    fn read_value(&mut self, b: &[u8]) -> Option<()> {
        let w = self.br.peek(b);
        if w >> 63 == 0 {
            return self.br.consume(1);
        }
        let mbits;
        if (w >> 62) & 1 == 0 {
            self.br.consume(2)?;
            mbits = 64 - u32::from(self.leading) - u32::from(self.trailing);
        } else {
            self.br.consume(13)?;
            let leading = ((w >> 57) & 0x1f) as u8;
            let mut m = ((w >> 51) & 0x3f) as u32;
            if m == 0 {
                m = 64;
            }
            if u32::from(leading) + m > 64 {
                return None;
            }
            self.leading = leading;
            self.trailing = (64 - u32::from(leading) - m) as u8;
            self.window = true;
            mbits = m;
        }
        let bits = self.br.read_bits(b, mbits)?;
        let shifted = if self.trailing >= 64 { 0 } else { bits << self.trailing };
        self.v = f64::from_bits(self.v.to_bits() ^ shifted);
        Some(())
    }
}

/// Decodes an XOR chunk held in `B`.
#[derive(Debug, Clone)]
pub struct XorIterator<B> {
    data: B,
    dec: Decoder,
    corrupt: bool,
}

impl<B: AsRef<[u8]>> XorIterator<B> {
    /// Starts decoding `data` (a whole chunk, header included).
    pub fn new(data: B) -> XorIterator<B> {
        let b = data.as_ref();
        let (total, corrupt) = match b {
            [h0, h1, ..] => (u16::from_be_bytes([*h0, *h1]), false),
            _ => (0, !b.is_empty()),
        };
        let end = b.len() * 8;
        XorIterator {
            data,
            dec: Decoder {
                br: BitReader { pos: 16.min(end), end },
                total,
                read: 0,
                t: 0,
                v: 0.0,
                t_delta: 0,
                leading: 0,
                trailing: 0,
                window: false,
            },
            corrupt,
        }
    }

    /// True if decoding stopped because the data ended early or was malformed.
    pub fn is_corrupt(&self) -> bool {
        self.corrupt
    }

    /// The number of samples the header announces.
    pub fn num_samples(&self) -> u16 {
        self.dec.total
    }

    /// The next sample, or `None` at the end or on malformed data (see [`Self::is_corrupt`]).
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Option<(i64, f64)> {
        if self.corrupt || self.dec.read >= self.dec.total {
            return None;
        }
        let r = self.dec.step(self.data.as_ref());
        if r.is_none() {
            self.corrupt = true;
        }
        r
    }

    /// Decodes samples in one loop, handing each to `f` until `f` returns false or the chunk
    /// ends (check [`Self::is_corrupt`] afterwards). The sample `f` refuses is consumed.
    #[inline]
    pub fn decode_while(&mut self, mut f: impl FnMut(i64, f64) -> bool) {
        if self.corrupt {
            return;
        }
        let b = self.data.as_ref();
        // A local copy lets the decoder state live in registers across the loop.
        let mut dec = self.dec.clone();
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
        self.dec = dec;
    }
}

/// Decodes a whole chunk into samples; `None` if it is malformed.
pub fn decode_all(data: &[u8]) -> Option<Vec<(i64, f64)>> {
    let mut it = XorIterator::new(data);
    let mut out = Vec::with_capacity(usize::from(it.num_samples()));
    while let Some(s) = it.next() {
        out.push(s);
    }
    (!it.is_corrupt()).then_some(out)
}

/// Encodes samples into chunks of at most `per_chunk` samples: (mint, maxt, bytes) each.
pub fn encode_chunks(samples: &[(i64, f64)], per_chunk: usize) -> Vec<(i64, i64, Vec<u8>)> {
    samples
        .chunks(per_chunk.max(1))
        .filter_map(|part| {
            let first = part.first()?;
            let last = part.last()?;
            let mut c = XorChunk::new();
            for &(t, v) in part {
                c.append(t, v);
            }
            Some((first.0, last.0, c.bytes().to_vec()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_with_every_bucket_and_special_values() {
        let ts = [
            -5i64,
            1000,
            2000,
            3000,
            3001,
            10_000,
            80_000,
            600_000,
            10_000_000,
            10_000_015,
            10_000_030,
            1_700_000_000_000,
            1_700_000_000_001,
        ];
        let vs = [
            0.0,
            1.0,
            1.0,
            f64::NAN,
            model::value::stale_nan(),
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            1e300,
            123.456,
            123.457,
            f64::MIN_POSITIVE,
            42.0,
        ];
        let mut c = XorChunk::new();
        for (t, v) in ts.iter().zip(vs) {
            c.append(*t, v);
        }
        let got = decode_all(c.bytes()).unwrap();
        assert_eq!(got.len(), ts.len());
        for ((t, v), (gt, gv)) in ts.iter().zip(vs).zip(got) {
            assert_eq!(*t, gt);
            assert_eq!(v.to_bits(), gv.to_bits());
        }
    }

    #[test]
    fn matches_prometheus_bytes() {
        // Produced by Prometheus' chunkenc.XORChunk for (1000,1) (2000,1) (3000,2) (4500,2.5).
        let mut c = XorChunk::new();
        for (t, v) in [(1000, 1.0), (2000, 1.0), (3000, 2.0), (4500, 2.5)] {
            c.append(t, v);
        }
        let b = c.bytes();
        assert_eq!(&b[..2], &[0, 4]);
        // First timestamp varint(1000) = zigzag 2000 = 0xd0 0x0f; then 1.0 as raw bits.
        assert_eq!(&b[2..4], &[0xd0, 0x0f]);
        assert_eq!(&b[4..12], &1.0f64.to_bits().to_be_bytes());
        // Second: uvarint(1000) = 0xe8 0x07, then a single 0 bit (value unchanged).
        assert_eq!(&b[12..14], &[0xe8, 0x07]);
        assert_eq!(b[14] & 0x80, 0);
    }

    #[test]
    fn truncated_chunk_reports_corruption() {
        let mut c = XorChunk::new();
        for i in 0..50 {
            c.append(i * 15_000, i as f64 * 1.5);
        }
        let b = c.bytes();
        let mut it = XorIterator::new(&b[..b.len() / 2]);
        while it.next().is_some() {}
        assert!(it.is_corrupt());
        assert!(decode_all(&[0xff]).is_none());
    }

    /// splitmix64.
    fn mix(z: &mut u64) -> u64 {
        *z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut x = *z;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }

    /// A series of `n` samples of kind `kind`: timestamps regular, jittered or jumping (every
    /// delta-of-delta bucket), values constant, counters, decimal gauges, random floats, random
    /// bit patterns or special values (NaN, staleness NaN, ±Inf, -0.0).
    fn series(kind: u64, n: usize, seed: u64) -> Vec<(i64, f64)> {
        let mut z = seed;
        let specials = [
            f64::NAN,
            model::value::stale_nan(),
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            1.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            -1.5,
        ];
        let mut t = match kind % 3 {
            0 => 1_700_000_000_000,
            1 => -5_000,
            _ => (mix(&mut z) >> 20) as i64,
        };
        let mut v = (mix(&mut z) % 1000) as f64;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push((t, v));
            let r = mix(&mut z);
            t += match (kind / 3) % 4 {
                0 => 15_000,
                1 => 15_000 + (r % 41) as i64 - 20,
                2 => 1 + (r % 2_000_000) as i64,
                _ => [1, 15_000, 1 << 13, 1 << 16, 1 << 19, 1 << 40, 3][(r % 7) as usize],
            };
            v = match (kind / 12) % 7 {
                0 => v,
                1 => v + (r >> 32) as f64 % 5.0,
                2 => ((v * 100.0).round() + ((r >> 8) % 201) as f64 - 100.0) / 100.0,
                3 => f64::from_bits(r >> 2) * (r % 3) as f64,
                4 => f64::from_bits(r),
                5 => specials[((r >> 8) % specials.len() as u64) as usize],
                _ => {
                    if r.is_multiple_of(3) {
                        specials[((r >> 8) % 10) as usize]
                    } else {
                        v + 1.0
                    }
                }
            };
        }
        out
    }

    fn encode(samples: &[(i64, f64)]) -> XorChunk {
        let mut c = XorChunk::new();
        for &(t, v) in samples {
            c.append(t, v);
        }
        c
    }

    #[test]
    fn resumed_chunk_appends_the_same_bytes_as_one_built_from_scratch() {
        let mut z = 7u64;
        let mut boundaries = 0;
        for kind in 0..84 {
            for n in [1usize, 2, 3, 120, 1 + (mix(&mut z) % 130) as usize] {
                let s = series(kind, n, mix(&mut z));
                let full = encode(&s);
                for k in 0..=n {
                    let prefix = encode(&s[..k]);
                    if prefix.w.count == 0 {
                        boundaries += 1;
                    }
                    let mut r = XorChunk::resume(prefix.bytes().to_vec()).unwrap();
                    assert_eq!(r.num_samples() as usize, k);
                    for &(t, v) in &s[k..] {
                        r.append(t, v);
                    }
                    assert_eq!(r.bytes(), full.bytes(), "kind {kind} n {n} resumed at {k}");
                }
            }
        }
        assert!(boundaries > 100, "only {boundaries} prefixes ended on a byte boundary");
    }

    #[test]
    fn resume_rejects_what_is_not_a_whole_chunk() {
        assert!(XorChunk::resume(vec![]).is_none());
        assert!(XorChunk::resume(vec![0]).is_none());
        assert!(XorChunk::resume(vec![0, 0, 0]).is_none());
        assert_eq!(XorChunk::resume(vec![0, 0]).unwrap().num_samples(), 0);
        let mut z = 3u64;
        for kind in 0..84 {
            let s = series(kind, 1 + (mix(&mut z) % 130) as usize, mix(&mut z));
            let c = encode(&s);
            let b = c.bytes();
            for cut in 0..b.len() {
                assert!(XorChunk::resume(b[..cut].to_vec()).is_none(), "kind {kind} cut {cut}");
            }
            let mut longer = b.to_vec();
            longer.push(0);
            assert!(XorChunk::resume(longer).is_none());
            if c.w.count > 0 {
                let mut dirty = b.to_vec();
                if let Some(last) = dirty.last_mut() {
                    *last |= 1;
                }
                assert!(XorChunk::resume(dirty).is_none());
            }
        }
    }
}
