//! Byte-level encoding helpers shared by every on-disk format: big-endian integers, Go's
//! varint/uvarint, length-prefixed strings, and a bounds-checked decoder that never panics.

use crate::error::TsdbError;

/// The CRC32 (Castagnoli) every Prometheus format uses.
pub fn crc32(b: &[u8]) -> u32 {
    crc32c::crc32c(b)
}

/// An append-only encoding buffer.
#[derive(Default, Debug, Clone)]
pub struct Encbuf {
    pub b: Vec<u8>,
}

impl Encbuf {
    pub fn new() -> Encbuf {
        Encbuf::default()
    }
    pub fn len(&self) -> usize {
        self.b.len()
    }
    pub fn is_empty(&self) -> bool {
        self.b.is_empty()
    }
    pub fn reset(&mut self) {
        self.b.clear();
    }
    pub fn put_byte(&mut self, x: u8) {
        self.b.push(x);
    }
    pub fn put_be32(&mut self, x: u32) {
        self.b.extend_from_slice(&x.to_be_bytes());
    }
    pub fn put_be64(&mut self, x: u64) {
        self.b.extend_from_slice(&x.to_be_bytes());
    }
    pub fn put_uvarint(&mut self, mut x: u64) {
        while x >= 0x80 {
            self.b.push((x as u8) | 0x80);
            x >>= 7;
        }
        self.b.push(x as u8);
    }
    /// Go's `binary.PutVarint`: zig-zag then uvarint.
    pub fn put_varint(&mut self, x: i64) {
        self.put_uvarint(((x << 1) ^ (x >> 63)) as u64);
    }
    pub fn put_uvarint_str(&mut self, s: &str) {
        self.put_uvarint(s.len() as u64);
        self.b.extend_from_slice(s.as_bytes());
    }
    pub fn put_bytes(&mut self, s: &[u8]) {
        self.b.extend_from_slice(s);
    }
    /// Appends the CRC32 of `self.b[from..]`.
    pub fn put_crc_from(&mut self, from: usize) {
        let c = crc32(&self.b[from..]);
        self.put_be32(c);
    }
}

/// A decoder over a byte slice. The first failure is sticky: later reads return zero values and
/// [`Decbuf::err`] reports what went wrong.
#[derive(Debug, Clone)]
pub struct Decbuf<'a> {
    pub b: &'a [u8],
    failed: Option<&'static str>,
}

impl<'a> Decbuf<'a> {
    pub fn new(b: &'a [u8]) -> Decbuf<'a> {
        Decbuf { b, failed: None }
    }
    pub fn len(&self) -> usize {
        self.b.len()
    }
    pub fn is_empty(&self) -> bool {
        self.b.is_empty()
    }
    fn fail(&mut self, why: &'static str) {
        if self.failed.is_none() {
            self.failed = Some(why);
        }
        self.b = &[];
    }
    /// The first decoding failure, as an error about `what`.
    pub fn err(&self, what: &str) -> Option<TsdbError> {
        self.failed.map(|r| TsdbError::corrupted(what, r))
    }
    pub fn ok(&self) -> bool {
        self.failed.is_none()
    }
    /// Returns `Err` if any read failed.
    pub fn check(&self, what: &str) -> Result<(), TsdbError> {
        match self.err(what) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
    pub fn skip(&mut self, n: usize) {
        if self.b.len() < n {
            self.fail("unexpected end of data");
        } else {
            self.b = &self.b[n..];
        }
    }
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        if self.b.len() < n {
            self.fail("unexpected end of data");
            return &[];
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        h
    }
    pub fn byte(&mut self) -> u8 {
        self.bytes(1).first().copied().unwrap_or(0)
    }
    pub fn be32(&mut self) -> u32 {
        let s = self.bytes(4);
        <[u8; 4]>::try_from(s).map(u32::from_be_bytes).unwrap_or(0)
    }
    pub fn be64(&mut self) -> u64 {
        let s = self.bytes(8);
        <[u8; 8]>::try_from(s).map(u64::from_be_bytes).unwrap_or(0)
    }
    pub fn uvarint(&mut self) -> u64 {
        match read_uvarint(self.b) {
            Some((v, n)) => {
                self.b = &self.b[n..];
                v
            }
            None => {
                self.fail("invalid uvarint");
                0
            }
        }
    }
    pub fn varint(&mut self) -> i64 {
        let u = self.uvarint();
        ((u >> 1) as i64) ^ -((u & 1) as i64)
    }
    pub fn uvarint_bytes(&mut self) -> &'a [u8] {
        let n = self.uvarint();
        if n > self.b.len() as u64 {
            self.fail("string length out of bounds");
            return &[];
        }
        self.bytes(n as usize)
    }
    pub fn uvarint_str(&mut self) -> &'a str {
        let b = self.uvarint_bytes();
        match std::str::from_utf8(b) {
            Ok(s) => s,
            Err(_) => {
                self.fail("invalid utf-8 string");
                ""
            }
        }
    }
}

/// Reads a Go uvarint from the start of `b`: the value and the number of bytes used.
pub fn read_uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut x: u64 = 0;
    let mut s: u32 = 0;
    for (i, &byte) in b.iter().enumerate().take(10) {
        if byte < 0x80 {
            if i == 9 && byte > 1 {
                return None;
            }
            return Some((x | (u64::from(byte) << s), i + 1));
        }
        x |= u64::from(byte & 0x7f) << s;
        s += 7;
    }
    None
}

/// Reads a 4-byte big-endian value at `off`, if in bounds.
pub fn be32_at(b: &[u8], off: usize) -> Option<u32> {
    b.get(off..off.checked_add(4)?)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_roundtrip_like_go() {
        let mut e = Encbuf::new();
        e.put_varint(-1);
        e.put_uvarint(300);
        e.put_varint(i64::MIN);
        e.put_uvarint(u64::MAX);
        assert_eq!(&e.b[..3], &[0x01, 0xac, 0x02]);
        let mut d = Decbuf::new(&e.b);
        assert_eq!(d.varint(), -1);
        assert_eq!(d.uvarint(), 300);
        assert_eq!(d.varint(), i64::MIN);
        assert_eq!(d.uvarint(), u64::MAX);
        assert!(d.ok() && d.is_empty());
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        let mut d = Decbuf::new(&[0x80]);
        assert_eq!(d.uvarint(), 0);
        assert!(d.check("x").is_err());
        let mut d = Decbuf::new(&[1, 2]);
        assert_eq!(d.be32(), 0);
        assert!(!d.ok());
    }
}
