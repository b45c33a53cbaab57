//! Bit streams of XOR chunks, most significant bit first: the writer the encoder appends with
//! and the reader the decoder reads with.

/// Where a bit stream's writing stands, kept beside its buffer: the bits already written to the
/// buffer's last, partly filled byte. A write computes every byte it touches from these and the
/// new bits in registers and only stores them, so appending never reads the buffer back (in a
/// head of many series that buffer is rarely in the CPU caches). Two bytes, so it packs with
/// the encoder's other small fields.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct BitTail {
    /// The bits of the last byte that are written, right-aligned; 0 when `used` is 0.
    acc: u8,
    /// How many bits of the buffer's last byte are written (0-7; 0: it ends on a byte).
    used: u8,
}

/// Smallest buffer capacity once a chunk has a sample: the header and a first sample with a
/// millisecond timestamp of today (6-byte varint) fit, in one 32-byte malloc chunk.
pub(super) const MIN_CAPACITY: usize = 24;

impl BitTail {
    /// The tail of `stream` as the writer left it, `free` bits of its last byte unwritten
    /// (those must be zero).
    pub fn at_end(stream: &[u8], free: u32) -> BitTail {
        match (free, stream.last()) {
            (1..=7, Some(&last)) => BitTail { acc: last >> free, used: (8 - free) as u8 },
            _ => BitTail::default(),
        }
    }

    /// How many bits of the last byte are written.
    #[cfg(test)]
    pub fn used(self) -> u8 {
        self.used
    }

    /// Writes the low `n` bits of `bits` to `stream` (1 ≤ `n` ≤ 57; the higher bits of
    /// `bits` must be zero).
    #[inline(always)]
    pub fn write(&mut self, stream: &mut Vec<u8>, bits: u64, n: u32) {
        debug_assert!((1..=57).contains(&n) && bits >> n == 0);
        let total = u32::from(self.used) + n;
        // The partly written byte is rewritten whole: it starts the bytes stored.
        let start = stream.len() - usize::from(self.used > 0);
        let x = (u64::from(self.acc) << n) | bits;
        let rem = total & 7;
        self.acc = (x as u8) & ((1u16 << rem) - 1) as u8;
        self.used = rem as u8;
        let y = x << (64 - total);
        if total <= 8 {
            // Small writes (an unchanged sample is 2 bits) touch one byte: no wide store, so no
            // need for 8 bytes of room, which small chunks' buffers mostly lack.
            let byte = (y >> 56) as u8;
            if start < stream.capacity() {
                stream.truncate(start);
                stream.push(byte);
            } else {
                put_tight(stream, start, &[byte]);
            }
        } else {
            put(stream, start, y.to_be_bytes(), total.div_ceil(8) as usize);
        }
    }

    /// [`Self::write`] for up to 121 bits.
    #[inline(always)]
    pub fn write_wide(&mut self, stream: &mut Vec<u8>, bits: u128, n: u32) {
        debug_assert!((1..=121).contains(&n) && bits >> n == 0);
        let total = u32::from(self.used) + n;
        let start = stream.len() - usize::from(self.used > 0);
        let x = (u128::from(self.acc) << n) | bits;
        let rem = total & 7;
        self.acc = (x as u8) & ((1u16 << rem) - 1) as u8;
        self.used = rem as u8;
        put(stream, start, (x << (128 - total)).to_be_bytes(), total.div_ceil(8) as usize);
    }
}

/// Stores the first `nb` of `bytes` at `stream[start..]`, the stream ending after them: with
/// one fixed-size store when the buffer has room for all of `bytes`, else byte by byte.
#[inline(always)]
fn put<const N: usize>(stream: &mut Vec<u8>, start: usize, bytes: [u8; N], nb: usize) {
    if stream.capacity() - start >= N {
        stream.truncate(start);
        stream.extend_from_slice(&bytes);
        stream.truncate(start + nb);
    } else {
        put_tight(stream, start, bytes.get(..nb).unwrap_or(&bytes));
    }
}

/// [`put`] near the end of the buffer's capacity: grows it if the bytes do not fit.
#[cold]
#[inline(never)]
fn put_tight(stream: &mut Vec<u8>, start: usize, bytes: &[u8]) {
    stream.truncate(start);
    let need = start + bytes.len();
    if need > stream.capacity() {
        stream.reserve_exact(grown_capacity(stream.capacity(), need) - start);
    }
    stream.extend_from_slice(bytes);
}

/// The capacity a full buffer of capacity `cap` grows to when it needs `need` bytes: half as
/// much again (a head holds one open chunk per series, so the slack of doubling would cost
/// resident memory), at least [`MIN_CAPACITY`], [`malloc_sized`].
fn grown_capacity(cap: usize, need: usize) -> usize {
    malloc_sized(need.max(cap + cap / 2).max(MIN_CAPACITY))
}

/// The smallest capacity of at least `n` bytes that is 8 short of a multiple of 16: what
/// glibc's malloc hands out anyway (16-byte granules, 8 bytes of header each).
pub(super) fn malloc_sized(n: usize) -> usize {
    ((n + 8).div_ceil(16) * 16) - 8
}

/// A bit stream reader, most significant bit first. Reads go through a 64-bit big-endian window
/// loaded at the current position, so a field of up to 57 bits costs one load and two shifts;
/// bits past the end read as zero and every read checks that it ends within the stream.
#[derive(Debug, Clone)]
pub(super) struct BitReader {
    /// Position in bits from the start of the slice.
    pub pos: usize,
    pub end: usize,
}

impl BitReader {
    /// The 64 bits from `pos` on, left-aligned; at least 57 are real (zero past the end).
    #[inline(always)]
    pub fn peek(&self, b: &[u8]) -> u64 {
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
    pub fn consume(&mut self, n: usize) -> Option<()> {
        if self.pos + n > self.end {
            return None;
        }
        self.pos += n;
        Some(())
    }

    #[inline(always)]
    pub fn read_bits(&mut self, b: &[u8], n: u32) -> Option<u64> {
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

    pub fn read_uvarint(&mut self, b: &[u8]) -> Option<u64> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_match_a_bit_at_a_time_writer() {
        let mut z = 1u64;
        for round in 0..200 {
            let mut stream = vec![0u8, 0];
            let mut tail = BitTail::default();
            let mut want = vec![0u8, 0];
            let mut nbits = 16usize;
            for _ in 0..round % 40 + 1 {
                z = z.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let n = 1 + (z >> 33) as u32 % 121;
                let bits = (u128::from(z) << 64 | u128::from(z.rotate_left(17))) >> (128 - n);
                if n <= 57 && !z.is_multiple_of(3) {
                    tail.write(&mut stream, bits as u64, n);
                } else {
                    tail.write_wide(&mut stream, bits, n);
                }
                for i in (0..n).rev() {
                    if nbits.is_multiple_of(8) {
                        want.push(0);
                    }
                    if (bits >> i) & 1 == 1 {
                        want[nbits / 8] |= 0x80 >> (nbits % 8);
                    }
                    nbits += 1;
                }
                assert_eq!(stream, want);
                assert!(stream.capacity() >= stream.len());
            }
        }
    }

    #[test]
    fn growth_is_geometric_and_malloc_sized() {
        assert_eq!(grown_capacity(2, 3), 24);
        assert_eq!(grown_capacity(24, 25), 40);
        assert_eq!(grown_capacity(40, 41), 72);
        assert_eq!(grown_capacity(40, 100), 104);
    }
}
