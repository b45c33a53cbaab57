//! Template functions (Alertmanager's `DefaultFuncs` plus method helpers) and the source
//! rewrite that turns Go method calls on the data model into calls of those helpers.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use gotmpl::{FuncMap, TemplateError, Value};
use regex::Regex;

fn err(msg: impl Into<String>) -> TemplateError {
    TemplateError::Exec(msg.into())
}

fn arg_str(args: &[Value], i: usize) -> Result<String, TemplateError> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.to_string()),
        Some(v) => Ok(v.to_string()),
        None => Err(err("missing argument")),
    }
}

fn string(s: String) -> Value {
    Value::String(Arc::from(s))
}

fn list_of_strings(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l.iter().map(|x| x.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn pair_field(v: &Value, field: &str) -> Value {
    v.field(field).cloned().unwrap_or(Value::Nil)
}

fn sorted_pairs(args: &[Value]) -> Result<Value, TemplateError> {
    let Some(Value::Map(m)) = args.first() else { return Err(err("SortedPairs of a non-map")) };
    let pairs: Vec<Value> = m
        .iter()
        .map(|(k, v)| {
            let mut p = BTreeMap::new();
            p.insert(Arc::from("Name"), Value::String(k.clone()));
            p.insert(Arc::from("Value"), v.clone());
            Value::Map(Arc::new(p))
        })
        .collect();
    Ok(Value::List(pairs.into()))
}

fn names_or_values(args: &[Value], names: bool) -> Result<Value, TemplateError> {
    match args.first() {
        Some(Value::Map(m)) => Ok(Value::List(
            m.iter()
                .map(|(k, v)| if names { Value::String(k.clone()) } else { v.clone() })
                .collect(),
        )),
        Some(Value::List(l)) => Ok(Value::List(
            l.iter().map(|p| pair_field(p, if names { "Name" } else { "Value" })).collect(),
        )),
        _ => Err(err("Names/Values of a non-map")),
    }
}

fn remove(args: &[Value]) -> Result<Value, TemplateError> {
    let Some(Value::Map(m)) = args.first() else { return Err(err("Remove on a non-map")) };
    let drop = args.get(1).map(list_of_strings).unwrap_or_default();
    let kept = m
        .iter()
        .filter(|(k, _)| !drop.iter().any(|d| d == &***k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Value::Map(Arc::new(kept)))
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_letter = false;
    for c in s.chars() {
        if !prev_letter && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_letter = c.is_alphanumeric() || c == '_' || c == '\'';
    }
    out
}

fn compile(pattern: &str) -> Result<Regex, TemplateError> {
    model::regex_compat::compile_unanchored(pattern).map_err(|e| err(e.to_string()))
}

/// Go reference-time layout tokens and their strftime equivalents, longest first.
const LAYOUT_TOKENS: &[(&str, &str)] = &[
    ("January", "%B"),
    ("Monday", "%A"),
    ("Z07:00", "Z"),
    ("-07:00", "%:z"),
    (".000000000", "%.9f"),
    (".000000", "%.6f"),
    (".000", "%.3f"),
    (".999999999", "%.f"),
    (".999999", "%.f"),
    (".999", "%.f"),
    ("-0700", "%z"),
    ("2006", "%Y"),
    ("Jan", "%b"),
    ("Mon", "%a"),
    ("MST", "UTC"),
    ("_2", "%e"),
    ("01", "%m"),
    ("02", "%d"),
    ("15", "%H"),
    ("03", "%I"),
    ("04", "%M"),
    ("05", "%S"),
    ("06", "%y"),
    ("PM", "%p"),
    ("pm", "%P"),
];

/// Translates a Go time layout (`2006-01-02 15:04:05`) to a chrono format string.
pub fn go_layout_to_strftime(layout: &str) -> String {
    let mut out = String::new();
    let mut rest = layout;
    'outer: while !rest.is_empty() {
        for (go, fmt) in LAYOUT_TOKENS {
            if let Some(r) = rest.strip_prefix(go) {
                out.push_str(fmt);
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        if c == '%' {
            out.push_str("%%");
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `formatTime TIME LAYOUT`: the rewrite target of Go's `time.Time.Format`.
fn format_time(args: &[Value]) -> Result<Value, TemplateError> {
    let t = arg_str(args, 0)?;
    let layout = arg_str(args, 1)?;
    let parsed = chrono::NaiveDateTime::parse_from_str(
        t.trim_end_matches(" +0000 UTC"),
        "%Y-%m-%d %H:%M:%S%.f",
    )
    .map_err(|e| err(format!("formatTime: {t:?}: {e}")))?;
    let utc = parsed.and_utc();
    Ok(string(utc.format(&go_layout_to_strftime(&layout)).to_string()))
}

/// Alertmanager's template functions and the method helpers.
pub fn func_map() -> FuncMap {
    let mut m = FuncMap::new();
    let mut add = |name: &str, f: fn(&[Value]) -> Result<Value, TemplateError>| {
        m.insert(name.to_string(), Arc::new(f));
    };
    add("toUpper", |a| Ok(string(arg_str(a, 0)?.to_uppercase())));
    add("toLower", |a| Ok(string(arg_str(a, 0)?.to_lowercase())));
    add("title", |a| Ok(string(title(&arg_str(a, 0)?))));
    add("trimSpace", |a| Ok(string(arg_str(a, 0)?.trim().to_string())));
    add("safeHtml", |a| Ok(string(arg_str(a, 0)?)));
    add("join", |a| {
        let sep = arg_str(a, 0)?;
        Ok(string(a.get(1).map(list_of_strings).unwrap_or_default().join(&sep)))
    });
    add("match", |a| Ok(Value::Bool(compile(&arg_str(a, 0)?)?.is_match(&arg_str(a, 1)?))));
    add("reReplaceAll", |a| {
        let re = compile(&arg_str(a, 0)?)?;
        let repl = arg_str(a, 1)?;
        Ok(string(re.replace_all(&arg_str(a, 2)?, repl.as_str()).into_owned()))
    });
    add("stringSlice", |a| Ok(Value::List(a.iter().map(|v| string(v.to_string())).collect())));
    add("sortedPairs", sorted_pairs);
    add("names", |a| names_or_values(a, true));
    add("values", |a| names_or_values(a, false));
    add("remove", remove);
    add("formatTime", format_time);
    m
}

static ALERTS_METHOD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\.Alerts\.(Firing|Resolved)\b").expect("static regex"));
static REMOVE_METHOD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?P<x>(?:\$\w*)?(?:\.[A-Za-z_]\w*)*)\.Remove\s+(?P<y>(?:\$\w*)?(?:\.[A-Za-z_]\w*)+)",
    )
    .expect("static regex")
});
static FORMAT_METHOD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?P<x>(?:\$\w*)?(?:\.[A-Za-z_]\w*)*)\.Format\s+(?P<l>"(?:[^"\\]|\\.)*"|`[^`]*`)"#)
        .expect("static regex")
});
static KV_METHOD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<x>(?:\$\w*)?(?:\.[A-Za-z_]\w*)*)\.(?P<m>SortedPairs|Names|Values)\b")
        .expect("static regex")
});

fn or_dot(x: &str) -> &str {
    if x.is_empty() { "." } else { x }
}

/// Rewrites Go method calls on the data model into helper calls:
/// `.Alerts.Firing` -> `.AlertsFiring`, `X.SortedPairs` -> `(sortedPairs X)`,
/// `X.Names`/`X.Values` -> `(names X)`/`(values X)`, `X.Remove Y` -> `(remove X Y)`,
/// `X.Format "layout"` -> `(formatTime X "layout")`.
pub fn rewrite_methods(src: &str) -> String {
    let mut s = ALERTS_METHOD.replace_all(src, ".Alerts$1").into_owned();
    s = FORMAT_METHOD
        .replace_all(&s, |c: &regex::Captures| {
            format!("(formatTime {} {})", or_dot(&c["x"]), &c["l"])
        })
        .into_owned();
    s = REMOVE_METHOD
        .replace_all(&s, |c: &regex::Captures| format!("(remove {} {})", or_dot(&c["x"]), &c["y"]))
        .into_owned();
    for _ in 0..8 {
        let next = KV_METHOD
            .replace_all(&s, |c: &regex::Captures| {
                let f = match &c["m"] {
                    "SortedPairs" => "sortedPairs",
                    "Names" => "names",
                    _ => "values",
                };
                format!("({f} {})", or_dot(&c["x"]))
            })
            .into_owned();
        if next == s {
            break;
        }
        s = next;
    }
    s
}
