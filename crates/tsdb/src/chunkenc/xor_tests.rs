//! Tests of the XOR encoder and decoder: round trips, Prometheus' bytes, bytes equal to a
//! plain bit-at-a-time reference encoder on many series, resuming, corrupt data.

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
            let mut full = encode(&s);
            for k in 0..=n {
                let mut prefix = encode(&s[..k]);
                if prefix.free_bits() == 0 {
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
        let mut c = encode(&s);
        let b = c.bytes().to_vec();
        for cut in 0..b.len() {
            assert!(XorChunk::resume(b[..cut].to_vec()).is_none(), "kind {kind} cut {cut}");
        }
        let mut longer = b.to_vec();
        longer.push(0);
        assert!(XorChunk::resume(longer).is_none());
        if c.free_bits() > 0 {
            let mut dirty = b.to_vec();
            if let Some(last) = dirty.last_mut() {
                *last |= 1;
            }
            assert!(XorChunk::resume(dirty).is_none());
        }
    }
}

#[test]
fn bytes_match_the_reference_encoder() {
    let mut z = 11u64;
    for kind in 0..84 {
        for n in [1usize, 2, 3, 120, 1 + (mix(&mut z) % 300) as usize] {
            let s = series(kind, n, mix(&mut z));
            let mut r = RefChunk::new();
            let mut c = XorChunk::new();
            for (i, &(t, v)) in s.iter().enumerate() {
                r.append(t, v);
                c.append(t, v);
                assert_eq!(c.bytes(), r.bytes(), "kind {kind} n {n} sample {i}");
            }
            let got = decode_all(c.bytes()).unwrap();
            let bits =
                |s: &[(i64, f64)]| s.iter().map(|x| (x.0, x.1.to_bits())).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&s), "kind {kind} n {n}");
            let mut it = XorIterator::new(c.bytes());
            let mut one_by_one = Vec::new();
            while let Some(x) = it.next() {
                one_by_one.push(x);
            }
            assert_eq!(bits(&one_by_one), bits(&s));
        }
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

/// The encoder as first written, one bit field at a time: the reference the fast one must
/// match byte for byte.
#[derive(Debug, Clone)]
pub struct RefChunk {
    w: BitWriter,
    num: u16,
    t: i64,
    v: f64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
}

fn bit_range(x: i64, nbits: u32) -> bool {
    -((1i64 << (nbits - 1)) - 1) <= x && x <= 1i64 << (nbits - 1)
}

impl RefChunk {
    fn new() -> RefChunk {
        RefChunk {
            w: BitWriter { stream: vec![0, 0], count: 0 },
            num: 0,
            t: 0,
            v: 0.0,
            t_delta: 0,
            leading: 0xff,
            trailing: 0,
        }
    }

    /// The encoded chunk (header included).
    fn bytes(&self) -> &[u8] {
        &self.w.stream
    }

    /// Appends one sample. Timestamps must increase; the caller checks that.
    fn append(&mut self, t: i64, v: f64) {
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

#[test]
fn every_dod_bucket_edge_matches_the_reference_encoder() {
    let mut dods = vec![0i64, 1, -1, i64::MAX, i64::MIN, i64::MIN + 1];
    for n in [14u32, 17, 20] {
        let h = 1i64 << (n - 1);
        dods.extend([h - 1, h, h + 1, -(h - 1), -h, -(h + 1)]);
    }
    for &first in &dods {
        for &second in &dods {
            let (mut t, mut delta) = (-3i64, 1000i64);
            let mut r = RefChunk::new();
            let mut c = XorChunk::new();
            for (i, dod) in [0, 0, first, second, 0, first].into_iter().enumerate() {
                if i > 1 {
                    delta = delta.wrapping_add(dod);
                }
                t = t.wrapping_add(if i == 0 { 0 } else { delta });
                r.append(t, i as f64);
                c.append(t, i as f64);
            }
            assert_eq!(c.bytes(), r.bytes(), "dods {first} {second}");
            let got: Vec<i64> = decode_all(c.bytes()).unwrap().iter().map(|s| s.0).collect();
            assert_eq!(got.len(), 6);
        }
    }
}

/// Damaged chunks (bits flipped after the header): decoding stops or goes on without a panic,
/// `next` and `decode_while` agree, and a chunk that resumes takes new samples after the ones
/// it decodes to.
#[test]
fn damaged_chunks_decode_and_resume_without_panics() {
    let mut z = 5u64;
    let mut resumed = 0;
    for kind in 0..84 {
        let s = series(kind, 1 + (mix(&mut z) % 130) as usize, mix(&mut z));
        let mut clean = encode(&s);
        for _ in 0..40 {
            let mut b = clean.bytes().to_vec();
            for _ in 0..1 + mix(&mut z) % 3 {
                let bit = 16 + (mix(&mut z) as usize) % (b.len() * 8 - 16).max(1);
                if let Some(x) = b.get_mut(bit / 8) {
                    *x ^= 0x80 >> (bit % 8);
                }
            }
            let mut one_by_one = Vec::new();
            let mut it = XorIterator::new(b.as_slice());
            while let Some(x) = it.next() {
                one_by_one.push((x.0, x.1.to_bits()));
            }
            let mut together = Vec::new();
            let mut it2 = XorIterator::new(b.as_slice());
            it2.decode_while(|t, v| {
                together.push((t, v.to_bits()));
                true
            });
            assert_eq!(one_by_one, together);
            let corrupt = it.is_corrupt();
            assert_eq!(corrupt, it2.is_corrupt());
            let Some(mut c) = XorChunk::resume(b) else { continue };
            resumed += 1;
            assert!(!corrupt);
            let last = one_by_one.last().map_or(0, |x| x.0);
            let more = [(last.wrapping_add(15_000), 1.5), (last.wrapping_add(30_001), f64::NAN)];
            for (t, v) in more {
                c.append(t, v);
            }
            let got: Vec<(i64, u64)> =
                decode_all(c.bytes()).unwrap().iter().map(|x| (x.0, x.1.to_bits())).collect();
            one_by_one.extend(more.iter().map(|x| (x.0, x.1.to_bits())));
            assert_eq!(got, one_by_one, "kind {kind}");
        }
    }
    assert!(resumed > 100, "only {resumed} damaged chunks resumed");
}

#[test]
fn every_view_of_a_chunk_shows_the_count_appends_left_unwritten() {
    let mut z = 11u64;
    for kind in 0..84 {
        let s = series(kind, 1 + (mix(&mut z) % 130) as usize, mix(&mut z));
        let mut c = XorChunk::new();
        for (k, &(t, v)) in s.iter().enumerate() {
            c.append(t, v);
            let copy = c.to_boxed();
            assert_eq!(u16::from_be_bytes([copy[0], copy[1]]) as usize, k + 1);
            let drain = |mut it: XorIterator<&[u8]>| {
                let mut out = Vec::new();
                while let Some((t, v)) = it.next() {
                    out.push((t, v.to_bits()));
                }
                out
            };
            let decoded = drain(XorIterator::new(&copy[..]));
            let in_place = drain(c.iter());
            let want: Vec<(i64, u64)> = s[..=k].iter().map(|&(t, v)| (t, v.to_bits())).collect();
            assert_eq!(decoded, want, "kind {kind} after {k}");
            assert_eq!(in_place, want, "kind {kind} after {k}");
            let (header, body) = c.header_and_body();
            assert_eq!((&header[..], body), (&copy[..2], &copy[2..]));
            assert_eq!(c.bytes(), &copy[..]);
        }
    }
}
