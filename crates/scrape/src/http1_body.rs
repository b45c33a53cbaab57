//! Reading an HTTP/1.1 response body for the direct scrape client: socket reads into a buffer's
//! spare capacity, the socket's receive low-water mark while a body of known length arrives,
//! and chunked transfer decoding in place in that buffer.

use bytes::BufMut;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// Reads at most `max` bytes from `stream` onto the end of `buf`; 0 at end of stream.
pub(crate) async fn read_more(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<usize> {
    buf.reserve(max);
    let mut limited = buf.limit(max);
    stream.read_buf(&mut limited).await
}

/// The most bytes the receive low-water mark waits for: a longer body wakes the reader
/// before all of it has arrived.
const MAX_LOW_WATER: usize = 1 << 20;

/// The socket's receive low-water mark (`SO_RCVLOWAT`) while the rest of a body of known
/// length is read: the socket is reported readable only once that many bytes have arrived (or
/// the peer closed the connection), so a body that arrives in several segments wakes the
/// scrape once rather than once per segment. Each read lowers the mark to what is still
/// missing, never above it, so the reader cannot wait for bytes that will not come; the mark
/// goes back to 1 before the connection serves the next response, whose length is unknown.
/// A connection whose read fails or times out is dropped with its mark.
#[derive(Debug)]
pub(crate) struct LowWater {
    mark: usize,
}

impl LowWater {
    pub(crate) fn new() -> LowWater {
        LowWater { mark: 1 }
    }

    /// Sets the mark to `want` bytes (at most [`MAX_LOW_WATER`]).
    pub(crate) fn set(&mut self, stream: &TcpStream, want: usize) {
        let want = want.clamp(1, MAX_LOW_WATER);
        if want != self.mark && set_rcvlowat(stream, want) {
            self.mark = want;
        }
    }

    /// Sets the mark back to 1 byte.
    pub(crate) fn reset(&mut self, stream: &TcpStream) {
        if self.mark != 1 {
            set_rcvlowat(stream, 1);
            self.mark = 1;
        }
    }
}

/// Sets `SO_RCVLOWAT` on `stream`; false if the system refused.
fn set_rcvlowat(stream: &TcpStream, bytes: usize) -> bool {
    use std::os::fd::AsRawFd as _;
    let v = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: the descriptor is open for the borrow of `stream`, and the option value is a
    // c_int that lives across the call, with its size passed along.
    let r = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVLOWAT,
            (&raw const v).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    r == 0
}

/// Decodes a chunked body in place: the decoded bytes are moved to the front of the buffer as
/// the raw bytes after them arrive, so the buffer ends up holding only the body.
#[derive(Debug, Default)]
pub(crate) struct Dechunker {
    /// End of the decoded bytes at the buffer's front.
    out: usize,
    /// Start of the raw bytes not yet decoded.
    pos: usize,
    state: State,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a chunk-size line.
    #[default]
    Size,
    /// Inside a chunk's data, this many bytes left.
    Data(usize),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer lines until an empty one.
    Trailer,
    Done,
}

impl Dechunker {
    pub(crate) fn new() -> Dechunker {
        Dechunker::default()
    }

    /// Bytes of body decoded so far.
    pub(crate) fn decoded(&self) -> usize {
        self.out
    }

    /// Bytes of the buffer consumed (decoded or framing).
    pub(crate) fn consumed(&self) -> usize {
        self.pos
    }

    /// Decodes what `buf` holds so far; true once the last chunk and the trailer are through.
    /// Incomplete framing at the end is left for the next call, with more bytes appended.
    pub(crate) fn advance(&mut self, buf: &mut [u8]) -> Result<bool, String> {
        loop {
            match self.state {
                State::Done => return Ok(true),
                State::Data(left) => {
                    let n = left.min(buf.len() - self.pos);
                    if n == 0 {
                        return Ok(false);
                    }
                    if self.out != self.pos {
                        buf.copy_within(self.pos..self.pos + n, self.out);
                    }
                    self.out += n;
                    self.pos += n;
                    self.state = if n == left { State::DataEnd } else { State::Data(left - n) };
                }
                State::DataEnd => {
                    let Some(rest) = buf.get(self.pos..self.pos + 2) else { return Ok(false) };
                    if rest != b"\r\n" {
                        return Err("malformed chunked encoding".to_string());
                    }
                    self.pos += 2;
                    self.state = State::Size;
                }
                State::Size => {
                    let Some(line) = self.line(buf)? else { return Ok(false) };
                    let size = chunk_size(line)?;
                    self.pos += line.len() + 2;
                    self.state = if size == 0 { State::Trailer } else { State::Data(size) };
                }
                State::Trailer => {
                    let Some(line) = self.line(buf)? else { return Ok(false) };
                    let empty = line.is_empty();
                    self.pos += line.len() + 2;
                    if empty {
                        self.state = State::Done;
                    }
                }
            }
        }
    }

    /// The line starting at `pos` without its CRLF, if complete.
    fn line<'a>(&self, buf: &'a [u8]) -> Result<Option<&'a [u8]>, String> {
        let rest = &buf[self.pos..];
        match memchr::memchr(b'\n', rest) {
            Some(i) if i > 0 && rest[i - 1] == b'\r' => Ok(Some(&rest[..i - 1])),
            Some(_) => Err("malformed chunked encoding".to_string()),
            None if rest.len() > 4096 => Err("malformed chunked encoding".to_string()),
            None => Ok(None),
        }
    }
}

/// The size of a chunk-size line (hex digits, then optional extensions after `;`).
fn chunk_size(line: &[u8]) -> Result<usize, String> {
    let hex = line.split(|&b| b == b';').next().unwrap_or(line).trim_ascii();
    if hex.is_empty() || hex.len() > 15 {
        return Err("malformed chunked encoding".to_string());
    }
    let mut n = 0usize;
    for &c in hex {
        let d = (c as char).to_digit(16).ok_or("malformed chunked encoding")?;
        n = n * 16 + d as usize;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `raw` fed in pieces of `step` bytes.
    fn decode(raw: &[u8], step: usize) -> Result<(Vec<u8>, usize), String> {
        let mut buf = Vec::new();
        let mut d = Dechunker::new();
        for piece in raw.chunks(step) {
            buf.extend_from_slice(piece);
            if d.advance(&mut buf)? {
                buf.truncate(d.decoded());
                return Ok((buf, d.consumed()));
            }
        }
        Err("incomplete".to_string())
    }

    #[test]
    fn decodes_chunks_in_any_pieces() {
        let raw = b"5\r\nhello\r\n7;ext=1\r\n, world\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n";
        for step in [1, 2, 3, 7, 100] {
            let (body, used) = decode(raw, step).unwrap();
            assert_eq!(body, b"hello, world0123456789", "step {step}");
            assert_eq!(used, raw.len(), "step {step}");
        }
    }

    #[test]
    fn empty_body_and_errors() {
        assert_eq!(decode(b"0\r\n\r\n", 1).unwrap().0, b"");
        assert!(decode(b"zz\r\nab\r\n0\r\n\r\n", 100).is_err());
        assert!(decode(b"2\r\nabX\r\n0\r\n\r\n", 100).is_err());
        assert!(decode(b"2\nab\r\n0\r\n\r\n", 100).is_err());
        assert_eq!(decode(b"2\r\nab\r\n", 100), Err("incomplete".to_string()));
    }
}
