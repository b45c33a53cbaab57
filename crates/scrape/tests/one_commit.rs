//! One scrape, one commit, as in Prometheus: a scrape's samples, the staleness markers of
//! series it lacks and the five report series go through one appender; a failed scrape rolls
//! its samples back and commits the markers and report series instead.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::looping;
use common::recorder::{Batch, Recorder};
use common::{Resp, Server};
use model::value::is_stale_nan;

fn names(b: &Batch) -> Vec<&str> {
    b.samples.iter().map(|(n, _)| n.as_str()).collect()
}

const REPORT: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_markers_and_report_series_share_one_commit() {
    let srv = Server::start().await;
    srv.set("/m", Resp::text("a 1\nb 2\nc 3\n"));
    let rec = Recorder::default();
    let opts = looping::options(Duration::from_secs(5));
    let target = looping::http_target(srv.addr, "/m");
    let mut sl = looping::scrape_loop(target, opts, Arc::new(rec.clone()));
    let take = || std::mem::take(&mut *rec.0.lock());

    sl.scrape_and_report().await;
    let batches = take();
    assert_eq!(batches.len(), 1, "{batches:?}");
    assert!(batches[0].committed);
    let mut want = vec!["a", "b", "c"];
    want.extend(REPORT);
    assert_eq!(names(&batches[0]), want);
    assert_eq!(batches[0].samples[3], ("up".to_string(), 1.0));
    assert_eq!(batches[0].samples[5], ("scrape_samples_scraped".to_string(), 3.0));

    // b vanishes: its marker is in the same commit.
    srv.set("/m", Resp::text("a 1\nc 3\n"));
    sl.scrape_and_report().await;
    let batches = take();
    assert_eq!(batches.len(), 1, "{batches:?}");
    let mut want = vec!["a", "c", "b"];
    want.extend(REPORT);
    assert_eq!(names(&batches[0]), want);
    assert!(is_stale_nan(batches[0].samples[2].1));

    // A body that fails halfway: its samples are rolled back, then the markers of a and c and
    // the report series (up 0) are committed together.
    srv.set("/m", Resp::text("a 2\nc 4\nnot a { metric\n"));
    sl.scrape_and_report().await;
    let batches = take();
    assert_eq!(batches.len(), 2, "{batches:?}");
    assert!(!batches[0].committed);
    assert_eq!(names(&batches[0]), ["a", "c"]);
    assert!(batches[1].committed);
    let markers: Vec<&str> = names(&batches[1])[..2].to_vec();
    assert!(markers == ["a", "c"] || markers == ["c", "a"], "{markers:?}");
    assert!(batches[1].samples[..2].iter().all(|(_, v)| is_stale_nan(*v)));
    assert_eq!(&names(&batches[1])[2..], REPORT);
    assert_eq!(batches[1].samples[2], ("up".to_string(), 0.0));

    // A failed fetch: nothing to roll back, nothing left to mark, the report series alone.
    srv.set("/m", Resp { status: 500, ..Resp::text("boom\n") });
    sl.scrape_and_report().await;
    let batches = take();
    assert_eq!(batches.len(), 1, "{batches:?}");
    assert!(batches[0].committed);
    assert_eq!(names(&batches[0]), REPORT);
}
