//! The series cache of one scrape loop, driven scrape by scrape: staleness markers for series
//! that vanish (also when the same series comes back under a differently written raw line),
//! duplicates caught whether they repeat a line or spell the same labels differently, a failed
//! scrape leaving the previous series as they were, and a stopped target marking them stale.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::series_of;
use model::Labels;
use model::value::is_stale_nan;
use scrape::scrape_loop::{Limits, LoopOptions, ScrapeLoop};
use scrape::target::Target;
use scrape::{Clock, SystemClock};
use storage::MemStorage;

const CT: &str = "text/plain; version=0.0.4";

fn scrape_loop(storage: &MemStorage) -> ScrapeLoop {
    let labels = Labels::new([
        ("__address__", "127.0.0.1:9100"),
        ("instance", "127.0.0.1:9100"),
        ("job", "node"),
    ]);
    let target = Target::new(labels, Labels::empty(), &Default::default());
    let opts = LoopOptions {
        interval: std::time::Duration::from_secs(15),
        timeout: std::time::Duration::from_secs(10),
        honor_labels: false,
        honor_timestamps: true,
        metric_relabel: Vec::new(),
        limits: Limits::default(),
        http: Default::default(),
        compression: true,
    };
    let app: Arc<dyn storage::Appendable> = Arc::new(storage.clone());
    ScrapeLoop::new(
        target,
        Arc::new(opts),
        reqwest::Client::new(),
        app,
        Arc::new(SystemClock) as Arc<dyn Clock>,
    )
}

/// Values of the series whose labels string contains `needle` (exactly one such series).
fn values(storage: &MemStorage, needle: &str) -> Vec<f64> {
    let found: Vec<_> =
        series_of(storage, "node").into_iter().filter(|(l, _)| l.contains(needle)).collect();
    assert_eq!(found.len(), 1, "{needle}: {found:?}");
    found.into_iter().next().unwrap().1
}

fn stale_count(v: &[f64]) -> usize {
    v.iter().filter(|x| is_stale_nan(**x)).count()
}

#[test]
fn vanished_series_get_one_marker_and_reordered_lines_none() {
    let storage = MemStorage::new();
    let mut sl = scrape_loop(&storage);
    sl.append_scrape(b"a{x=\"1\",y=\"2\"} 1\nb 1\nc 1\n", CT, 1000).unwrap();
    // `a` written with its labels in another order is the same series; `b` vanished.
    sl.append_scrape(b"c 2\na{y=\"2\",x=\"1\"} 2\n", CT, 2000).unwrap();
    sl.append_scrape(b"c 3\na{x=\"1\",y=\"2\"} 3\n", CT, 3000).unwrap();
    let a = values(&storage, "\"a\"");
    assert_eq!(a, vec![1.0, 2.0, 3.0]);
    let b = values(&storage, "\"b\"");
    assert_eq!(b.len(), 2);
    assert!(is_stale_nan(b[1]));
    // `b` returns, then vanishes again: a second marker.
    sl.append_scrape(b"b 4\nc 4\n", CT, 4000).unwrap();
    sl.append_scrape(b"c 5\n", CT, 5000).unwrap();
    let b = values(&storage, "\"b\"");
    assert_eq!(stale_count(&b), 2, "{b:?}");
    let a = values(&storage, "\"a\"");
    assert_eq!(stale_count(&a), 1, "{a:?}");
    assert_eq!(stale_count(&values(&storage, "\"c\"")), 0);
}

#[test]
fn duplicates_are_caught_however_they_are_spelled() {
    let storage = MemStorage::new();
    let mut sl = scrape_loop(&storage);
    // The same line twice.
    let e = sl.append_scrape(b"a 1\nb 1\na 2\n", CT, 1000).unwrap_err();
    assert!(e.contains("duplicate"), "{e}");
    // The same labels in two orders, both new.
    let e =
        sl.append_scrape(b"m{x=\"1\",y=\"2\"} 1\nm{y=\"2\",x=\"1\"} 1\n", CT, 2000).unwrap_err();
    assert!(e.contains("duplicate"), "{e}");
    // Both spellings are cached now; each alone is fine, together a duplicate again.
    sl.append_scrape(b"m{y=\"2\",x=\"1\"} 3\n", CT, 3000).unwrap();
    sl.append_scrape(b"m{x=\"1\",y=\"2\"} 4\n", CT, 4000).unwrap();
    let e =
        sl.append_scrape(b"m{y=\"2\",x=\"1\"} 5\nm{x=\"1\",y=\"2\"} 5\n", CT, 5000).unwrap_err();
    assert!(e.contains("duplicate"), "{e}");
    // Explicit timestamps may repeat a series.
    sl.append_scrape(b"t 1 100\nt 2 200\n", CT, 6000).unwrap();
    // Nothing of the failed scrapes was kept.
    assert_eq!(values(&storage, "\"m\"").iter().filter(|v| !is_stale_nan(**v)).count(), 2);
    assert!(series_of(&storage, "node").iter().all(|(l, _)| !l.contains("\"b\"")));
}

#[test]
fn a_failed_scrape_keeps_the_previous_series_and_stopping_marks_them_once() {
    let storage = MemStorage::new();
    let mut sl = scrape_loop(&storage);
    sl.append_scrape(b"a 1\nb 1\n", CT, 1000).unwrap();
    // A failed scrape writes nothing and leaves the previous series as they were.
    assert!(sl.append_scrape(b"a 2\nnot a metric {\n", CT, 2000).is_err());
    sl.append_scrape(b"a 3\n", CT, 3000).unwrap();
    // The target goes away: its series of the last scrape get one marker.
    sl.mark_all_stale(4000);
    let a = values(&storage, "\"a\"");
    assert_eq!(a.len(), 3, "{a:?}");
    assert_eq!(a[..2], [1.0, 3.0]);
    assert!(is_stale_nan(a[2]));
    let b = values(&storage, "\"b\"");
    assert_eq!(b.len(), 2, "{b:?}");
    assert!(is_stale_nan(b[1]));
}
