//! Plain-HTTP targets are scraped over one kept-alive connection with the response read straight
//! into the body buffer: chunked and gzip bodies, a kept-alive connection the server closed,
//! interim (1xx) responses, redirects, credentials, truncated bodies and the body size limit,
//! against a server that answers each request on a connection with the next scripted raw
//! response.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use common::looping;
use common::recorder::Recorder;
use parking_lot::Mutex;
use scrape::scrape_loop::{Limits, LoopOptions, ScrapeLoop};
use scrape::target::{Health, Target};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the scripted server does after writing a response.
#[derive(Clone, Copy, PartialEq)]
enum After {
    KeepOpen,
    Close,
    /// Written in five pieces 30 ms apart, the connection kept open.
    Trickle,
}

/// Serves the scripted responses in order, one per request, whatever connection asks.
struct Scripted {
    addr: std::net::SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    connections: Arc<Mutex<usize>>,
}

impl Scripted {
    async fn start(script: Vec<(Vec<u8>, After)>) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let connections: Arc<Mutex<usize>> = Arc::default();
        let script = Arc::new(Mutex::new(script.into_iter()));
        let (q, c) = (requests.clone(), connections.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                *c.lock() += 1;
                let (q, script) = (q.clone(), script.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    loop {
                        let mut chunk = [0u8; 4096];
                        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                        q.lock().push(String::from_utf8_lossy(&buf[..end]).to_string());
                        buf.drain(..end);
                        let Some((resp, after)) = script.lock().next() else { return };
                        if after == After::Trickle {
                            for piece in resp.chunks(resp.len().div_ceil(5)) {
                                let _ = sock.write_all(piece).await;
                                let _ = sock.flush().await;
                                tokio::time::sleep(Duration::from_millis(30)).await;
                            }
                            continue;
                        }
                        let _ = sock.write_all(&resp).await;
                        if after == After::Close {
                            let _ = sock.shutdown().await;
                            return;
                        }
                    }
                });
            }
        });
        Scripted { addr, requests, connections }
    }
}

fn response(extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n{extra_headers}\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn chunked(extra_headers: &str, body: &[u8], piece: usize) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nTransfer-Encoding: chunked\r\n{extra_headers}\r\n"
    )
    .into_bytes();
    for c in body.chunks(piece) {
        r.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        r.extend_from_slice(c);
        r.extend_from_slice(b"\r\n");
    }
    r.extend_from_slice(b"0\r\n\r\n");
    r
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(body).unwrap();
    e.finish().unwrap()
}

fn scrape_loop(
    srv: &Scripted,
    path: &str,
    http: config::http::HttpClientConfig,
    limits: Limits,
    rec: &Recorder,
) -> (ScrapeLoop, Arc<Target>) {
    let target = looping::http_target(srv.addr, path);
    let opts =
        LoopOptions { limits, http, compression: true, ..looping::options(Duration::from_secs(5)) };
    (looping::scrape_loop(target.clone(), opts, Arc::new(rec.clone())), target)
}

/// The committed samples of the last scrape that are neither report series nor staleness
/// markers.
fn scraped(rec: &Recorder) -> Vec<(String, f64)> {
    rec.take_committed()
        .into_iter()
        .filter(|(n, v)| n != "up" && !n.starts_with("scrape_") && !v.is_nan())
        .collect()
}

fn health(t: &Target) -> (Health, String) {
    let st = t.state.lock();
    (st.health, st.last_error.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_serves_every_scrape_whatever_the_framing() {
    let body = b"a 1\nb{x=\"y\"} 2\n".to_vec();
    let big: Vec<u8> = (0..3000).flat_map(|i| format!("m_{i} {i}\n").into_bytes()).collect();
    let srv = Scripted::start(vec![
        (response("", &body), After::KeepOpen),
        (chunked("", &big, 1000), After::KeepOpen),
        (chunked("Content-Encoding: gzip\r\n", &gzip(&body), 7), After::KeepOpen),
        (response("Content-Encoding: gzip\r\n", &gzip(&big)), After::KeepOpen),
    ])
    .await;
    let rec = Recorder::default();
    let (mut sl, t) = scrape_loop(&srv, "/m", Default::default(), Limits::default(), &rec);
    for round in 0..4 {
        sl.scrape_and_report().await;
        assert_eq!(health(&t), (Health::Up, String::new()), "round {round}");
        let got = scraped(&rec);
        if round % 2 == 0 {
            assert_eq!(got, vec![("a".to_string(), 1.0), ("b".to_string(), 2.0)], "{round}");
        } else {
            assert_eq!(got.len(), 3000, "round {round}");
            assert_eq!(got[2999], ("m_2999".to_string(), 2999.0), "round {round}");
        }
    }
    assert_eq!(*srv.connections.lock(), 1);
    let reqs = srv.requests.lock().clone();
    assert_eq!(reqs.len(), 4);
    let host = format!("host: {}", srv.addr);
    for r in reqs {
        let r = r.to_ascii_lowercase();
        assert!(r.starts_with("get /m http/1.1\r\n"), "{r}");
        assert!(r.contains(&host) && r.contains("accept-encoding: gzip"), "{r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_arriving_in_pieces_are_read_whole_whatever_the_last_length() {
    // A body of known length waits for its missing bytes (the receive low-water mark); the
    // next, shorter or unframed response on the connection must not wait for as many.
    let big: Vec<u8> = (0..20_000).flat_map(|i| format!("m_{i} {i}\n").into_bytes()).collect();
    let small = b"a 1\n".to_vec();
    let srv = Scripted::start(vec![
        (response("", &big), After::Trickle),
        (response("", &small), After::KeepOpen),
        (response("", &big), After::KeepOpen),
        (response("", &small), After::Trickle),
        (chunked("", &big, 70_000), After::Trickle),
        (response("", &small), After::KeepOpen),
    ])
    .await;
    let rec = Recorder::default();
    let (mut sl, t) = scrape_loop(&srv, "/m", Default::default(), Limits::default(), &rec);
    for round in 0..6 {
        sl.scrape_and_report().await;
        assert_eq!(health(&t), (Health::Up, String::new()), "round {round}");
        let got = scraped(&rec);
        if matches!(round, 1 | 3 | 5) {
            assert_eq!(got, vec![("a".to_string(), 1.0)], "round {round}");
        } else {
            assert_eq!(got.len(), 20_000, "round {round}");
            assert_eq!(got[19_999], ("m_19999".to_string(), 19_999.0), "round {round}");
        }
    }
    assert_eq!(*srv.connections.lock(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_alive_connection_the_server_closed_is_replaced() {
    // The server closes after each response without saying so.
    let srv = Scripted::start(vec![
        (response("", b"a 1\n"), After::Close),
        (response("", b"a 2\n"), After::Close),
    ])
    .await;
    let rec = Recorder::default();
    let (mut sl, t) = scrape_loop(&srv, "/m", Default::default(), Limits::default(), &rec);
    sl.scrape_and_report().await;
    assert_eq!(scraped(&rec), vec![("a".to_string(), 1.0)]);
    sl.scrape_and_report().await;
    assert_eq!(health(&t), (Health::Up, String::new()));
    assert_eq!(scraped(&rec), vec![("a".to_string(), 2.0)]);
    assert_eq!(*srv.connections.lock(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interim_responses_before_the_final_one_are_skipped() {
    // As Go's net/http client, which Prometheus scrapes with: up to five 1xx responses (no
    // body) may come before the final one, whole or split across reads; 101 is final.
    let with = |codes: &[&str], body: &[u8]| {
        let mut r: Vec<u8> = codes
            .iter()
            .flat_map(|c| format!("HTTP/1.1 {c}\r\nX-A: b\r\n\r\n").into_bytes())
            .collect();
        r.extend_from_slice(&response("", body));
        r
    };
    let srv = Scripted::start(vec![
        (with(&["103 Early Hints"], b"a 1\n"), After::KeepOpen),
        (with(&["100 Continue", "102 Processing", "103 Early Hints"], b"a 2\n"), After::Trickle),
        (with(&["103 Early Hints"; 5], b"a 3\n"), After::KeepOpen),
        (with(&["103 Early Hints"; 6], b"a 4\n"), After::KeepOpen),
        (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n".to_vec(), After::KeepOpen),
    ])
    .await;
    let rec = Recorder::default();
    let (mut sl, t) = scrape_loop(&srv, "/m", Default::default(), Limits::default(), &rec);
    for (round, want) in [1.0, 2.0, 3.0].into_iter().enumerate() {
        sl.scrape_and_report().await;
        assert_eq!(health(&t), (Health::Up, String::new()), "round {round}");
        assert_eq!(scraped(&rec), vec![("a".to_string(), want)], "round {round}");
    }
    assert_eq!(*srv.connections.lock(), 1);
    sl.scrape_and_report().await;
    let (h, e) = health(&t);
    assert_eq!(h, Health::Down);
    assert!(e.ends_with(": net/http: too many 1xx informational responses"), "{e}");
    sl.scrape_and_report().await;
    let want = "server returned HTTP status 101 Switching Protocols".to_string();
    assert_eq!(health(&t), (Health::Down, want));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_followed_and_credentials_sent() {
    // The direct client hands a redirect to reqwest, which asks again and follows it.
    let redirect = b"HTTP/1.1 302 Found\r\nLocation: /other\r\nContent-Length: 0\r\n\r\n";
    let srv = Scripted::start(vec![
        (redirect.to_vec(), After::KeepOpen),
        (redirect.to_vec(), After::KeepOpen),
        (response("", b"moved 3\n"), After::KeepOpen),
    ])
    .await;
    let rec = Recorder::default();
    let http: config::http::HttpClientConfig = config::http::HttpClientConfig {
        follow_redirects: true,
        basic_auth: Some(config::http::BasicAuth {
            username: "u".to_string(),
            password: config::Secret("p".to_string()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let (mut sl, t) = scrape_loop(&srv, "/m", http, Limits::default(), &rec);
    sl.scrape_and_report().await;
    assert_eq!(health(&t), (Health::Up, String::new()));
    assert_eq!(scraped(&rec), vec![("moved".to_string(), 3.0)]);
    let reqs = srv.requests.lock().clone();
    assert_eq!(reqs.len(), 3);
    for r in &reqs {
        assert!(r.to_ascii_lowercase().contains("authorization: basic dtpw\r\n"), "{r}");
    }
    assert!(reqs[2].starts_with("GET /other HTTP/1.1"), "{}", reqs[2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_read_until_close_is_held_to_the_size_limit_however_it_arrives() {
    // Without a length, the body ends where the server closes; all of it may come in the read
    // that brings the head, or after it.
    let big: Vec<u8> = (0..300).flat_map(|i| format!("m_{i} {i}\n").into_bytes()).collect();
    let mut until_close = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
    until_close.extend_from_slice(&big);
    let srv =
        Scripted::start(vec![(until_close.clone(), After::Close), (until_close, After::Trickle)])
            .await;
    let rec = Recorder::default();
    let limits = Limits { body_size_limit: 1000, ..Default::default() };
    let (mut sl, t) = scrape_loop(&srv, "/m", Default::default(), limits, &rec);
    for round in 0..2 {
        sl.scrape_and_report().await;
        let want = (Health::Down, "body size limit exceeded".to_string());
        assert_eq!(health(&t), want, "round {round}");
        assert!(scraped(&rec).is_empty(), "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_of_exactly_the_size_limit_fails_as_in_prometheus() {
    // Prometheus reads at most body_size_limit bytes and fails the scrape once it has read that
    // many: a body of exactly the limit fails, one a byte shorter passes, whatever its framing
    // and compression, through the direct client or (after a redirect) reqwest.
    let sized = |n: usize| {
        let mut b = format!("# {}\n", "x".repeat(n - 7)).into_bytes();
        b.extend_from_slice(b"a 1\n");
        assert_eq!(b.len(), n);
        b
    };
    let redirect = b"HTTP/1.1 302 Found\r\nLocation: /other\r\nContent-Length: 0\r\n\r\n";
    let mut script = Vec::new();
    for n in [1000, 999] {
        let body = sized(n);
        let mut until_close = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
        until_close.extend_from_slice(&body);
        script.extend([
            (response("", &body), After::KeepOpen),
            (chunked("", &body, 100), After::KeepOpen),
            (response("Content-Encoding: gzip\r\n", &gzip(&body)), After::KeepOpen),
            (until_close, After::Close),
            (redirect.to_vec(), After::KeepOpen),
            (response("", &body), After::KeepOpen),
        ]);
    }
    let srv = Scripted::start(script).await;
    let rec = Recorder::default();
    let limits = Limits { body_size_limit: 1000, ..Default::default() };
    let http = config::http::HttpClientConfig { follow_redirects: true, ..Default::default() };
    let (mut sl, t) = scrape_loop(&srv, "/m", http, limits, &rec);
    for round in 0..5 {
        sl.scrape_and_report().await;
        let want = (Health::Down, "body size limit exceeded".to_string());
        assert_eq!(health(&t), want, "round {round}");
    }
    for round in 0..5 {
        sl.scrape_and_report().await;
        assert_eq!(health(&t), (Health::Up, String::new()), "round {round}");
        assert_eq!(scraped(&rec), vec![("a".to_string(), 1.0)], "round {round}");
    }
}

/// A failed scrape's error names the status as Go's `Response.Status` does, which Prometheus
/// reports: the server's own reason phrase, or the code alone when there is none; through
/// the direct client and through the general one (taken when a proxy is set; the scripted
/// server answers the proxy's requests itself).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_errors_carry_the_server_s_reason_phrase() {
    for proxied in [false, true] {
        let srv = Scripted::start(vec![
            (b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n".to_vec(), After::KeepOpen),
            (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(), After::KeepOpen),
            (b"HTTP/1.1 599 \r\nContent-Length: 0\r\n\r\n".to_vec(), After::KeepOpen),
        ])
        .await;
        let mut http = config::http::HttpClientConfig::default();
        if proxied {
            http.proxy_url = Some(format!("http://{}", srv.addr));
        }
        let rec = Recorder::default();
        let (mut sl, t) = scrape_loop(&srv, "/m", http, Limits::default(), &rec);
        let mut errors = Vec::new();
        for _ in 0..3 {
            sl.scrape_and_report().await;
            errors.push(health(&t).1);
        }
        let want = ["503 Busy", "404 Not Found", "599"]
            .map(|s| format!("server returned HTTP status {s}"));
        assert_eq!(errors, want, "proxied: {proxied}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_bad_and_oversized_bodies_fail_the_scrape() {
    let big: Vec<u8> = (0..300).flat_map(|i| format!("m_{i} {i}\n").into_bytes()).collect();
    let mut truncated = response("", b"a 1\nb 2\n");
    truncated.truncate(truncated.len() - 3);
    let srv = Scripted::start(vec![
        (truncated, After::Close),
        (chunked("", &big, 100), After::KeepOpen),
        (response("Content-Encoding: gzip\r\n", &gzip(&big)), After::KeepOpen),
        (response("", &big), After::KeepOpen),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(), After::KeepOpen),
        (b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n".to_vec(), After::KeepOpen),
    ])
    .await;
    let rec = Recorder::default();
    let limits = Limits { body_size_limit: 1000, ..Default::default() };
    let (mut sl, t) = scrape_loop(&srv, "/m", Default::default(), limits, &rec);
    let mut errors = Vec::new();
    for _ in 0..6 {
        sl.scrape_and_report().await;
        let (h, e) = health(&t);
        assert_eq!(h, Health::Down, "{e}");
        assert!(scraped(&rec).is_empty(), "{e}");
        errors.push(e);
    }
    assert!(errors[0].contains("unexpected EOF"), "{}", errors[0]);
    for e in &errors[1..4] {
        assert_eq!(e, "body size limit exceeded");
    }
    assert!(errors[4].contains("malformed chunked encoding"), "{}", errors[4]);
    // As Go's `Response.Status`, which Prometheus reports: the server's reason phrase.
    assert_eq!(errors[5], "server returned HTTP status 503 Busy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announced_length_is_not_trusted_for_an_allocation() {
    // Without a body size limit, a server announcing a petabyte and sending a few bytes fails
    // the scrape once it closes, plain or compressed: the buffer grows with the bytes that
    // come, as Go's io.Copy into Prometheus' buffer does, not with the announced length (room
    // for a petabyte cannot be allocated and aborts the process).
    let lying = |extra: &str, body: &[u8]| {
        let mut r = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{extra}\r\n",
            1u64 << 50
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    };
    let srv = Scripted::start(vec![
        (lying("", b"a 1\n"), After::Close),
        (lying("Content-Encoding: gzip\r\n", &gzip(b"a 1\n")), After::Close),
        (response("", b"a 2\n"), After::KeepOpen),
    ])
    .await;
    let rec = Recorder::default();
    let (mut sl, t) = scrape_loop(&srv, "/m", Default::default(), Limits::default(), &rec);
    for round in 0..2 {
        sl.scrape_and_report().await;
        let (h, e) = health(&t);
        assert_eq!(h, Health::Down, "round {round}: {e}");
        assert!(e.ends_with("reading body: unexpected EOF"), "round {round}: {e}");
        assert!(scraped(&rec).is_empty(), "round {round}");
    }
    sl.scrape_and_report().await;
    assert_eq!(health(&t), (Health::Up, String::new()));
    assert_eq!(scraped(&rec), vec![("a".to_string(), 2.0)]);
}

/// A chunked response of `body` in chunks of `piece` bytes, each size line carrying a chunk
/// extension of `ext` bytes.
fn chunked_with_extensions(body: &[u8], piece: usize, ext: usize) -> Vec<u8> {
    let mut r = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for c in body.chunks(piece) {
        r.extend_from_slice(format!("{:x};{}\r\n", c.len(), "e".repeat(ext - 1)).as_bytes());
        r.extend_from_slice(c);
        r.extend_from_slice(b"\r\n");
    }
    r.extend_from_slice(b"0\r\n\r\n");
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunk_framing_is_held_to_go_s_limits_and_not_kept_in_the_buffer() {
    // As Go's net/http, which Prometheus scrapes with: a chunk-size line of 4096 bytes or
    // more fails the scrape, and so does framing outweighing the data by over 16 KiB (16 bytes
    // a chunk and twice its data are allowed); byte-sized chunks are fine, within the body
    // size limit however much framing they bring.
    let body = b"a 1\nb 2\nc 3\nd 4\ne 5\n";
    let small: Vec<u8> = (0..90).flat_map(|i| format!("m_{i} {i}\n").into_bytes()).collect();
    assert!(small.len() < 1000 && small.len() * 6 > 1000);
    let srv = Scripted::start(vec![
        (chunked_with_extensions(body, body.len(), 5000), After::KeepOpen),
        (chunked_with_extensions(body, 1, 1000), After::KeepOpen),
        (chunked_with_extensions(body, 1, 100), After::KeepOpen),
        (chunked("", &small, 1), After::KeepOpen),
    ])
    .await;
    let rec = Recorder::default();
    let limits = Limits { body_size_limit: 1000, ..Default::default() };
    let (mut sl, t) = scrape_loop(&srv, "/m", Default::default(), limits, &rec);
    for want in
        ["malformed chunked encoding: line too long", "chunked encoding contains too much non-data"]
    {
        sl.scrape_and_report().await;
        let (h, e) = health(&t);
        assert_eq!(h, Health::Down, "{e}");
        assert!(e.ends_with(&format!("reading body: {want}")), "{e}");
        assert!(scraped(&rec).is_empty(), "{e}");
    }
    sl.scrape_and_report().await;
    assert_eq!(health(&t), (Health::Up, String::new()));
    assert_eq!(scraped(&rec).len(), 5);
    sl.scrape_and_report().await;
    assert_eq!(health(&t), (Health::Up, String::new()));
    assert_eq!(scraped(&rec).len(), 90);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_body_is_held_to_the_size_limit_as_it_arrives() {
    // Prometheus decompresses as it reads and stops at body_size_limit decoded bytes. Here each
    // response's compressed bytes decode far past the limit, and the server then holds the
    // connection open with more announced (a length, chunks without the last, a body until
    // close): the scrape fails on the limit at once, whatever the framing, without waiting for
    // (or holding) the rest of the compressed stream.
    let big: Vec<u8> = (0..3000).flat_map(|i| format!("m_{i} {i}\n").into_bytes()).collect();
    let gz = gzip(&big);
    let head = |framing: &str| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n{framing}\r\n"
        )
        .into_bytes()
    };
    let mut sized = head(&format!("Content-Length: {}\r\n", gz.len() + 1_000_000));
    sized.extend_from_slice(&gz);
    let mut unfinished = chunked("Content-Encoding: gzip\r\n", &gz, 500);
    unfinished.truncate(unfinished.len() - b"0\r\n\r\n".len());
    let mut until_close = head("Connection: close\r\n");
    until_close.extend_from_slice(&gz);
    let srv = Scripted::start(vec![
        (sized, After::KeepOpen),
        (unfinished, After::KeepOpen),
        (until_close, After::KeepOpen),
        (response("Content-Encoding: gzip\r\n", &gzip(b"a 1\n")), After::KeepOpen),
    ])
    .await;
    let rec = Recorder::default();
    let limits = Limits { body_size_limit: 1000, ..Default::default() };
    let (mut sl, t) = scrape_loop(&srv, "/m", Default::default(), limits, &rec);
    for round in 0..3 {
        sl.scrape_and_report().await;
        let want = (Health::Down, "body size limit exceeded".to_string());
        assert_eq!(health(&t), want, "round {round}");
        let committed = rec.take_committed();
        let up: Vec<f64> = committed.iter().filter(|(n, _)| n == "up").map(|s| s.1).collect();
        assert_eq!(up, vec![0.0], "round {round}");
        let mut others = committed.iter().filter(|(n, _)| n != "up" && !n.starts_with("scrape_"));
        assert!(others.all(|(_, v)| v.is_nan()), "round {round}");
    }
    sl.scrape_and_report().await;
    assert_eq!(health(&t), (Health::Up, String::new()));
    assert_eq!(scraped(&rec), vec![("a".to_string(), 1.0)]);
}
