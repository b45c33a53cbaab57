//! The XOR chunk decoder: [`XorIterator`] and the decoding state it shares with
//! [`XorChunk::resume`](super::XorChunk::resume).

use super::bits::BitReader;

/// The decoding state of an XOR chunk, apart from the bytes it reads.
#[derive(Debug, Clone)]
pub(super) struct Decoder {
    pub br: BitReader,
    pub total: u16,
    pub read: u16,
    pub t: i64,
    pub v: f64,
    pub t_delta: u64,
    pub leading: u8,
    pub trailing: u8,
    /// True once a value has set the leading/trailing window (a `11` control).
    pub window: bool,
}

impl Decoder {
    pub fn new(br: BitReader, total: u16) -> Decoder {
        Decoder {
            br,
            total,
            read: 0,
            t: 0,
            v: 0.0,
            t_delta: 0,
            leading: 0,
            trailing: 0,
            window: false,
        }
    }

    /// Decodes the next sample from `b`; `None` on malformed or truncated data.
    #[inline(always)]
    pub fn step(&mut self, b: &[u8]) -> Option<(i64, f64)> {
        if self.read >= 2 {
            let w = self.br.peek(b);
            if self.on_time(w)? {
                self.read += 1;
                return Some((self.t, self.v));
            }
            self.read_dod(b, w)?;
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

    /// The commonest samples from one look at the stream (`w`, the peek at the sample): a
    /// delta-of-delta of 0 followed by an unchanged value, or by a value whose bits fit the
    /// current window and the look. False (nothing consumed) for any other sample.
    #[inline(always)]
    fn on_time(&mut self, w: u64) -> Option<bool> {
        if w >> 62 == 0 {
            self.br.consume(2)?;
        } else if w >> 61 == 0b010 {
            let mbits = 64 - u32::from(self.leading) - u32::from(self.trailing);
            if mbits > 54 {
                return Some(false);
            }
            self.br.consume(3 + mbits as usize)?;
            let bits = (w << 3) >> (64 - mbits);
            self.v = f64::from_bits(self.v.to_bits() ^ (bits << self.trailing));
        } else {
            return Some(false);
        }
        self.t = self.t.wrapping_add(self.t_delta as i64);
        Some(true)
    }

    /// A delta-of-delta timestamp: prefix `0`, `10`, `110`, `1110` or `1111`, then 0, 14, 17, 20
    /// or 64 bits; `w` is the peek at it.
    #[inline(always)]
    fn read_dod(&mut self, b: &[u8], w: u64) -> Option<()> {
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
        let total = match data.as_ref() {
            [h0, h1, ..] => u16::from_be_bytes([*h0, *h1]),
            _ => 0,
        };
        XorIterator::with_total(data, total)
    }

    /// Starts decoding `data`, a whole chunk whose header is not read: it holds `total` samples.
    /// Data too short for a header is corrupt.
    pub fn with_total(data: B, total: u16) -> XorIterator<B> {
        let end = data.as_ref().len() * 8;
        let corrupt = end > 0 && end < 16;
        XorIterator { data, dec: Decoder::new(BitReader { pos: 16.min(end), end }, total), corrupt }
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
