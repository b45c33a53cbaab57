//! Gzip bodies for the direct scrape client, decompressed as their bytes arrive: the compressed
//! bytes are handed on a socket read at a time and never held whole, and the decoded body
//! stops at the body size limit, as Prometheus' gzip reader behind an `io.LimitReader` does
//! (a decoded body of exactly the limit fails too).

use std::io::Write as _;

use flate2::write::MultiGzDecoder;

/// Why a gzip body was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum GzError {
    /// The decoded body reached the size limit.
    Limit,
    /// The compressed stream is damaged or incomplete.
    Corrupt(String),
}

/// A gzip body (any number of members, as Go's gzip reader takes) being decompressed into a
/// body buffer.
pub(crate) struct Gunzip {
    dec: MultiGzDecoder<Capped>,
}

/// The decoded body, refusing the bytes that would take it to the limit.
struct Capped {
    body: Vec<u8>,
    /// Decoded bytes at which the body fails (0: none).
    limit: u64,
    /// Set once the limit is reached or the body taken: every later write is refused.
    refused: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let within = self.limit == 0 || ((self.body.len() + buf.len()) as u64) < self.limit;
        if self.refused || !within {
            self.refused = true;
            return Err(std::io::Error::other("body size limit exceeded"));
        }
        self.body.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Gunzip {
    /// Decompresses into `body` (emptied, its capacity kept), failing at `limit` (0: none)
    /// decoded bytes.
    pub(crate) fn new(mut body: Vec<u8>, limit: u64) -> Gunzip {
        body.clear();
        Gunzip { dec: MultiGzDecoder::new(Capped { body, limit, refused: false }) }
    }

    /// Decompresses the next compressed bytes, all of their output included (the decoder
    /// would otherwise keep the last of it until the next bytes come, which may be never).
    pub(crate) fn feed(&mut self, gz: &[u8]) -> Result<(), GzError> {
        let r = self.dec.write_all(gz).and_then(|()| self.dec.flush());
        r.map_err(|e| self.error(e))
    }

    /// Checks that the compressed stream ended with a whole member.
    pub(crate) fn finish(&mut self) -> Result<(), GzError> {
        self.dec.try_finish().map_err(|e| self.error(e))
    }

    /// The decoded body (what was decoded before a failure, if any).
    pub(crate) fn into_body(mut self) -> Vec<u8> {
        let out = self.dec.get_mut();
        // Dropping the decoder flushes what it holds: nowhere, now.
        out.refused = true;
        std::mem::take(&mut out.body)
    }

    fn error(&self, e: std::io::Error) -> GzError {
        if self.dec.get_ref().refused { GzError::Limit } else { GzError::Corrupt(e.to_string()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(body: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(body).unwrap();
        e.finish().unwrap()
    }

    /// Decompresses `gz` fed in pieces of `step` bytes.
    fn gunzip(gz: &[u8], step: usize, limit: u64) -> Result<Vec<u8>, GzError> {
        let mut g = Gunzip::new(Vec::new(), limit);
        for piece in gz.chunks(step) {
            g.feed(piece)?;
        }
        g.finish()?;
        Ok(g.into_body())
    }

    /// Text that compresses well but not to nothing.
    fn text(lines: usize) -> Vec<u8> {
        (0..lines).flat_map(|i| format!("m_{i} {}\n", i * 7919 % 1000).into_bytes()).collect()
    }

    #[test]
    fn decodes_members_in_any_pieces() {
        let (a, b) = (text(3000), text(10));
        let mut gz = gzip(&a);
        gz.extend_from_slice(&gzip(&b));
        let want: Vec<u8> = a.iter().chain(&b).copied().collect();
        for step in [1, 2, 9, 4096, 1 << 20] {
            assert_eq!(gunzip(&gz, step, 0), Ok(want.clone()), "step {step}");
        }
    }

    #[test]
    fn the_limit_is_on_decoded_bytes_and_reached_as_they_come() {
        let body = text(3000);
        let gz = gzip(&body);
        let n = body.len() as u64;
        assert_eq!(gunzip(&gz, 100, n + 1), Ok(body.clone()));
        // As Prometheus' io.LimitReader: a body of exactly the limit fails too.
        assert_eq!(gunzip(&gz, 100, n), Err(GzError::Limit));
        // Past the limit after the first bytes: the rest is not needed to know.
        let mut g = Gunzip::new(Vec::new(), 1000);
        let first = gz.len() / 4;
        assert_eq!(g.feed(&gz[..first]), Err(GzError::Limit));
    }

    #[test]
    fn damaged_and_incomplete_streams_fail() {
        let gz = gzip(&text(100));
        let short = &gz[..gz.len() - 3];
        assert!(matches!(gunzip(short, 7, 0), Err(GzError::Corrupt(_))));
        let mut bad = gz.clone();
        let at = bad.len() - 6;
        bad[at] ^= 0xff;
        assert!(matches!(gunzip(&bad, 7, 0), Err(GzError::Corrupt(_))));
        assert!(matches!(gunzip(b"not gzip at all", 7, 0), Err(GzError::Corrupt(_))));
        assert!(matches!(gunzip(b"", 7, 0), Err(GzError::Corrupt(_))));
        let mut trailing = gz.clone();
        trailing.extend_from_slice(b"junk after the member");
        assert!(matches!(gunzip(&trailing, 7, 0), Err(GzError::Corrupt(_))));
    }
}
