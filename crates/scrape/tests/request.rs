//! What a scrape sends (Prometheus' request headers, built once per loop) and that loops sharing
//! the process' body buffers each parse their own body, whatever size the previous user left.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::looping;
use common::recorder::Recorder;
use common::{Resp, Server};
use scrape::scrape_loop::{LoopOptions, ScrapeLoop};

fn scrape_loop(srv: &Server, path: &str, compression: bool, rec: &Recorder) -> ScrapeLoop {
    let opts = LoopOptions { compression, ..looping::options(Duration::from_millis(2500)) };
    looping::scrape_loop(looping::http_target(srv.addr, path), opts, Arc::new(rec.clone()))
}

/// The value of header `name` (case-insensitive) in a raw request head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_send_prometheus_headers() {
    let srv = Server::start().await;
    srv.set("/m", Resp::text("a 1\n"));
    let rec = Recorder::default();
    let mut plain = scrape_loop(&srv, "/m", false, &rec);
    let mut gzip = scrape_loop(&srv, "/m", true, &rec);
    for _ in 0..2 {
        plain.scrape_and_report().await;
        gzip.scrape_and_report().await;
    }
    let heads = srv.requests.lock().clone();
    assert_eq!(heads.len(), 4, "{heads:?}");
    for (i, head) in heads.iter().enumerate() {
        assert!(head.starts_with("GET /m HTTP/1.1\r\n"), "{head}");
        assert_eq!(header(head, "accept"), Some(textparse::SCRAPE_ACCEPT_HEADER), "{head}");
        assert!(header(head, "user-agent").unwrap().starts_with("Pharos/"), "{head}");
        assert_eq!(header(head, "x-prometheus-scrape-timeout-seconds"), Some("2.5"), "{head}");
        let encoding = header(head, "accept-encoding");
        if i % 2 == 0 {
            assert_eq!(encoding, Some("identity"), "{head}");
        } else {
            assert!(encoding.unwrap().contains("gzip"), "{head}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loops_sharing_buffers_read_only_their_own_body() {
    let srv = Server::start().await;
    let big: String = (0..2000).map(|i| format!("big_{i} {i}\n")).collect();
    srv.set("/big", Resp::text(&big));
    srv.set("/small", Resp::text("small 7\n"));
    let (rec_big, rec_small) = (Recorder::default(), Recorder::default());
    let mut big_loop = scrape_loop(&srv, "/big", false, &rec_big);
    let mut small_loop = scrape_loop(&srv, "/small", true, &rec_small);
    for round in 0..3 {
        big_loop.scrape_and_report().await;
        small_loop.scrape_and_report().await;
        let small = rec_small.take_committed();
        assert_eq!(small[0], ("small".to_string(), 7.0), "round {round}");
        assert_eq!(small[1], ("up".to_string(), 1.0), "round {round}");
        assert_eq!(small[3], ("scrape_samples_scraped".to_string(), 1.0), "round {round}");
        let big = rec_big.take_committed();
        assert_eq!(big.len(), 2005, "round {round}");
        assert_eq!(big[1999], ("big_1999".to_string(), 1999.0), "round {round}");
        assert_eq!(big[2002], ("scrape_samples_scraped".to_string(), 2000.0), "round {round}");
    }
}
