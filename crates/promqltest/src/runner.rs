//! Runs `.test` scripts against the engine over an in-memory storage.

use std::collections::HashSet;

use model::Labels;
use promql::{Engine, EngineOptions, QueryOptions, Value};
use storage::MemStorage;

use crate::script::{self, Command, Eval, Expect, Matcher};

/// The outcome of one `eval` case.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseOutcome {
    Passed,
    Failed(String),
    Skipped(String),
}

/// Per-file results.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    pub passed: usize,
    pub failed: Vec<(usize, String)>,
    pub skipped: Vec<(usize, String)>,
}

/// Features this engine deliberately does not implement; cases using them are skipped.
const EXPERIMENTAL: &[(&str, &str)] = &[
    ("info(", "info() is experimental"),
    (" anchored", "anchored range selectors are experimental"),
    (" smoothed", "smoothed range selectors are experimental"),
    ("fill(", "fill modifiers are experimental"),
    ("fill_left", "fill modifiers are experimental"),
    ("fill_right", "fill modifiers are experimental"),
    ("step()", "duration expressions are experimental"),
    ("range()", "duration expressions are experimental"),
    ("__type__", "type-and-unit labels are experimental"),
    ("__unit__", "type-and-unit labels are experimental"),
    ("histogram_quantiles(", "histogram_quantiles is experimental"),
    ("min_of(", "min_of is experimental"),
    ("max_of(", "max_of is experimental"),
    ("</", "histogram trim operators are experimental"),
    (">/", "histogram trim operators are experimental"),
];

/// Runs a whole script; `skip_all` skips every case with that reason.
pub fn run_script(input: &str, skip_all: Option<&str>) -> FileReport {
    let mut report = FileReport::default();
    let cmds = match script::parse(input) {
        Ok(c) => c,
        Err(e) => {
            report.failed.push((0, format!("script does not parse: {e}")));
            return report;
        }
    };
    // As Prometheus' own test engine: the scripts are written for delayed name removal.
    let engine = Engine::new(EngineOptions {
        max_samples: 50_000_000,
        delayed_name_removal: true,
        ..EngineOptions::default()
    });
    let mut storage = MemStorage::new();
    let mut hist_names: HashSet<String> = HashSet::new();
    let mut hist_series: Vec<Labels> = Vec::new();
    for cmd in cmds {
        match cmd {
            Command::Clear => {
                storage = MemStorage::new();
                hist_names.clear();
                hist_series.clear();
            }
            Command::Load { interval, lines, nhcb, .. } => {
                load_lines(
                    &storage,
                    interval,
                    &lines,
                    nhcb,
                    &mut hist_names,
                    &mut hist_series,
                    &mut report,
                );
            }
            Command::Eval(ev) => {
                let outcome = match skip_reason(&ev, skip_all) {
                    Some(r) => CaseOutcome::Skipped(r),
                    None => match run_eval(&engine, &storage, &ev) {
                        CaseOutcome::Failed(m) => {
                            let hist = touched_histograms(&ev.query, &hist_names, &hist_series);
                            match hist.filter(|_| histograms_explain(&ev, &m)) {
                                Some(name) => CaseOutcome::Skipped(format!(
                                    "needs the native histogram samples of {name} (not loaded; \
                                     without them: {})",
                                    shorten(&m, 100)
                                )),
                                None => CaseOutcome::Failed(m),
                            }
                        }
                        other => other,
                    },
                };
                match outcome {
                    CaseOutcome::Passed => report.passed += 1,
                    CaseOutcome::Failed(m) => {
                        report.failed.push((ev.line, format!("{}: {m}", ev.query)))
                    }
                    CaseOutcome::Skipped(r) => report.skipped.push((ev.line, r)),
                }
            }
        }
    }
    report
}

fn load_lines(
    storage: &MemStorage,
    interval: i64,
    lines: &[(usize, String)],
    nhcb: bool,
    hist_names: &mut HashSet<String>,
    hist_series: &mut Vec<Labels>,
    report: &mut FileReport,
) {
    let mut series = Vec::new();
    for (no, line) in lines {
        if line.contains("@st") {
            continue;
        }
        match crate::notation::split_series(line) {
            Ok((labels, values)) => {
                let name = labels.metric_name().unwrap_or("").to_string();
                if values.contains("{{") {
                    hist_series.push(labels);
                    continue;
                }
                if nhcb {
                    for suffix in ["_bucket", "_count", "_sum"] {
                        if let Some(base) = name.strip_suffix(suffix) {
                            hist_names.insert(base.to_string());
                        }
                    }
                }
                match crate::notation::parse_series_values(values, interval) {
                    Ok(v) => series.push((labels, v)),
                    Err(e) => report.failed.push((*no, format!("load: {e}"))),
                }
            }
            Err(e) => report.failed.push((*no, format!("load: {e}"))),
        }
    }
    // A later definition of the same series replaces the earlier one.
    let mut last: std::collections::HashMap<Labels, usize> = std::collections::HashMap::new();
    for (i, (l, _)) in series.iter().enumerate() {
        last.insert(l.clone(), i);
    }
    let series: Vec<_> = series
        .into_iter()
        .enumerate()
        .filter(|(i, (l, _))| last.get(l) == Some(i))
        .map(|(_, s)| s)
        .collect();
    if let Err(e) = crate::append_series(storage, &series) {
        report.failed.push((0, format!("load: {e}")));
    }
}

/// `s` cut to at most `n` characters.
fn shorten(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// Whether a failure of a case that reads native histogram series can be due to the missing
/// histogram samples: a difference in the result values, or a missing or unexpected annotation
/// or error that is about histograms or whose expected text the case leaves open. Other
/// annotation and error mismatches are failures of the float engine.
fn histograms_explain(ev: &Eval, failure: &str) -> bool {
    let about_messages = ["expected warn", "expected info", "unexpected warn", "unexpected info"]
        .iter()
        .any(|p| failure.starts_with(p))
        || failure.starts_with("expected error")
        || failure.starts_with("expected an error")
        || failure.starts_with("error:");
    if !about_messages || failure.contains("histogram") {
        return true;
    }
    ev.expects.iter().any(|e| match e {
        Expect::Warn(m) | Expect::Info(m) | Expect::Fail(m) => match m {
            Matcher::Any => true,
            Matcher::Msg(x) | Matcher::Regex(x) => x.contains("histogram"),
        },
        _ => false,
    })
}

/// Why a case is skipped before it runs: the whole file is, it expects native histograms, or
/// it uses an experimental feature.
fn skip_reason(ev: &Eval, skip_all: Option<&str>) -> Option<String> {
    if let Some(r) = skip_all {
        return Some(r.to_string());
    }
    if ev.native_histograms {
        return Some("native histograms in the expected result".into());
    }
    for (pat, why) in EXPERIMENTAL {
        if ev.query.contains(pat) {
            return Some((*why).to_string());
        }
    }
    let q = ev
        .query
        .replace("@ start()", "")
        .replace("@ end()", "")
        .replace("@start()", "")
        .replace("@end()", "");
    if q.contains("start()") || q.contains("end()") {
        return Some("start()/end() functions are experimental".into());
    }
    if has_duration_expression(&ev.query) {
        return Some("duration expressions are experimental".into());
    }
    None
}

/// The first series with native histogram samples in the loaded data that a selector of `query`
/// reads: a series loaded with histogram samples, or (for `load_with_nhcb`) a metric whose
/// classic buckets were also loaded as a native histogram.
fn touched_histograms(
    query: &str,
    hist_names: &HashSet<String>,
    series: &[Labels],
) -> Option<String> {
    if series.is_empty() && hist_names.is_empty() {
        return None;
    }
    let expr = promql::parser::parse(query).ok()?;
    let mut stack = vec![&expr];
    while let Some(e) = stack.pop() {
        match e {
            promql::ast::Expr::VectorSelector(vs)
            | promql::ast::Expr::MatrixSelector { vs, .. } => {
                let hit = series
                    .iter()
                    .find(|l| vs.matchers.iter().all(|m| m.matches(l.get(&m.name).unwrap_or(""))));
                if let Some(l) = hit {
                    return Some(l.to_string());
                }
                let by_name: Vec<_> = vs.matchers.iter().filter(|m| m.name == "__name__").collect();
                let nhcb = hist_names
                    .iter()
                    .filter(|n| !by_name.is_empty() && by_name.iter().all(|m| m.matches(n)))
                    .min();
                if let Some(n) = nhcb {
                    return Some(n.clone());
                }
            }
            other => stack.extend(other.children()),
        }
    }
    None
}

/// Arithmetic inside `[...]` or after `offset`/`@` (duration expressions).
fn has_duration_expression(q: &str) -> bool {
    let mut in_bracket = false;
    let mut quote: Option<char> = None;
    for c in q.chars() {
        if let Some(qc) = quote {
            if c == qc {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '[' => in_bracket = true,
            ']' => in_bracket = false,
            '+' | '*' | '/' | '(' | '%' | '^' if in_bracket => return true,
            '-' if in_bracket => return true,
            _ => {}
        }
    }
    let lower = q.to_ascii_lowercase();
    for kw in ["offset", "@"] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(kw) {
            let rest = lower[from + i + kw.len()..].trim_start();
            if rest.starts_with('(') || rest.starts_with("-(") {
                return true;
            }
            from += i + kw.len();
        }
    }
    false
}

fn run_eval(engine: &Engine, storage: &MemStorage, ev: &Eval) -> CaseOutcome {
    let opts = QueryOptions::default();
    let res = if ev.range {
        engine.range_query(storage, &ev.query, ev.start, ev.end, ev.step, &opts)
    } else {
        engine.instant_query(storage, &ev.query, ev.start, &opts)
    };
    let fail_expect = ev.expects.iter().find_map(|e| match e {
        Expect::Fail(m) => Some(m),
        _ => None,
    });
    let res = match (res, fail_expect) {
        (Err(e), Some(m)) => {
            return if matches(m, &e.to_string()) {
                CaseOutcome::Passed
            } else {
                CaseOutcome::Failed(format!("expected error matching {m:?}, got {e}"))
            };
        }
        (Err(e), None) => return CaseOutcome::Failed(format!("error: {e}")),
        (Ok(_), Some(_)) => return CaseOutcome::Failed("expected an error, got none".into()),
        (Ok(r), None) => r,
    };
    if let Err(m) = check_annotations(ev, &res.warnings, &res.infos) {
        return CaseOutcome::Failed(m);
    }
    if let Err(m) = compare(ev, &res.value, ev.start, ev.end, ev.step) {
        return CaseOutcome::Failed(m);
    }
    // Instant queries must give the same result in range mode (middle step).
    let excluded = ev.range
        || ev.range_vector.is_some()
        || ev.string.is_some()
        || ev.expects.contains(&Expect::Ordered)
        || ["range()", "step()", "start()", "end()"].iter().any(|f| ev.query.contains(f));
    if !excluded {
        let r = engine.range_query(
            storage,
            &ev.query,
            ev.start - 60_000,
            ev.start + 60_000,
            60_000,
            &opts,
        );
        match r {
            Err(e) => return CaseOutcome::Failed(format!("range mode error: {e}")),
            Ok(r) => {
                let Value::Matrix(m) = r.value else {
                    return CaseOutcome::Failed("range mode returned no matrix".into());
                };
                let mid: Vec<promql::VectorSample> =
                    m.iter()
                        .filter_map(|s| {
                            s.samples.iter().find(|p| p.t == ev.start).map(|p| {
                                promql::VectorSample { labels: s.labels.clone(), t: p.t, v: p.v }
                            })
                        })
                        .collect();
                let v = match (&res.value, mid.first()) {
                    (Value::Scalar { .. }, Some(s)) => Value::Scalar { t: s.t, v: s.v },
                    _ => Value::Vector(mid),
                };
                if let Err(m) = compare(ev, &v, ev.start, ev.end, ev.step) {
                    return CaseOutcome::Failed(format!("range mode: {m}"));
                }
            }
        }
    }
    CaseOutcome::Passed
}

fn matches(m: &Matcher, s: &str) -> bool {
    match m {
        Matcher::Any => true,
        Matcher::Msg(x) => x.trim_matches('"') == s || x == s,
        Matcher::Regex(r) => {
            let r = r.trim_matches('"');
            regex::Regex::new(r).map(|re| re.is_match(s)).unwrap_or(false)
        }
    }
}

fn check_annotations(ev: &Eval, warnings: &[String], infos: &[String]) -> Result<(), String> {
    for (kind, actual) in [("warn", warnings), ("info", infos)] {
        let expected: Vec<&Matcher> = ev
            .expects
            .iter()
            .filter_map(|e| match (kind, e) {
                ("warn", Expect::Warn(m)) | ("info", Expect::Info(m)) => Some(m),
                _ => None,
            })
            .collect();
        let none_expected = ev
            .expects
            .iter()
            .any(|e| matches!((kind, e), ("warn", Expect::NoWarn) | ("info", Expect::NoInfo)));
        if none_expected && !actual.is_empty() {
            return Err(format!("unexpected {kind} annotations: {actual:?}"));
        }
        if expected.is_empty() {
            continue;
        }
        if actual.is_empty() {
            return Err(format!("expected {kind} annotations but none were found"));
        }
        for m in &expected {
            if !actual.iter().any(|a| matches(m, a)) {
                return Err(format!("expected {kind} matching {m:?}, found {actual:?}"));
            }
        }
        for a in actual {
            if !expected.iter().any(|m| matches(m, a)) {
                return Err(format!("unexpected {kind} annotation {a:?}"));
            }
        }
    }
    Ok(())
}

fn close(a: f64, b: f64) -> bool {
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    let (sa, sb) = (model::value::is_stale_nan(a), model::value::is_stale_nan(b));
    if sa || sb {
        return sa && sb;
    }
    if (a.is_nan() && b.is_nan()) || a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < 1e-6 * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < 1e-6
}

fn compare(ev: &Eval, value: &Value, start: i64, end: i64, step: i64) -> Result<(), String> {
    let ordered = ev.expects.contains(&Expect::Ordered);
    match value {
        Value::String { v, .. } => match &ev.string {
            Some(s) if s == v => Ok(()),
            other => Err(format!("expected string {other:?}, got {v:?}")),
        },
        Value::Scalar { v, .. } => match ev.scalar {
            Some(s) if close(s, *v) => Ok(()),
            other => Err(format!("expected {other:?}, got scalar {v}")),
        },
        Value::Vector(vec) => {
            if ev.scalar.is_some() {
                return Err(format!("expected scalar, got vector {vec:?}"));
            }
            let expected: Vec<(&Labels, f64)> = ev
                .series
                .iter()
                .map(|(l, v)| (l, v.first().copied().flatten().unwrap_or(f64::NAN)))
                .collect();
            if expected.len() != vec.len() {
                return Err(format!(
                    "expected {} series, got {}: {vec:?}",
                    expected.len(),
                    vec.len()
                ));
            }
            for (pos, s) in vec.iter().enumerate() {
                let Some(idx) = expected.iter().position(|(l, _)| **l == s.labels) else {
                    return Err(format!("unexpected series {} = {}", s.labels, s.v));
                };
                if ordered && idx != pos {
                    return Err(format!("series {} at position {pos}, expected {idx}", s.labels));
                }
                if !close(expected[idx].1, s.v) {
                    return Err(format!("{}: expected {}, got {}", s.labels, expected[idx].1, s.v));
                }
            }
            Ok(())
        }
        Value::Matrix(m) => {
            if ev.scalar.is_some() && m.len() == 1 && m[0].labels.is_empty() {
                let got = m[0].samples.first().map_or(f64::NAN, |p| p.v);
                return if close(ev.scalar.unwrap_or(f64::NAN), got) {
                    Ok(())
                } else {
                    Err(format!("expected scalar {:?}, got {got}", ev.scalar))
                };
            }
            if ordered {
                return Err("expected ordered result, but query returned a matrix".into());
            }
            let (start, step) = match ev.range_vector {
                Some((s, _, st)) => (s, st),
                None => (start, step),
            };
            let _ = end;
            if m.len() != ev.series.len() {
                return Err(format!("expected {} series, got {}: {m:?}", ev.series.len(), m.len()));
            }
            for s in m {
                let Some((_, vals)) = ev.series.iter().find(|(l, _)| *l == s.labels) else {
                    return Err(format!("unexpected series {}", s.labels));
                };
                let exp: Vec<(i64, f64)> = vals
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| v.map(|v| (start + i as i64 * step, v)))
                    .collect();
                if exp.len() != s.samples.len() {
                    return Err(format!("{}: expected {exp:?}, got {:?}", s.labels, s.samples));
                }
                for (e, g) in exp.iter().zip(&s.samples) {
                    if e.0 != g.t || !close(e.1, g.v) {
                        return Err(format!("{}: expected {exp:?}, got {:?}", s.labels, s.samples));
                    }
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = r#"
load 5m
  m{i="a"} 1 2 3
  m{i="b"} 4 5 6
  m{i="h"} {{schema:0 sum:1 count:1}}x2

# Float result over a metric that also has a histogram series: runs and must pass.
eval instant at 10m count(m > 2)
  {} 2

# The histogram series is counted by Prometheus: skipped because of the histogram samples.
eval instant at 10m count(m)
  {} 3

# A wrong float expectation that histograms cannot explain is a failure.
eval instant at 10m m{i="a"}
  m{i="a"} 7

# Histograms in the expected result.
eval instant at 10m m{i="h"}
  m{i="h"} {{schema:0 sum:1 count:1}}

eval instant at 10m info(m)
  m{i="a"} 3
"#;

    #[test]
    fn skips_only_cases_histograms_or_experiments_explain() {
        let r = run_script(SCRIPT, None);
        assert_eq!(r.passed, 1, "{r:?}");
        assert_eq!(r.failed.len(), 1, "{r:?}");
        assert_eq!(r.failed[0].0, 16);
        let lines: Vec<usize> = r.skipped.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![12, 20, 23]);
        assert!(r.skipped[0].1.starts_with("needs the native histogram samples of "));
        assert!(r.skipped[0].1.contains("i=\"h\""), "{}", r.skipped[0].1);
        assert_eq!(r.skipped[1].1, "native histograms in the expected result");
        assert_eq!(r.skipped[2].1, "info() is experimental");
    }
}
