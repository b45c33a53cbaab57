//! Reading an HTTP/1.1 response body for the direct scrape client: socket reads into a buffer's
//! spare capacity, the socket's receive low-water mark while a body of known length arrives,
//! and chunked transfer decoding in place in that buffer, with the framing dropped as it is
//! decoded and held to Go's limits (line length, framing against data).

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
///
/// Before Linux 5.10 the mark is also kept to half the socket's receive buffer (`SO_RCVBUF`),
/// the payload the kernel lets queue before it closes the sender's window (it counts the
/// buffer twice the payload, for bookkeeping). Linux raises the buffer for a larger mark, and
/// wakes the reader when the queue cannot grow further, only since fixes from 4.18 into the 5.x
/// series; before them, a mark beyond what can queue is never reached: the sender stalls on a
/// full window and the reader sleeps until the scrape times out. Later kernels are left to
/// take the whole mark: capped there, a body longer than half the buffer would wake the
/// reader more than once (about 15 % more CPU a scrape in `benches/fetch.rs`, on 6.18).
#[derive(Debug)]
pub(crate) struct LowWater {
    mark: usize,
    /// The most the mark may be (0: not read yet; `usize::MAX`: no cap). The kernel grows the
    /// buffer as the connection gets faster, so it is read again whenever it would lower the
    /// mark.
    cap: usize,
}

impl LowWater {
    pub(crate) fn new() -> LowWater {
        let cap = if marks_kept_reachable() { usize::MAX } else { 0 };
        LowWater { mark: 1, cap }
    }

    /// Sets the mark to `want` bytes (at most [`MAX_LOW_WATER`] and half the receive
    /// buffer).
    pub(crate) fn set(&mut self, stream: &TcpStream, want: usize) {
        let mut want = want.clamp(1, MAX_LOW_WATER);
        if want > self.cap {
            self.cap = rcvbuf(stream).map_or(1, |b| (b / 2).max(1));
            want = want.min(self.cap);
        }
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

/// Whether the kernel keeps any receive low-water mark reachable itself (Linux 5.10 and later,
/// with every `SO_RCVLOWAT` fix), as `/proc/sys/kernel/osrelease` says; read once.
fn marks_kept_reachable() -> bool {
    static FIXED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FIXED.get_or_init(|| {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        linux_version(&release).is_some_and(|v| v >= (5, 10))
    })
}

/// The (major, minor) version at the start of a kernel release string ("6.1.0-13-amd64").
fn linux_version(release: &str) -> Option<(u32, u32)> {
    let mut numbers = release.trim().split(|c: char| !c.is_ascii_digit());
    let major = numbers.next()?.parse().ok()?;
    let minor = numbers.next()?.parse().ok()?;
    Some((major, minor))
}

/// The socket's receive buffer size as `SO_RCVBUF` reports it, if it does.
fn rcvbuf(stream: &TcpStream) -> Option<usize> {
    sockopt(stream, libc::SO_RCVBUF)
}

/// Reads an integer socket option at `SOL_SOCKET` level.
fn sockopt(stream: &TcpStream, name: libc::c_int) -> Option<usize> {
    use std::os::fd::AsRawFd as _;
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the descriptor is open for the borrow of `stream`; the value and its length are
    // locals that live across the call, the length giving the value's size.
    let r = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            name,
            (&raw mut v).cast(),
            &raw mut len,
        )
    };
    if r == 0 { usize::try_from(v).ok() } else { None }
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

/// A chunk-size or trailer line, with its CRLF, must be shorter than this, as in Go's
/// `net/http` (`maxLineLength`), which Prometheus scrapes with.
const MAX_LINE: usize = 4096;

/// The framing bytes a chunked body may carry beyond 16 a chunk plus twice the chunk's data,
/// as in Go's `net/http`: a byte a chunk (`1\r\nX\r\n`, 5 bytes of framing a byte of data) is
/// legitimate, a long chunk extension on every short chunk is not.
const MAX_EXCESS: usize = 16 << 10;

/// Decodes a chunked body in place: the decoded bytes are moved to the front of the buffer as
/// the raw bytes after them arrive, so the buffer ends up holding only the body; the caller
/// drops the framing decoded so far after each call ([`Dechunker::drop_framing`]), so the
/// buffer never holds more than the body, the last read and a line.
#[derive(Debug, Default)]
pub(crate) struct Dechunker {
    /// End of the decoded bytes at the buffer's front.
    out: usize,
    /// Start of the raw bytes not yet decoded.
    pos: usize,
    /// Framing beyond what the chunks so far are allowed, as Go's `chunkedReader.excess`.
    excess: usize,
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

    /// Bytes of body decoded so far (since the last [`Dechunker::drop_decoded`]), at the
    /// front of the buffer.
    pub(crate) fn decoded(&self) -> usize {
        self.out
    }

    /// Bytes of the buffer consumed (decoded or framing).
    pub(crate) fn consumed(&self) -> usize {
        self.pos
    }

    /// Removes the decoded bytes from the front of `buf[from..]` once the caller has handed
    /// them on (after [`Dechunker::drop_framing`]); [`Dechunker::decoded`] then counts anew.
    pub(crate) fn drop_decoded(&mut self, buf: &mut Vec<u8>, from: usize) {
        buf.drain(from..from + self.out);
        self.pos -= self.out;
        self.out = 0;
    }

    /// Removes the framing consumed so far from `buf[from..]` (the bytes [`Dechunker::advance`]
    /// is given), leaving the decoded bytes followed by those not yet decoded. Only the latter
    /// move, and after `advance` they are less than a line.
    pub(crate) fn drop_framing(&mut self, buf: &mut Vec<u8>, from: usize) {
        if self.pos > self.out {
            buf.drain(from + self.out..from + self.pos);
            self.pos = self.out;
        }
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
                    self.note_framing(line.len(), size)?;
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

    /// Counts a chunk-size line of `line` bytes (without its CRLF) announcing `size` bytes
    /// against the framing allowed, as Go's `chunkedReader.beginChunk`: the line and its
    /// CRLF, plus the CRLF after the data, less 16 and twice the data, never below 0.
    fn note_framing(&mut self, line: usize, size: usize) -> Result<(), String> {
        let allowed = size.saturating_mul(2).saturating_add(16);
        self.excess = (self.excess + line + 4).saturating_sub(allowed);
        if self.excess > MAX_EXCESS {
            return Err("chunked encoding contains too much non-data".to_string());
        }
        Ok(())
    }

    /// The line starting at `pos` without its CRLF, if complete; a line that is, or would be,
    /// [`MAX_LINE`] bytes or more with its CRLF is refused whole or in part.
    fn line<'a>(&self, buf: &'a [u8]) -> Result<Option<&'a [u8]>, String> {
        let rest = &buf[self.pos..];
        let head = &rest[..rest.len().min(MAX_LINE - 1)];
        match memchr::memchr(b'\n', head) {
            Some(i) if i > 0 && head[i - 1] == b'\r' => Ok(Some(&head[..i - 1])),
            Some(_) => Err("malformed chunked encoding".to_string()),
            None if rest.len() >= MAX_LINE - 1 => {
                Err("malformed chunked encoding: line too long".to_string())
            }
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

    /// Decodes `raw` fed in pieces of `step` bytes after two bytes that are not the body's,
    /// dropping the framing after each piece as the client does; returns the body and the
    /// most bytes the buffer held beyond the decoded ones.
    fn decode_held(raw: &[u8], step: usize) -> Result<(Vec<u8>, usize), String> {
        let mut buf = b"HD".to_vec();
        let mut d = Dechunker::new();
        let mut held = 0;
        for piece in raw.chunks(step) {
            buf.extend_from_slice(piece);
            let done = d.advance(&mut buf[2..])?;
            d.drop_framing(&mut buf, 2);
            held = held.max(buf.len() - 2 - d.decoded());
            if done {
                assert_eq!(&buf[..2], b"HD");
                buf.truncate(2 + d.decoded());
                return Ok((buf.split_off(2), held));
            }
        }
        Err("incomplete".to_string())
    }

    fn decode(raw: &[u8], step: usize) -> Result<Vec<u8>, String> {
        decode_held(raw, step).map(|(body, _)| body)
    }

    #[test]
    fn decodes_chunks_in_any_pieces() {
        let raw = b"5\r\nhello\r\n7;ext=1\r\n, world\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n";
        for step in [1, 2, 3, 7, 100] {
            let body = decode(raw, step).unwrap();
            assert_eq!(body, b"hello, world0123456789", "step {step}");
        }
    }

    #[test]
    fn empty_body_and_errors() {
        assert_eq!(decode(b"0\r\n\r\n", 1).unwrap(), b"");
        assert!(decode(b"zz\r\nab\r\n0\r\n\r\n", 100).is_err());
        assert!(decode(b"2\r\nabX\r\n0\r\n\r\n", 100).is_err());
        assert!(decode(b"2\nab\r\n0\r\n\r\n", 100).is_err());
        assert_eq!(decode(b"2\r\nab\r\n", 100), Err("incomplete".to_string()));
    }

    /// A body of `n` one-byte chunks "x", each with a chunk extension of `ext` bytes.
    fn tiny_chunks(n: usize, ext: usize) -> Vec<u8> {
        let ext = if ext > 0 { format!(";{}", "e".repeat(ext - 1)) } else { String::new() };
        let mut raw = format!("1{ext}\r\nx\r\n").repeat(n).into_bytes();
        raw.extend_from_slice(b"0\r\n\r\n");
        raw
    }

    #[test]
    fn framing_is_dropped_as_it_is_decoded() {
        // Five bytes of framing a byte of data: the buffer holds the body and at most an
        // incomplete line after it, not the framing of every chunk before.
        let raw = tiny_chunks(10_000, 0);
        for step in [1, 7, 4096, 65_536] {
            let (body, held) = decode_held(&raw, step).unwrap();
            assert_eq!(body, vec![b'x'; 10_000], "step {step}");
            assert!(held <= 4, "step {step}: {held} framing bytes held");
        }
    }

    #[test]
    fn lines_of_4096_bytes_or_more_are_refused_as_in_go() {
        // As Go's readChunkLine: a line is refused when it is maxLineLength (4096) bytes or
        // more with its CRLF, whether it arrives whole or in pieces.
        let with_line = |len: usize| {
            let line = format!("3;{}", "e".repeat(len - 2 - 2));
            assert_eq!(line.len() + 2, len);
            format!("{line}\r\nabc\r\n0\r\n\r\n").into_bytes()
        };
        for step in [1, 1000, 100_000] {
            assert_eq!(decode(&with_line(4095), step).unwrap(), b"abc", "step {step}");
            let e = decode(&with_line(4096), step).unwrap_err();
            assert_eq!(e, "malformed chunked encoding: line too long", "step {step}");
            assert!(decode(&with_line(100_000), step).is_err(), "step {step}");
        }
        let mut trailer = b"0\r\nX-T: ".to_vec();
        trailer.extend_from_slice(&[b't'; 5000]);
        trailer.extend_from_slice(b"\r\n\r\n");
        assert!(decode(&trailer, 100_000).is_err());
    }

    #[test]
    fn framing_outweighing_the_data_is_refused_as_in_go() {
        // Go allows 16 bytes of framing a chunk plus twice its data, and 16 KiB beyond.
        assert_eq!(decode(&tiny_chunks(5_000, 0), 100).unwrap(), vec![b'x'; 5_000]);
        assert_eq!(decode(&tiny_chunks(5_000, 12), 100).unwrap(), vec![b'x'; 5_000]);
        // 1,000 bytes of extension a byte: over 16 KiB after 17 chunks.
        let e = decode(&tiny_chunks(18, 1000), 100).unwrap_err();
        assert_eq!(e, "chunked encoding contains too much non-data");
        assert_eq!(decode(&tiny_chunks(16, 1000), 100).unwrap(), vec![b'x'; 16]);
        // Large chunks earn room for a longer extension.
        let mut raw = format!("1000;{}\r\n", "e".repeat(4000)).into_bytes();
        raw.extend_from_slice(&[b'y'; 0x1000]);
        raw.extend_from_slice(b"\r\n0\r\n\r\n");
        assert_eq!(decode(&raw, 100).unwrap().len(), 0x1000);
    }

    #[tokio::test]
    async fn before_linux_5_10_the_low_water_mark_stays_within_half_the_receive_buffer() {
        // Later kernels take a larger mark and raise the buffer for it; the cap, where it
        // applies, keeps the mark to what the buffer is (here the one a fresh connection gets,
        // which its kernel tunes).
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let _server = l.accept().await.unwrap();
        let buf = rcvbuf(&stream).unwrap();
        let mut low = LowWater { mark: 1, cap: 0 };
        low.set(&stream, 1 << 20);
        let mark = sockopt(&stream, libc::SO_RCVLOWAT).unwrap();
        assert_eq!(mark, (buf / 2).min(1 << 20), "receive buffer {buf}");
        low.set(&stream, 100);
        assert_eq!(sockopt(&stream, libc::SO_RCVLOWAT), Some(100));
        low.reset(&stream);
        assert_eq!(sockopt(&stream, libc::SO_RCVLOWAT), Some(1));
    }

    #[test]
    fn kernel_versions_are_read_from_the_release() {
        assert_eq!(linux_version("6.18.44-fc-v669\n"), Some((6, 18)));
        assert_eq!(linux_version("4.19.0-27-amd64"), Some((4, 19)));
        assert_eq!(linux_version("5.10"), Some((5, 10)));
        assert_eq!(linux_version("5"), None);
        assert_eq!(linux_version(""), None);
        let old = LowWater::new().cap == 0;
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        assert_eq!(old, linux_version(&release).is_none_or(|v| v < (5, 10)), "{release}");
    }
}
