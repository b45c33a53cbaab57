//! Prometheus' template functions (`template.NewTemplateExpander`'s func map).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::DateTime;
use gotmpl::{FuncMap, TemplateError, Value};

use super::gofmt::{format_g, format_go_duration, format_time};
use crate::seams::QueryFunc;

/// What template functions may use: the query function (`query`), the evaluation time
/// (`query`, `now`) and the external URL (`externalURL`, `pathPrefix`).
#[derive(Clone)]
pub struct FuncContext {
    pub query: Option<Arc<dyn QueryFunc>>,
    pub ts_ms: i64,
    pub external_url: String,
}

const GOTMPL_BUILTINS: &[&str] = &[
    "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not", "print", "println", "printf", "len",
    "index", "slice", "call", "html", "js", "urlquery",
];

const PROMETHEUS_FUNCS: &[&str] = &[
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "args",
    "reReplaceAll",
    "safeHtml",
    "match",
    "title",
    "toUpper",
    "toLower",
    "graphLink",
    "tableLink",
    "sortByLabel",
    "stripPort",
    "stripDomain",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "toTime",
    "toDuration",
    "now",
    "pathPrefix",
    "externalURL",
    "parseDuration",
    "urlQueryEscape",
];

/// Every function name a template may call.
pub fn known_names() -> Vec<&'static str> {
    GOTMPL_BUILTINS
        .iter()
        .chain(PROMETHEUS_FUNCS)
        .copied()
        .chain(["__pharos_print", "__pharos_zero"])
        .collect()
}

type R = gotmpl::Result<Value>;

fn fail(func: &str, msg: impl std::fmt::Display) -> TemplateError {
    TemplateError::Exec(format!("error calling {func}: {msg}"))
}

fn arg<'a>(args: &'a [Value], i: usize, func: &str) -> Result<&'a Value, TemplateError> {
    args.get(i).ok_or_else(|| TemplateError::ArgCount {
        name: func.to_string(),
        expected: i + 1,
        got: args.len(),
    })
}

fn string_arg(args: &[Value], i: usize, func: &str) -> Result<String, TemplateError> {
    Ok(match arg(args, i, func)? {
        Value::Nil => String::new(),
        Value::String(s) => s.to_string(),
        other => return Err(fail(func, format!("expected string, got {}", other.type_name()))),
    })
}

fn s(v: impl Into<Arc<str>>) -> Value {
    Value::String(v.into())
}

/// Prometheus' `ConvertToFloat`.
pub fn to_float(v: &Value, func: &str) -> Result<f64, TemplateError> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Uint(u) => Ok(*u as f64),
        // Go's `strconv.ParseFloat`, whose error is the template's.
        Value::String(st) => model::go_atof::parse(st).map_err(|e| {
            let why = match e {
                model::go_atof::AtofError::Syntax => "invalid syntax",
                model::go_atof::AtofError::Range => "value out of range",
            };
            fail(func, format!("strconv.ParseFloat: parsing {}: {why}", model::go_quote(st)))
        }),
        other => Err(fail(func, format!("can't convert {} to float", other.type_name()))),
    }
}

fn with_prefix(mut v: f64, big: &[&str], step: f64, small: bool) -> String {
    let mut prefix = "";
    if small {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    } else {
        for p in big {
            if v.abs() < step {
                break;
            }
            prefix = p;
            v /= step;
        }
    }
    format!("{}{}", format_g(v, Some(4)), prefix)
}

fn humanize(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format_g(v, Some(4));
    }
    with_prefix(v, &["k", "M", "G", "T", "P", "E", "Z", "Y"], 1000.0, v.abs() < 1.0)
}

fn humanize1024(v: f64) -> String {
    if v.abs() <= 1.0 || !v.is_finite() {
        return format_g(v, Some(4));
    }
    with_prefix(v, &["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"], 1024.0, false)
}

/// `prometheus/common`'s `HumanizeDuration` (seconds in).
pub fn humanize_duration(v: f64) -> String {
    if !v.is_finite() {
        return format_g(v, Some(4));
    }
    if v == 0.0 {
        return format!("{}s", format_g(v, Some(4)));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let v = v.abs();
        let d = v as i64;
        let (secs, mins, hours, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86400);
        if days != 0 {
            return format!("{sign}{days}d {hours}h {mins}m {secs}s");
        }
        if hours != 0 {
            return format!("{sign}{hours}h {mins}m {secs}s");
        }
        if mins != 0 {
            return format!("{sign}{mins}m {secs}s");
        }
        return format!("{sign}{}s", format_g(v, Some(4)));
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", format_g(v, Some(4)))
}

fn to_time(v: f64, func: &str) -> Result<chrono::DateTime<chrono::Utc>, TemplateError> {
    let ns = v * 1e9;
    if !(ns > i64::MIN as f64 && ns < i64::MAX as f64) {
        return Err(fail(
            func,
            format!(
                "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
                format_g(v, None)
            ),
        ));
    }
    let ns = ns as i64;
    Ok(DateTime::from_timestamp_nanos(ns))
}

/// Go's `url.QueryEscape`.
pub fn query_escape(st: &str) -> String {
    let mut out = String::with_capacity(st.len());
    for b in st.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `strutil.GraphLinkForExpression` / `TableLinkForExpression`.
pub fn graph_link(expr: &str, tab: u8) -> String {
    format!("/graph?g0.expr={}&g0.tab={tab}", query_escape(expr))
}

fn title(st: &str) -> String {
    let mut out = String::with_capacity(st.len());
    let mut prev_letter = false;
    for c in st.chars() {
        if !prev_letter && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_letter = c.is_alphanumeric() || c == '_' || c == '\'';
    }
    out
}

fn sample_field<'a>(v: &'a Value, field: &str) -> Option<&'a Value> {
    v.field(field)
}

fn query_result(ctx: &FuncContext, q: &str) -> R {
    let Some(qf) = &ctx.query else {
        return Err(fail("query", "no query function available"));
    };
    let vec = qf.query(q, ctx.ts_ms).map_err(|e| fail("query", e))?;
    let items: Vec<Value> = vec
        .into_iter()
        .map(|smp| {
            let mut m: BTreeMap<Arc<str>, Value> = BTreeMap::new();
            m.insert("Labels".into(), super::labels_value(&smp.labels));
            m.insert("Value".into(), Value::Float(smp.v));
            Value::Map(Arc::new(m))
        })
        .collect();
    Ok(Value::List(items.into()))
}

fn host_port(hp: &str) -> Option<(String, String)> {
    if let Some(rest) = hp.strip_prefix('[') {
        let (h, p) = rest.split_once("]:")?;
        return Some((h.to_string(), p.to_string()));
    }
    let (h, p) = hp.rsplit_once(':')?;
    if h.contains(':') {
        return None;
    }
    Some((h.to_string(), p.to_string()))
}

/// The func map for one expansion.
pub fn func_map(ctx: &FuncContext) -> FuncMap {
    let mut m = FuncMap::new();
    let mut add = |name: &str, f: gotmpl::ValueFunc| {
        m.insert(name.to_string(), f);
    };
    let c = ctx.clone();
    add("query", Arc::new(move |a| query_result(&c, &string_arg(a, 0, "query")?)));
    add(
        "first",
        Arc::new(|a| match arg(a, 0, "first")? {
            Value::List(l) if !l.is_empty() => Ok(l[0].clone()),
            _ => Err(fail("first", "first() called on vector with no elements")),
        }),
    );
    add(
        "label",
        Arc::new(|a| {
            let name = string_arg(a, 0, "label")?;
            let v =
                sample_field(arg(a, 1, "label")?, "Labels").and_then(|l| l.field(&name)).cloned();
            Ok(v.unwrap_or_else(|| s("")))
        }),
    );
    add(
        "value",
        Arc::new(|a| Ok(sample_field(arg(a, 0, "value")?, "Value").cloned().unwrap_or(Value::Nil))),
    );
    add(
        "strvalue",
        Arc::new(|a| {
            let v = sample_field(arg(a, 0, "strvalue")?, "Labels")
                .and_then(|l| l.field("__value__"))
                .cloned();
            Ok(v.unwrap_or_else(|| s("")))
        }),
    );
    add(
        "args",
        Arc::new(|a| {
            let m: BTreeMap<Arc<str>, Value> = a
                .iter()
                .enumerate()
                .map(|(i, v)| (Arc::from(format!("arg{i}")), v.clone()))
                .collect();
            Ok(Value::Map(Arc::new(m)))
        }),
    );
    add(
        "reReplaceAll",
        Arc::new(|a| {
            let (pat, repl, text) = (
                string_arg(a, 0, "reReplaceAll")?,
                string_arg(a, 1, "reReplaceAll")?,
                string_arg(a, 2, "reReplaceAll")?,
            );
            let re = model::regex_compat::compile_unanchored(&pat)
                .map_err(|e| fail("reReplaceAll", e))?;
            Ok(s(re.replace_all(&text, repl.as_str()).into_owned()))
        }),
    );
    add(
        "match",
        Arc::new(|a| {
            let (pat, text) = (string_arg(a, 0, "match")?, string_arg(a, 1, "match")?);
            let re = model::regex_compat::compile_unanchored(&pat).map_err(|e| fail("match", e))?;
            Ok(Value::Bool(re.is_match(&text)))
        }),
    );
    add("safeHtml", Arc::new(|a| Ok(s(string_arg(a, 0, "safeHtml")?))));
    add("title", Arc::new(|a| Ok(s(title(&string_arg(a, 0, "title")?)))));
    add("toUpper", Arc::new(|a| Ok(s(string_arg(a, 0, "toUpper")?.to_uppercase()))));
    add("toLower", Arc::new(|a| Ok(s(string_arg(a, 0, "toLower")?.to_lowercase()))));
    add("graphLink", Arc::new(|a| Ok(s(graph_link(&string_arg(a, 0, "graphLink")?, 0)))));
    add("tableLink", Arc::new(|a| Ok(s(graph_link(&string_arg(a, 0, "tableLink")?, 1)))));
    add(
        "sortByLabel",
        Arc::new(|a| {
            let name = string_arg(a, 0, "sortByLabel")?;
            let Value::List(l) = arg(a, 1, "sortByLabel")? else {
                return Err(fail("sortByLabel", "expected a query result"));
            };
            let mut v: Vec<Value> = l.to_vec();
            let key = |x: &Value| {
                x.field("Labels")
                    .and_then(|l| l.field(&name))
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            };
            v.sort_by_key(key);
            Ok(Value::List(v.into()))
        }),
    );
    add(
        "stripPort",
        Arc::new(|a| {
            let hp = string_arg(a, 0, "stripPort")?;
            Ok(s(host_port(&hp).map(|(h, _)| h).unwrap_or(hp)))
        }),
    );
    add(
        "stripDomain",
        Arc::new(|a| {
            let hp = string_arg(a, 0, "stripDomain")?;
            let (host, port) = host_port(&hp).unwrap_or((hp.clone(), String::new()));
            if host.parse::<std::net::IpAddr>().is_ok() {
                return Ok(s(hp));
            }
            let short = host.split('.').next().unwrap_or("").to_string();
            Ok(s(if port.is_empty() { short } else { format!("{short}:{port}") }))
        }),
    );
    add("humanize", Arc::new(|a| Ok(s(humanize(to_float(arg(a, 0, "humanize")?, "humanize")?)))));
    add(
        "humanize1024",
        Arc::new(|a| Ok(s(humanize1024(to_float(arg(a, 0, "humanize1024")?, "humanize1024")?)))),
    );
    add(
        "humanizeDuration",
        Arc::new(|a| {
            Ok(s(humanize_duration(to_float(arg(a, 0, "humanizeDuration")?, "humanizeDuration")?)))
        }),
    );
    add(
        "humanizePercentage",
        Arc::new(|a| {
            let v = to_float(arg(a, 0, "humanizePercentage")?, "humanizePercentage")?;
            Ok(s(format!("{}%", format_g(v * 100.0, Some(4)))))
        }),
    );
    add(
        "humanizeTimestamp",
        Arc::new(|a| {
            let v = to_float(arg(a, 0, "humanizeTimestamp")?, "humanizeTimestamp")?;
            if !v.is_finite() {
                return Ok(s(format_g(v, Some(4))));
            }
            Ok(s(format_time(to_time(v, "humanizeTimestamp")?)))
        }),
    );
    add(
        "toTime",
        Arc::new(|a| {
            let v = to_float(arg(a, 0, "toTime")?, "toTime")?;
            if !v.is_finite() {
                return Err(fail("toTime", "value is NaN or Inf"));
            }
            Ok(s(format_time(to_time(v, "toTime")?)))
        }),
    );
    add(
        "toDuration",
        Arc::new(|a| {
            let v = to_float(arg(a, 0, "toDuration")?, "toDuration")?;
            Ok(s(format_go_duration((v * 1e9) as i64)))
        }),
    );
    let c = ctx.clone();
    add("now", Arc::new(move |_| Ok(Value::Float(c.ts_ms as f64 / 1000.0))));
    let c = ctx.clone();
    add("pathPrefix", Arc::new(move |_| Ok(s(url_path(&c.external_url)))));
    let c = ctx.clone();
    add("externalURL", Arc::new(move |_| Ok(s(c.external_url.clone()))));
    add(
        "parseDuration",
        Arc::new(|a| {
            let d = string_arg(a, 0, "parseDuration")?;
            let (neg, body) = match d.strip_prefix('-') {
                Some(b) => (true, b),
                None => (false, d.as_str()),
            };
            let ms = model::duration::parse_duration(body).map_err(|e| fail("parseDuration", e))?;
            let secs = ms as f64 / 1000.0;
            Ok(Value::Float(if neg { -secs } else { secs }))
        }),
    );
    add("urlQueryEscape", Arc::new(|a| Ok(s(query_escape(&string_arg(a, 0, "urlQueryEscape")?)))));
    m
}

fn url_path(u: &str) -> String {
    let after_scheme = u.split_once("://").map_or(u, |(_, r)| r);
    match after_scheme.find('/') {
        Some(i) => after_scheme[i..].split(['?', '#']).next().unwrap_or("").to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanizers_match_prometheus() {
        assert_eq!(humanize(1234567.0), "1.235M");
        assert_eq!(humanize(0.001234), "1.234m");
        assert_eq!(humanize(0.0), "0");
        assert_eq!(humanize(-1500.0), "-1.5k");
        assert_eq!(humanize1024(1048576.0), "1Mi");
        assert_eq!(humanize1024(1.0), "1");
        assert_eq!(humanize_duration(90061.0), "1d 1h 1m 1s");
        assert_eq!(humanize_duration(61.5), "1m 1s");
        assert_eq!(humanize_duration(1.5), "1.5s");
        assert_eq!(humanize_duration(0.0015), "1.5ms");
        assert_eq!(humanize_duration(0.0), "0s");
        assert_eq!(title("foo bar-baz_qux"), "Foo Bar-Baz_qux");
        assert_eq!(graph_link("up == 0", 1), "/graph?g0.expr=up+%3D%3D+0&g0.tab=1");
        assert_eq!(url_path("http://h:9090/prom/"), "/prom/");
    }

    #[test]
    fn strings_convert_to_floats_as_go_parses_them() {
        let f = |st: &str| to_float(&s(st), "humanize");
        for (st, want) in [
            ("1.5", 1.5),
            ("0x1p4", 16.0),
            ("1_000", 1000.0),
            ("Infinity", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("1e-400", 0.0),
        ] {
            assert_eq!(f(st).ok(), Some(want), "{st}");
        }
        assert!(f("NaN").is_ok_and(f64::is_nan));
        // Go's error texts, the string quoted as Go quotes it.
        let err = |st: &str| f(st).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err("1e400").ends_with(r#"strconv.ParseFloat: parsing "1e400": value out of range"#),
            "{}",
            err("1e400")
        );
        assert!(err("x\u{1}").ends_with(r#"parsing "x\x01": invalid syntax"#), "{}", err("x\u{1}"));
        assert!(err("+NaN").ends_with("invalid syntax"));
        assert!(err("").ends_with(r#"parsing "": invalid syntax"#));
    }
}
