//! The series cache of one scrape loop, driven scrape by scrape: staleness markers for series
//! that vanish (also when the same series comes back under a differently written raw line),
//! duplicates (the first sample kept) whether they repeat a line or spell the labels differently, a failed
//! scrape leaving the previous series as they were, failing scrapes with new series flushing
//! the cache once it has grown, and a stopped target marking them stale.
//! Lines found through the previous body's order (the parser's hint) must behave exactly as
//! lines found by lookup: bodies reordered, growing, shrinking, a series changing labels at the
//! same position, lines differing only in the value, and a body switching formats.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::looping;
use common::series_of;
use model::Labels;
use model::value::is_stale_nan;
use scrape::scrape_loop::{LoopOptions, ScrapeLoop};
use scrape::target::Target;
use storage::MemStorage;

const CT: &str = "text/plain; version=0.0.4";

fn scrape_loop(storage: &MemStorage) -> ScrapeLoop {
    let labels = Labels::new([
        ("__address__", "127.0.0.1:9100"),
        ("instance", "127.0.0.1:9100"),
        ("job", "node"),
    ]);
    let target = Target::new(labels, Labels::empty(), &Default::default());
    let opts = LoopOptions { compression: true, ..looping::options(Duration::from_secs(10)) };
    looping::scrape_loop(target, opts, Arc::new(storage.clone()))
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
fn duplicates_keep_the_first_sample_however_they_are_spelled() {
    // As Prometheus 2.42: the scrape succeeds, the first sample of the series is kept.
    let storage = MemStorage::new();
    let mut sl = scrape_loop(&storage);
    // The same line twice.
    sl.append_scrape(b"a 1\nb 1\na 2\n", CT, 1000).unwrap();
    assert_eq!(values(&storage, "\"a\""), [1.0]);
    // The same labels in two orders, both new.
    sl.append_scrape(b"m{x=\"1\",y=\"2\"} 1\nm{y=\"2\",x=\"1\"} 2\n", CT, 2000).unwrap();
    // Both spellings are cached now; each alone is fine, together the first wins again.
    sl.append_scrape(b"m{y=\"2\",x=\"1\"} 3\n", CT, 3000).unwrap();
    sl.append_scrape(b"m{x=\"1\",y=\"2\"} 4\n", CT, 4000).unwrap();
    sl.append_scrape(b"m{y=\"2\",x=\"1\"} 5\nm{x=\"1\",y=\"2\"} 6\n", CT, 5000).unwrap();
    // Explicit timestamps may repeat a series.
    sl.append_scrape(b"t 1 100\nt 2 200\n", CT, 6000).unwrap();
    let m: Vec<f64> = values(&storage, "\"m\"").into_iter().filter(|v| !is_stale_nan(*v)).collect();
    assert_eq!(m, [1.0, 3.0, 4.0, 5.0]);
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

#[test]
fn failing_scrapes_with_new_series_do_not_grow_the_cache_without_bound() {
    let storage = MemStorage::new();
    let mut sl = scrape_loop(&storage);
    sl.append_scrape(b"a 1\nb 1\n", CT, 1000).unwrap();
    for i in 0..6 {
        // Each failing body holds 1,500 series no other scrape has.
        let mut body: String = (0..1500).map(|j| format!("new_{i}_{j} 1\n")).collect();
        body.push_str("not a metric {\n");
        assert!(sl.append_scrape(body.as_bytes(), CT, 2000 + i).is_err());
        // More than twice the last successful scrape's entries plus 1,000: the entries of
        // earlier failed scrapes leave, the last successful scrape's stay.
        assert!(sl.cached_series() <= 1502, "after failure {i}: {}", sl.cached_series());
    }
    // The series of the last successful scrape still get their staleness markers.
    sl.append_scrape(b"a 3\n", CT, 9000).unwrap();
    // As every entry, the last failed scrape's leave once two more scrapes lacked them.
    sl.append_scrape(b"a 4\n", CT, 10000).unwrap();
    assert!(sl.cached_series() <= 1502, "{}", sl.cached_series());
    sl.append_scrape(b"a 5\n", CT, 11000).unwrap();
    assert_eq!(sl.cached_series(), 1);
    assert_eq!(values(&storage, "\"a\""), [1.0, 3.0, 4.0, 5.0]);
    let b = values(&storage, "\"b\"");
    assert_eq!(b.len(), 2, "{b:?}");
    assert!(is_stale_nan(b[1]));
    assert!(series_of(&storage, "node").iter().all(|(l, _)| !l.contains("new_")));
}

/// Every series of the target as (labels, values), sorted by labels.
fn all(storage: &MemStorage) -> Vec<(String, Vec<f64>)> {
    let mut v = series_of(storage, "node");
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn a_series_changing_labels_at_the_same_position_is_a_new_series() {
    let storage = MemStorage::new();
    let mut sl = scrape_loop(&storage);
    let s = sl.append_scrape(b"a{x=\"1\"} 1\nb 1\n", CT, 1000).unwrap();
    assert_eq!(s.series_added, 2);
    // The label value grows by one character: the old line's bytes are a prefix of the new.
    let s = sl.append_scrape(b"a{x=\"10\"} 2\nb 2\n", CT, 2000).unwrap();
    assert_eq!((s.scraped, s.series_added), (2, 1));
    let s = sl.append_scrape(b"a{x=\"10\",y=\"2\"} 3\nb 3\n", CT, 3000).unwrap();
    assert_eq!((s.scraped, s.series_added), (2, 1));
    let x1 = values(&storage, "x=\"1\"");
    assert_eq!(x1.len(), 2);
    assert_eq!(x1[0], 1.0);
    assert!(is_stale_nan(x1[1]));
    let x10 = values(&storage, "x=\"10\"}");
    assert_eq!(x10[0], 2.0);
    assert!(is_stale_nan(x10[1]));
    assert_eq!(values(&storage, "y=\"2\""), vec![3.0]);
    assert_eq!(values(&storage, "\"b\""), vec![1.0, 2.0, 3.0]);
}

#[test]
fn lines_differing_only_in_the_value_append_every_value_and_add_no_series() {
    let storage = MemStorage::new();
    let mut sl = scrape_loop(&storage);
    let body =
        |k: u32| format!("# TYPE a counter\na{{x=\"1\"}} {k}\nb {}\nc 7 {}\n", k * 2, k * 1000);
    let s = sl.append_scrape(body(1).as_bytes(), CT, 1000).unwrap();
    assert_eq!(s.series_added, 3);
    for k in 2..6 {
        let s = sl.append_scrape(body(k).as_bytes(), CT, i64::from(k) * 1000).unwrap();
        assert_eq!((s.scraped, s.post_relabel, s.series_added), (3, 3, 0));
    }
    assert_eq!(values(&storage, "\"a\""), vec![1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(values(&storage, "\"b\""), vec![2.0, 4.0, 6.0, 8.0, 10.0]);
    // `c` carries its own (explicit) timestamps.
    assert_eq!(values(&storage, "\"c\""), vec![7.0; 5]);
}

#[test]
fn bodies_growing_shrinking_and_reordering_keep_values_and_markers_right() {
    let storage = MemStorage::new();
    let mut sl = scrape_loop(&storage);
    let scrapes: [(&[u8], u64); 6] = [
        (b"a 1\nb 1\nc 1\n", 3),
        // Grows at the end and in the middle.
        (b"a 2\nb 2\nn 2\nc 2\nd 2\n", 2),
        // Shrinks: b and d vanish.
        (b"a 3\nn 3\nc 3\n", 0),
        // A line in front, b comes back, reversed order.
        (b"x 4\nc 4\nn 4\nb 4\na 4\n", 1),
        // Back to the first order.
        (b"a 5\nb 5\nc 5\nn 5\nx 5\n", 0),
        (b"", 0),
    ];
    for (i, (body, added)) in scrapes.iter().enumerate() {
        let s = sl.append_scrape(body, CT, (i as i64 + 1) * 1000).unwrap();
        assert_eq!(s.series_added, *added, "scrape {i}");
    }
    let got: Vec<(String, Vec<String>)> = all(&storage)
        .into_iter()
        .map(|(l, v)| {
            let name = l.split('"').nth(1).unwrap().to_string();
            let v = v.iter().map(|x| if is_stale_nan(*x) { "S".into() } else { x.to_string() });
            (name, v.collect())
        })
        .collect();
    let want = [
        ("a", "1 2 3 4 5 S"),
        ("b", "1 2 S 4 5 S"),
        ("c", "1 2 3 4 5 S"),
        ("d", "2 S"),
        ("n", "2 3 4 5 S"),
        ("x", "4 5 S"),
    ];
    let want: Vec<(String, Vec<String>)> = want
        .iter()
        .map(|(n, v)| (n.to_string(), v.split(' ').map(String::from).collect()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn duplicates_found_through_the_previous_order_keep_the_first_sample() {
    let storage = MemStorage::new();
    let mut sl = scrape_loop(&storage);
    // With explicit timestamps a series may repeat: the order a, b, a is the hint now.
    sl.append_scrape(b"a 1 1000\nb 1\na 2 2000\n", CT, 3000).unwrap();
    // Without them, the third line (found through b's link) is a duplicate: dropped.
    sl.append_scrape(b"a 5\nb 5\na 6\n", CT, 4000).unwrap();
    sl.append_scrape(b"a 7\nb 7\nb 8\n", CT, 5000).unwrap();
    assert_eq!(values(&storage, "\"a\""), vec![1.0, 2.0, 5.0, 7.0]);
    assert_eq!(values(&storage, "\"b\""), vec![1.0, 5.0, 7.0]);
}

#[test]
fn a_body_switching_formats_is_parsed_by_the_new_format_rules() {
    const OM: &str = "application/openmetrics-text; version=1.0.0";
    let storage = MemStorage::new();
    let mut sl = scrape_loop(&storage);
    // Spaces inside the label block are valid text format, not OpenMetrics.
    sl.append_scrape(b"a{x = \"1\"} 1\n", CT, 1000).unwrap();
    let e = sl.append_scrape(b"a{x = \"1\"} 2\n# EOF\n", OM, 2000).unwrap_err();
    assert!(e.contains("expected equal"), "{e}");
    sl.append_scrape(b"a{x=\"1\"} 3\n# EOF\n", OM, 3000).unwrap();
    sl.append_scrape(b"a{x=\"1\"} 4\n# EOF\n", OM, 4000).unwrap();
    assert_eq!(values(&storage, "\"a\""), vec![1.0, 3.0, 4.0]);
}

#[test]
fn a_target_replacing_all_its_series_keeps_finding_the_new_ones() {
    let storage = MemStorage::new();
    let mut sl = scrape_loop(&storage);
    let body = |prefix: &str, k: usize| {
        let lines = (0..3000).map(|i| format!("{prefix}{{i=\"{i}\"}} {k}\n"));
        lines.collect::<String>()
    };
    assert_eq!(sl.append_scrape(body("old", 1).as_bytes(), CT, 1000).unwrap().series_added, 3000);
    // The old series leave the cache after two scrapes without them (their keys are
    // compacted away); the new ones are found by their order and by lookup from then on.
    for k in 2..7 {
        let s = sl.append_scrape(body("new", k).as_bytes(), CT, k as i64 * 1000).unwrap();
        assert_eq!(s.series_added, if k == 2 { 3000 } else { 0 }, "scrape {k}");
    }
    let mut reversed: Vec<String> = body("new", 7).lines().map(String::from).collect();
    reversed.reverse();
    let s = sl.append_scrape((reversed.join("\n") + "\n").as_bytes(), CT, 7000).unwrap();
    assert_eq!((s.scraped, s.series_added), (3000, 0));
    // The old series: one value and one staleness marker.
    assert_eq!(values(&storage, "\"old\", i=\"2999\"").len(), 2);
    let new = values(&storage, "\"new\", i=\"17\",");
    assert_eq!(new, vec![2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
}
