//! The scrape client for plain `http` targets without a proxy: one kept-alive HTTP/1.1
//! connection per target, the request head built once, and the response read straight into the
//! scrape's body buffer. A scrape through it allocates nothing per request (no header maps,
//! URI parsing, dispatch channels or body chunks) and copies the body once, from the socket;
//! a gzip body is decompressed into that buffer as it arrives (`http1_gzip`), its compressed
//! bytes held a read at a time.
//! TLS, proxies and redirects to follow go through reqwest (`Fetched::Redirect` tells the loop
//! to repeat the scrape there).

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::http1_body::{Dechunker, LowWater, read_more};
use crate::http1_gzip::{Gunzip, GzError};

/// Bytes a response head may take before the scrape fails.
const MAX_HEAD: usize = 64 << 10;
/// The least room a socket read for the response head is given.
const HEAD_READ: usize = 4096;
/// The most a buffer is presized for a response, from the last one's length or the
/// `Content-Length` of this one, and the most room one socket read of a body of known length
/// is given: a length the server announces is not trusted for an allocation, the bytes that
/// come are.
const MAX_PRESIZE: usize = 16 << 20;
/// Interim (1xx) responses skipped before the final one, as Go's `net/http` client (which
/// Prometheus scrapes with) skips them.
const MAX_INTERIM: usize = 5;

/// The capacity the scratch buffer keeps between requests: a compressed body's first read
/// may have been large.
const SCRATCH_KEPT: usize = 128 << 10;

/// What a fetch brought.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fetched {
    /// Status 200: the body is in the buffer from the given offset on (the response head is
    /// in front of it); the response's content type.
    Ok(String, usize),
    /// A redirect to follow: the loop repeats the scrape with the redirect-following client.
    Redirect,
}

/// One target's connection and request.
pub(crate) struct Conn {
    /// The target's URL, for error messages.
    url: String,
    /// `host:port` to connect to.
    addr: String,
    /// The request head up to (not including) the credentials and the final empty line.
    head: Vec<u8>,
    /// Whether a 3xx response is followed (through reqwest) or is an error.
    follow_redirects: bool,
    stream: Option<TcpStream>,
    /// The request being written, and the compressed body being read, a read at a time.
    scratch: Vec<u8>,
    /// The length of the last response read into the body buffer (head and body, 0 for a
    /// compressed one): the next one is read into a buffer at least that large, so that one
    /// socket read can take all of it.
    last_len: usize,
    /// The decoded length of the last compressed body, which the next is decoded into a
    /// buffer at least as large as.
    last_unzipped: usize,
}

impl Conn {
    /// The connection for `url` if it can take it: plain `http`, a host, no proxy (decided by
    /// the caller); `display` is the URL as errors show it. `headers` are the request headers as `(name, value)` lines.
    pub(crate) fn new(
        url: &reqwest::Url,
        display: &str,
        headers: &[(&str, String)],
        follow_redirects: bool,
    ) -> Option<Conn> {
        if url.scheme() != "http" || !url.username().is_empty() || url.password().is_some() {
            return None;
        }
        let host = url.host_str()?;
        let port = url.port_or_known_default()?;
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let mut target = url.path().to_string();
        if let Some(q) = url.query() {
            target.push('?');
            target.push_str(q);
        }
        let mut head = format!("GET {target} HTTP/1.1\r\nHost: {authority}\r\n");
        for (name, value) in headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        Some(Conn {
            url: display.to_string(),
            addr: format!("{}:{port}", host.trim_start_matches('[').trim_end_matches(']')),
            head: head.into_bytes(),
            follow_redirects,
            stream: None,
            scratch: Vec::new(),
            last_len: 0,
            last_unzipped: 0,
        })
    }

    /// Sends the request (with `authorization` if any) and reads a 200 response into `body`
    /// (its contents on entry are dropped), the body decoded from chunked and gzip transfer
    /// and starting at the offset [`Fetched::Ok`] gives; a decoded body of `limit` bytes or more
    /// fails (0: no limit), as in Prometheus, whose reader stops at the limit and so cannot tell
    /// a body of exactly that size from a longer one. A kept-alive connection the server has closed meanwhile is replaced
    /// once. On any error the connection is dropped.
    pub(crate) async fn fetch(
        &mut self,
        authorization: Option<&str>,
        body: &mut Vec<u8>,
        limit: u64,
    ) -> Result<Fetched, String> {
        let reused = self.stream.is_some();
        let r = self.exchange(authorization, body, limit).await;
        let r = match r {
            Err(Failure::Closed) if reused => self.exchange(authorization, body, limit).await,
            r => r,
        };
        r.map_err(|e| {
            self.stream = None;
            match e {
                Failure::Closed => {
                    format!("Get {:?}: server closed the connection without a response", self.url)
                }
                Failure::Transport(m) => format!("Get {:?}: {m}", self.url),
                Failure::Response(m) => m,
            }
        })
    }

    async fn exchange(
        &mut self,
        authorization: Option<&str>,
        body: &mut Vec<u8>,
        limit: u64,
    ) -> Result<Fetched, Failure> {
        let mut stream = match self.stream.take() {
            Some(s) => s,
            None => {
                let s = TcpStream::connect(&self.addr)
                    .await
                    .map_err(|e| Failure::Transport(format!("dial tcp {}: {e}", self.addr)))?;
                let _ = s.set_nodelay(true);
                s
            }
        };
        let mut req = std::mem::take(&mut self.scratch);
        req.clear();
        req.extend_from_slice(&self.head);
        if let Some(a) = authorization {
            req.extend_from_slice(b"Authorization: ");
            req.extend_from_slice(a.as_bytes());
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"\r\n");
        let written = stream.write_all(&req).await;
        self.scratch = req;
        written.map_err(|_| Failure::Closed)?;
        let resp = self.read_response(&mut stream, body, limit).await?;
        if resp.keep_alive {
            self.stream = Some(stream);
        }
        Ok(resp.fetched)
    }

    /// Reads the head, then the body as the head says, both into `body`: the head is read
    /// together with the start of the body (one socket read takes the whole response when it
    /// has arrived, the buffer being sized from the last response), and stays in front of it.
    async fn read_response(
        &mut self,
        stream: &mut TcpStream,
        body: &mut Vec<u8>,
        limit: u64,
    ) -> Result<Response, Failure> {
        body.clear();
        // A little more than the last response: a read that fills the buffer leaves the
        // socket's readiness set, and the next read would find nothing.
        let expect = self.last_len + self.last_len / 32 + HEAD_READ;
        crate::buffers::reserve_empty(body, expect.min(MAX_PRESIZE));
        let mut interim = 0;
        let parsed = loop {
            let room = (body.capacity() - body.len()).max(HEAD_READ);
            let n = read_more(stream, body, room)
                .await
                .map_err(|e| Failure::Transport(format!("reading response: {e}")))?;
            if n == 0 {
                return Err(if body.is_empty() && interim == 0 {
                    Failure::Closed
                } else {
                    Failure::Transport("unexpected EOF in the response head".to_string())
                });
            }
            if let Some(h) = final_head(body, &mut interim)? {
                break h;
            }
            if body.len() > MAX_HEAD {
                return Err(Failure::Transport("response head too large".to_string()));
            }
        };
        if (300..400).contains(&parsed.status) && self.follow_redirects {
            return Ok(Response { fetched: Fetched::Redirect, keep_alive: false });
        }
        if parsed.status != 200 {
            return Err(Failure::Response(format!(
                "server returned HTTP status {}",
                parsed.status_text
            )));
        }
        let framing = parsed.framing;
        let complete = if parsed.gzip {
            (self.read_gzip(stream, body, parsed.len, framing, limit).await?, 0)
        } else {
            if let Framing::Length(n) = framing {
                if limit > 0 && n >= limit {
                    return Err(Failure::Response("body size limit exceeded".to_string()));
                }
                let have = (body.len() - parsed.len) as u64;
                body.reserve_exact(n.saturating_sub(have).min(MAX_PRESIZE as u64) as usize);
            }
            let complete =
                read_body(stream, body, parsed.len, framing, &mut Plain { limit }).await?;
            self.last_len = body.len();
            (complete, parsed.len)
        };
        Ok(Response {
            fetched: Fetched::Ok(parsed.content_type, complete.1),
            keep_alive: parsed.keep_alive && complete.0,
        })
    }

    /// Reads a gzip body framed as `framing` whose first compressed bytes are in `body` after
    /// its `head` bytes, and decompresses it into `body` as it arrives, failing at `limit` (0:
    /// none) decoded bytes: the compressed bytes go through the scratch buffer a read at a
    /// time. Returns whether the connection is left at a message boundary.
    async fn read_gzip(
        &mut self,
        stream: &mut TcpStream,
        body: &mut Vec<u8>,
        head: usize,
        framing: Framing,
        limit: u64,
    ) -> Result<bool, Failure> {
        let mut raw = std::mem::take(&mut self.scratch);
        raw.clear();
        raw.extend_from_slice(&body[head..]);
        body.clear();
        let expect = self.last_unzipped + self.last_unzipped / 32;
        crate::buffers::reserve_empty(body, expect.min(MAX_PRESIZE));
        let mut gz = Gunzip::new(std::mem::take(body), limit);
        let read = read_body(stream, &mut raw, 0, framing, &mut gz).await;
        let done = read.and_then(|complete| gz.finish().map_err(gz_failure).map(|()| complete));
        *body = gz.into_body();
        raw.clear();
        raw.shrink_to(SCRATCH_KEPT);
        self.scratch = raw;
        self.last_len = 0;
        self.last_unzipped = body.len();
        done
    }
}

/// Why an exchange failed: the server closed a kept-alive connection before answering (worth
/// one retry on a new one), the connection or the message failed, or the response is refused.
enum Failure {
    Closed,
    Transport(String),
    Response(String),
}

struct Response {
    fetched: Fetched,
    keep_alive: bool,
}

/// How the body's end is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

/// The parts of a response head a scrape needs.
struct Head {
    len: usize,
    status: u16,
    /// The status as Go's `net/http` gives it (`Response.Status`), which Prometheus puts in
    /// the scrape error: the code and the server's own reason phrase ("503 Busy"), or the
    /// code alone when the server sent none. Empty for a 200, which is not reported.
    status_text: String,
    content_type: String,
    framing: Framing,
    gzip: bool,
    keep_alive: bool,
}

impl Head {
    /// The head if `buf` holds all of it.
    fn parse(buf: &[u8]) -> Result<Option<Head>, Failure> {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut headers);
        let len = match resp.parse(buf) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(e) => return Err(Failure::Transport(format!("malformed HTTP response: {e}"))),
        };
        let status = resp.code.unwrap_or(0);
        let status_text = match resp.reason {
            _ if status == 200 => String::new(),
            Some(reason) if !reason.is_empty() => format!("{status} {reason}"),
            _ => status.to_string(),
        };
        let mut h = Head {
            len,
            status,
            status_text,
            content_type: String::new(),
            framing: Framing::UntilClose,
            gzip: false,
            keep_alive: resp.version == Some(1),
        };
        for hd in resp.headers.iter() {
            let v = hd.value;
            if hd.name.eq_ignore_ascii_case("content-type") {
                h.content_type = String::from_utf8_lossy(v).into_owned();
            } else if hd.name.eq_ignore_ascii_case("content-length") {
                if h.framing != Framing::Chunked {
                    let n = std::str::from_utf8(v).ok().and_then(|s| s.trim().parse().ok());
                    h.framing = Framing::Length(n.ok_or_else(|| {
                        Failure::Transport(
                            "malformed HTTP response: bad Content-Length".to_string(),
                        )
                    })?);
                }
            } else if hd.name.eq_ignore_ascii_case("transfer-encoding") {
                if has_token(v, b"chunked") {
                    h.framing = Framing::Chunked;
                }
            } else if hd.name.eq_ignore_ascii_case("content-encoding") {
                h.gzip = has_token(v, b"gzip");
            } else if hd.name.eq_ignore_ascii_case("connection") {
                if has_token(v, b"close") {
                    h.keep_alive = false;
                } else if has_token(v, b"keep-alive") {
                    h.keep_alive = true;
                }
            }
        }
        Ok(Some(h))
    }
}

/// The final response's head if `buf` holds all of it, after taking the interim (1xx)
/// responses before it off the front of `buf` (`interim` counts them across calls). A 1xx
/// response has no body; 101 (switching protocols) is final, as in Go's `net/http`.
fn final_head(buf: &mut Vec<u8>, interim: &mut usize) -> Result<Option<Head>, Failure> {
    loop {
        let Some(h) = Head::parse(buf)? else { return Ok(None) };
        if !(100..200).contains(&h.status) || h.status == 101 {
            return Ok(Some(h));
        }
        *interim += 1;
        if *interim > MAX_INTERIM {
            return Err(Failure::Transport(
                "net/http: too many 1xx informational responses".to_string(),
            ));
        }
        buf.drain(..h.len);
    }
}

/// Whether a comma-separated header value lists `token` (case-insensitive).
fn has_token(value: &[u8], token: &[u8]) -> bool {
    value.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// Where [`read_body`] puts the body bytes as it reads and unframes them.
trait Sink {
    /// The most room one socket read of a body of known length is given.
    const MAX_READ: usize;

    /// Takes `body`, the unframed body bytes in the buffer; true if it took them (the caller
    /// removes them from the buffer), false if they stay there.
    fn put(&mut self, body: &[u8]) -> Result<bool, Failure>;
}

/// A plain body, left in the buffer it is read into: the whole body, held to the size limit
/// (0: none) as it arrives.
struct Plain {
    limit: u64,
}

impl Sink for Plain {
    const MAX_READ: usize = MAX_PRESIZE;

    fn put(&mut self, body: &[u8]) -> Result<bool, Failure> {
        if self.limit > 0 && body.len() as u64 >= self.limit {
            return Err(Failure::Response("body size limit exceeded".to_string()));
        }
        Ok(false)
    }
}

impl Sink for Gunzip {
    /// The compressed bytes are held a read at a time.
    const MAX_READ: usize = UNFRAMED_READ;

    fn put(&mut self, gz: &[u8]) -> Result<bool, Failure> {
        self.feed(gz).map_err(gz_failure)?;
        Ok(true)
    }
}

fn gz_failure(e: GzError) -> Failure {
    match e {
        GzError::Limit => Failure::Response("body size limit exceeded".to_string()),
        GzError::Corrupt(m) => Failure::Transport(format!("decompressing body: {m}")),
    }
}

/// The room of each socket read of a body read until close or chunked.
const UNFRAMED_READ: usize = 64 << 10;

/// Reads the rest of a body framed as `framing` onto `raw`, whose bytes from `from` on are
/// its start, undoing chunked transfer in place, and hands the body bytes to `sink` as they
/// come. Returns whether the connection is left at a message boundary (it is not after a body
/// read until close).
async fn read_body<S: Sink>(
    stream: &mut TcpStream,
    raw: &mut Vec<u8>,
    from: usize,
    framing: Framing,
    sink: &mut S,
) -> Result<bool, Failure> {
    match framing {
        Framing::Length(n) => read_sized(stream, raw, from, n, sink).await,
        Framing::UntilClose => read_to_close(stream, raw, from, sink).await,
        Framing::Chunked => read_chunked(stream, raw, from, sink).await,
    }
}

fn read_failure(e: std::io::Error) -> Failure {
    Failure::Transport(format!("reading body: {e}"))
}

fn unexpected_eof() -> Failure {
    Failure::Transport("reading body: unexpected EOF".to_string())
}

fn excess_data() -> Failure {
    Failure::Transport("malformed HTTP response: excess data".to_string())
}

/// A body of `n` bytes, the rest of it awaited with the receive low-water mark.
async fn read_sized<S: Sink>(
    stream: &mut TcpStream,
    raw: &mut Vec<u8>,
    from: usize,
    n: u64,
    sink: &mut S,
) -> Result<bool, Failure> {
    // Body bytes the sink took out of `raw`.
    let mut taken = 0u64;
    let mut low = LowWater::new();
    loop {
        let got = taken + (raw.len() - from) as u64;
        if got > n {
            return Err(excess_data());
        }
        // The bytes read with the head first: all of the body may have come with it.
        if sink.put(&raw[from..])? {
            taken = got;
            raw.truncate(from);
        }
        if got == n {
            break;
        }
        let want = usize::try_from(n - got).unwrap_or(usize::MAX).min(S::MAX_READ);
        low.set(stream, want);
        if read_more(stream, raw, want).await.map_err(read_failure)? == 0 {
            return Err(unexpected_eof());
        }
    }
    low.reset(stream);
    Ok(true)
}

/// A body that ends where the server closes the connection.
async fn read_to_close<S: Sink>(
    stream: &mut TcpStream,
    raw: &mut Vec<u8>,
    from: usize,
    sink: &mut S,
) -> Result<bool, Failure> {
    // The bytes read with the head count too: all of the body may have come with it.
    loop {
        if sink.put(&raw[from..])? {
            raw.truncate(from);
        }
        if read_more(stream, raw, UNFRAMED_READ).await.map_err(read_failure)? == 0 {
            return Ok(false);
        }
    }
}

/// A chunked body, decoded in place, its framing dropped as it is decoded.
async fn read_chunked<S: Sink>(
    stream: &mut TcpStream,
    raw: &mut Vec<u8>,
    from: usize,
    sink: &mut S,
) -> Result<bool, Failure> {
    let mut d = Dechunker::new();
    loop {
        let done = d
            .advance(&mut raw[from..])
            .map_err(|e| Failure::Transport(format!("reading body: {e}")))?;
        d.drop_framing(raw, from);
        if sink.put(&raw[from..from + d.decoded()])? {
            d.drop_decoded(raw, from);
        }
        if done {
            if raw.len() - from > d.consumed() {
                return Err(excess_data());
            }
            raw.truncate(from + d.decoded());
            return Ok(true);
        }
        if read_more(stream, raw, UNFRAMED_READ).await.map_err(read_failure)? == 0 {
            return Err(unexpected_eof());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both ends of a connection on loopback.
    async fn pair() -> (TcpStream, TcpStream) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (server, _) = l.accept().await.unwrap();
        (client, server)
    }

    fn chunked(body: &[u8], piece: usize) -> Vec<u8> {
        let mut r = Vec::new();
        for c in body.chunks(piece) {
            r.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
            r.extend_from_slice(c);
            r.extend_from_slice(b"\r\n");
        }
        r.extend_from_slice(b"0\r\n\r\n");
        r
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_compressed_body_is_held_a_read_at_a_time_whatever_its_framing() {
        // 4 MiB stored uncompressed in the gzip stream, without a size limit: the compressed
        // bytes pass through the buffer a read at a time and are never held whole.
        let data: Vec<u8> = (0..4u32 << 20).map(|i| (i % 251) as u8).collect();
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
        std::io::Write::write_all(&mut e, &data).unwrap();
        let gz = e.finish().unwrap();
        assert!(gz.len() > data.len());
        for framing in [Framing::Length(gz.len() as u64), Framing::Chunked, Framing::UntilClose] {
            let (mut client, mut server) = pair().await;
            let wire = if framing == Framing::Chunked { chunked(&gz, 100_000) } else { gz.clone() };
            let writer = tokio::spawn(async move {
                server.write_all(&wire).await.unwrap();
                server.shutdown().await.unwrap();
            });
            let mut raw = Vec::new();
            let mut sink = Gunzip::new(Vec::new(), 0);
            let complete = read_body(&mut client, &mut raw, 0, framing, &mut sink).await;
            assert_eq!(complete.ok(), Some(framing != Framing::UntilClose), "{framing:?}");
            assert!(sink.finish().is_ok(), "{framing:?}");
            assert!(raw.capacity() <= 4 * UNFRAMED_READ, "{framing:?}: {}", raw.capacity());
            assert!(sink.into_body() == data, "{framing:?}");
            writer.await.unwrap();
        }
    }
}
