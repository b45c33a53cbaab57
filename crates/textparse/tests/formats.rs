//! Both exposition formats: entries, escapes, timestamps, exemplars and strict errors.
#![allow(clippy::unwrap_used)]

use textparse::{EntryKind, Format, MetricType, Parser};

/// Renders every entry as one line, for compact expectations.
fn dump(body: &str, format: Format) -> Result<Vec<String>, String> {
    let mut p = Parser::new(body.as_bytes(), format);
    let mut out = Vec::new();
    while let Some(kind) = p.next().map_err(|e| e.to_string())? {
        out.push(match kind {
            EntryKind::Series => {
                let labels: Vec<String> = p.labels().map(|(n, v)| format!("{n}={v:?}")).collect();
                let ex = p
                    .exemplar()
                    .map(|e| format!(" ex={:?}/{}/{:?}", e.labels, e.value, e.timestamp));
                format!(
                    "S {} {} [{}] {} {:?}{}",
                    String::from_utf8_lossy(p.series()),
                    p.metric_name(),
                    labels.join(","),
                    p.value(),
                    p.timestamp(),
                    ex.unwrap_or_default()
                )
            }
            EntryKind::Help => format!("H {} {:?}", p.metric_name(), p.help()),
            EntryKind::Type => format!("T {} {}", p.metric_name(), p.metric_type().as_str()),
            EntryKind::Unit => format!("U {} {}", p.metric_name(), p.unit()),
            EntryKind::Comment => format!("C {}", p.comment()),
        });
    }
    Ok(out)
}

#[test]
fn text_format_entries() {
    let body = "# HELP http_requests_total The total.\\nSecond \\\\ line.\n\
# TYPE http_requests_total counter\n\
http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n\
\n\
  http_requests_total{ method = \"get\" , code=\"4\\\"0\\\\0\\n\", } \t 3\n\
# a free comment\n\
metric_without_labels 1.5e-3\n\
up{} +Inf\n\
nan_metric NaN\n\
# TYPE untyped_x untyped\n\
{\"quoted.name\",a=\"b\"} -Inf\n";
    let got = dump(body, Format::Text).unwrap();
    let want = [
        r#"H http_requests_total "The total.\nSecond \\ line.""#,
        "T http_requests_total counter",
        r#"S http_requests_total{method="post",code="200"} http_requests_total [method="post",code="200"] 1027 Some(1395066363000)"#,
        r#"S http_requests_total{ method = "get" , code="4\"0\\0\n", } http_requests_total [method="get",code="4\"0\\0\n"] 3 None"#,
        "C # a free comment",
        "S metric_without_labels metric_without_labels [] 0.0015 None",
        "S up{} up [] inf None",
        "S nan_metric nan_metric [] NaN None",
        "T untyped_x unknown",
        r#"S {"quoted.name",a="b"} quoted.name [a="b"] -inf None"#,
    ];
    assert_eq!(got, want);
}

#[test]
fn nan_is_prometheus_canonical() {
    let mut p = Parser::new(b"a NaN\n", Format::Text);
    p.next().unwrap();
    assert_eq!(p.value().to_bits(), 0x7ff8_0000_0000_0001);
}

#[test]
fn openmetrics_entries() {
    let body = "# TYPE foo_seconds histogram\n\
# HELP foo_seconds A \\\"quoted\\\" help.\n\
# UNIT foo_seconds seconds\n\
foo_seconds_bucket{le=\"0.1\"} 8 1520879607.789 # {trace_id=\"abc\"} 0.05 1520879607.5\n\
foo_seconds_bucket{le=\"+Inf\"} 17 # {} 2\n\
foo_seconds_count 17\n\
# TYPE s stateset\n\
s{s=\"a\"} 1 1.5\n\
# EOF\n";
    let got = dump(body, Format::OpenMetrics).unwrap();
    let want = [
        "T foo_seconds histogram",
        r#"H foo_seconds "A \"quoted\" help.""#,
        "U foo_seconds seconds",
        r#"S foo_seconds_bucket{le="0.1"} foo_seconds_bucket [le="0.1"] 8 Some(1520879607789) ex=[("trace_id", "abc")]/0.05/Some(1520879607500)"#,
        r#"S foo_seconds_bucket{le="+Inf"} foo_seconds_bucket [le="+Inf"] 17 None ex=[]/2/None"#,
        "S foo_seconds_count foo_seconds_count [] 17 None",
        "T s stateset",
        r#"S s{s="a"} s [s="a"] 1 Some(1500)"#,
    ];
    assert_eq!(got, want);
    assert_eq!(dump("# EOF", Format::OpenMetrics).unwrap(), Vec::<String>::new());
}

#[test]
fn text_format_errors_name_the_line() {
    for (body, line, needle) in [
        ("a 1\nb{x=\"1\" 2\n", 2, "expected comma or brace close"),
        ("a 1\n\nbad-name 1\n", 3, "parsing \"-name\": invalid syntax"),
        ("a 1\n1a 1\n", 2, "valid start token"),
        ("a abc\n", 1, "invalid syntax"),
        ("a 1e999\n", 1, "out of range"),
        ("a\n", 1, "expected value"),
        ("a 1 2 3\n", 1, "expected next entry after timestamp"),
        ("a{b=\"c\"} 1", 1, "got EOF"),
        ("a{b=\"c", 1, "unterminated"),
        ("a{1b=\"c\"} 1\n", 1, "expected label name"),
        ("a{b=c} 1\n", 1, "expected label value"),
        ("# TYPE a gaugez\n", 1, "invalid metric type"),
        ("{b=\"c\"} 1\n", 1, "metric name not set"),
        ("a 1 99999999999999999999\n", 1, "out of range"),
    ] {
        let err = dump(body, Format::Text).unwrap_err();
        assert!(
            err.starts_with(&format!("line {line}:")) && err.contains(needle),
            "{body:?}: {err}"
        );
    }
}

#[test]
fn invalid_utf8_bytes_are_rejected() {
    let body = b"a{b=\"\xff\xfe\"} 1\n";
    let mut p = Parser::new(body, Format::Text);
    assert!(p.next().unwrap_err().msg.contains("UTF-8"));
    assert_eq!(p.next().unwrap(), None, "finished after an error");
}

#[test]
fn openmetrics_errors() {
    for (body, needle) in [
        ("a 1\n", "does not end with # EOF"),
        ("a 1\n# EOF\nb 1\n", "after # EOF"),
        ("a  1\n# EOF\n", "expected value"),
        ("\n# EOF\n", "valid start token"),
        ("# random comment\n# EOF\n", "valid start token"),
        ("# UNIT a_bytes seconds\n# EOF\n", "not a suffix"),
        ("a 1 NaN\n# EOF\n", "invalid timestamp"),
        ("# TYPE a untyped\n# EOF\n", "invalid metric type"),
    ] {
        let err = dump(body, Format::OpenMetrics).unwrap_err();
        assert!(err.contains(needle), "{body:?}: {err}");
    }
}

#[test]
fn node_exporter_fixture_parses_completely() {
    let body = include_bytes!("fixtures/node_exporter.txt");
    let mut p = Parser::new(body, Format::Text);
    let (mut series, mut types) = (0, 0);
    while let Some(kind) = p.next().unwrap() {
        match kind {
            EntryKind::Series => {
                series += 1;
                assert!(!p.metric_name().is_empty());
            }
            EntryKind::Type => {
                types += 1;
                assert_ne!(p.metric_type(), MetricType::Info);
            }
            _ => {}
        }
    }
    let sample_lines =
        body.split(|&b| b == b'\n').filter(|l| !l.is_empty() && l[0] != b'#').count();
    assert_eq!(series, sample_lines);
    assert!(types > 50);
}
