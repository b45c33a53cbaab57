//! `Parser::next_hinted`: a sample line that starts with the hinted series bytes skips label
//! tokenising, and whatever the hint, the entries, values, timestamps, exemplars and errors are
//! exactly those of `Parser::next`.
#![allow(clippy::unwrap_used)]

use textparse::{EntryKind, Format, Parser};

const NODE: &[u8] = include_bytes!("fixtures/node_exporter.txt");

/// One sample line as `next` reports it: series bytes, value bits, timestamp, exemplar.
type Sample = (Vec<u8>, u64, Option<i64>, Option<String>);

fn sample(p: &Parser<'_>) -> Sample {
    let ex = p.exemplar().map(|e| format!("{:?}/{}/{:?}", e.labels, e.value, e.timestamp));
    (p.series().to_vec(), p.value().to_bits(), p.timestamp(), ex)
}

/// Every sample of `body` with plain `next`, or the error.
fn plain(body: &[u8], format: Format) -> Result<Vec<Sample>, String> {
    let mut p = Parser::new(body, format);
    let mut out = Vec::new();
    while let Some(kind) = p.next().map_err(|e| e.to_string())? {
        if kind == EntryKind::Series {
            out.push(sample(&p));
        }
    }
    Ok(out)
}

/// Every sample of `body`, the n-th sample line hinted with `hints[n]` (empty past the end),
/// and how many hints matched.
fn hinted(body: &[u8], format: Format, hints: &[Vec<u8>]) -> Result<(Vec<Sample>, usize), String> {
    let mut p = Parser::new(body, format);
    let mut out = Vec::new();
    let mut matched = 0;
    loop {
        let hint = hints.get(out.len()).map(Vec::as_slice).unwrap_or(b"");
        let Some(kind) = p.next_hinted(hint).map_err(|e| e.to_string())? else { break };
        if kind != EntryKind::Series {
            assert!(!p.hint_matched());
            continue;
        }
        if p.hint_matched() {
            matched += 1;
            assert_eq!(p.series(), hint);
            assert_eq!(p.metric_name(), "");
            assert_eq!(p.labels().count(), 0);
        }
        out.push(sample(&p));
    }
    Ok((out, matched))
}

fn series_of(samples: &[Sample]) -> Vec<Vec<u8>> {
    samples.iter().map(|s| s.0.clone()).collect()
}

#[test]
fn a_real_body_hinted_by_itself_matches_every_line_and_parses_the_same() {
    let want = plain(NODE, Format::Text).unwrap();
    let hints = series_of(&want);
    let (got, matched) = hinted(NODE, Format::Text, &hints).unwrap();
    assert_eq!(got, want);
    assert_eq!(matched, want.len());
}

#[test]
fn hints_shifted_by_one_line_match_nothing_and_change_nothing() {
    let want = plain(NODE, Format::Text).unwrap();
    let mut hints = series_of(&want);
    hints.rotate_left(1);
    let (got, matched) = hinted(NODE, Format::Text, &hints).unwrap();
    assert_eq!(got, want);
    assert_eq!(matched, 0);
}

#[test]
fn lines_that_differ_only_in_the_value_or_timestamp_match() {
    let body = b"a{x=\"1\"} 1\nb 2 1000\nc{y=\"\\\"q\\\"\"} NaN\n";
    let hints = vec![b"a{x=\"1\"}".to_vec(), b"b".to_vec(), b"c{y=\"\\\"q\\\"\"}".to_vec()];
    let (got, matched) = hinted(body, Format::Text, &hints).unwrap();
    assert_eq!(matched, 3);
    assert_eq!(got, plain(body, Format::Text).unwrap());
    assert_eq!(got[1].2, Some(1000));
}

#[test]
fn a_hint_that_is_only_a_prefix_of_the_series_does_not_match() {
    let cases: [(&[u8], &[u8]); 6] = [
        // A longer name.
        (b"foo_bar 1\n", b"foo"),
        // The bare name now has labels, after whitespace (text format).
        (b"foo {a=\"b\"} 1\n", b"foo"),
        (b"foo\t{a=\"b\"} 1\n", b"foo"),
        // More labels, or a longer label value.
        (b"foo{a=\"b\",c=\"d\"} 1\n", b"foo{a=\"b\""),
        (b"foo{a=\"bc\"} 1\n", b"foo{a=\"b"),
        // No separator before the value: valid, parsed in full.
        (b"foo{a=\"b\"}1\n", b"foo{a=\"b\"}"),
    ];
    for (body, hint) in cases {
        let want = plain(body, Format::Text).unwrap();
        let (got, matched) = hinted(body, Format::Text, &[hint.to_vec()]).unwrap();
        assert_eq!(matched, 0, "{}", String::from_utf8_lossy(body));
        assert_eq!(got, want, "{}", String::from_utf8_lossy(body));
    }
}

#[test]
fn a_matching_line_with_a_bad_tail_fails_as_without_the_hint() {
    let bodies: [&[u8]; 4] = [
        b"foo{a=\"b\"} x\n",
        b"foo{a=\"b\"} 1 2 3\n",
        b"foo{a=\"b\"} 1 notatimestamp\n",
        b"foo{a=\"b\"} \n",
    ];
    for body in bodies {
        let want = plain(body, Format::Text).unwrap_err();
        let got = hinted(body, Format::Text, &[b"foo{a=\"b\"}".to_vec()]).unwrap_err();
        assert_eq!(got, want, "{}", String::from_utf8_lossy(body));
    }
}

#[test]
fn openmetrics_lines_keep_timestamps_and_exemplars() {
    let body = b"# TYPE foo counter\n\
foo_total{a=\"b\"} 17 1520879607.789 # {trace_id=\"KOO5S4vxi0o\"} 0.67 1520879602.9\n\
foo_total{a=\"c\"} 1\n\
foo_created 1520872607.123\n\
# EOF\n";
    let want = plain(body, Format::OpenMetrics).unwrap();
    let hints = series_of(&want);
    let (got, matched) = hinted(body, Format::OpenMetrics, &hints).unwrap();
    assert_eq!(matched, 3);
    assert_eq!(got, want);
    assert!(got[0].3.as_deref().unwrap().contains("KOO5S4vxi0o"), "{:?}", got[0]);
    assert_eq!(got[0].2, Some(1_520_879_607_789));
    // In OpenMetrics only one space separates the series from the value.
    let body = b"foo  1\n# EOF\n";
    let want = plain(body, Format::OpenMetrics).unwrap_err();
    let got = hinted(body, Format::OpenMetrics, &[b"foo".to_vec()]).unwrap_err();
    assert_eq!(got, want);
}
