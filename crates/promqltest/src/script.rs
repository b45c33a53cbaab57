//! Parsing `.test` scripts into commands.

use model::Labels;

use crate::notation;

/// An expectation line of an `eval` command.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    Fail(Matcher),
    Warn(Matcher),
    Info(Matcher),
    NoWarn,
    NoInfo,
    Ordered,
}

/// How an expected message is matched.
#[derive(Debug, Clone, PartialEq)]
pub enum Matcher {
    Any,
    Msg(String),
    Regex(String),
}

/// An `eval` command.
#[derive(Debug, Clone)]
pub struct Eval {
    pub line: usize,
    pub query: String,
    /// `(start, end, step)`; instant queries have `start == end` and `range == false`.
    pub start: i64,
    pub end: i64,
    pub step: i64,
    pub range: bool,
    pub expects: Vec<Expect>,
    /// Expected series and their values (`None` for `_`).
    pub series: Vec<(Labels, Vec<Option<f64>>)>,
    pub scalar: Option<f64>,
    pub string: Option<String>,
    /// `expect range vector from .. to .. step ..` (instant query returning a matrix).
    pub range_vector: Option<(i64, i64, i64)>,
    /// The expected output uses native histograms.
    pub native_histograms: bool,
}

/// One command of a script.
#[derive(Debug, Clone)]
pub enum Command {
    Load { line: usize, interval: i64, lines: Vec<(usize, String)>, nhcb: bool },
    Clear,
    Eval(Box<Eval>),
}

/// Parses a Prometheus duration (`1h30m`, `5m`, `10s`, `100ms`, `0`) into milliseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    if s == "0" {
        return Ok(0);
    }
    let mut total: i64 = 0;
    let mut rest = s;
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return Err(format!("invalid duration {s:?}"));
        }
        let num: i64 = rest[..n].parse().map_err(|_| format!("invalid duration {s:?}"))?;
        rest = &rest[n..];
        let u = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let mult = match &rest[..u] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "y" => 365 * 86_400_000,
            _ => return Err(format!("invalid duration {s:?}")),
        };
        rest = &rest[u..];
        total = total.saturating_add(num.saturating_mul(mult));
    }
    Ok(total)
}

/// The interval of a `load <interval>` (or `load_with_nhcb <interval>`) line.
pub fn parse_load_header(line: &str) -> Result<i64, String> {
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some("load" | "load_with_nhcb"), Some(d), None) => parse_duration(d),
        _ => Err(format!("invalid load command {line:?}")),
    }
}

fn err(line: usize, msg: impl Into<String>) -> String {
    format!("line {line}: {}", msg.into())
}

/// Parses a whole script.
pub fn parse(input: &str) -> Result<Vec<Command>, String> {
    let lines: Vec<String> = input
        .lines()
        .map(|l| {
            let t = l.trim();
            if t.starts_with('#') { String::new() } else { t.to_string() }
        })
        .collect();
    let mut cmds = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = &lines[i];
        if l.is_empty() {
            i += 1;
            continue;
        }
        let word = l.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
        if word == "clear" {
            cmds.push(Command::Clear);
            i += 1;
        } else if word.starts_with("load") {
            let interval = parse_load_header(l).map_err(|e| err(i + 1, e))?;
            let nhcb = word == "load_with_nhcb";
            let start = i;
            i += 1;
            let mut body = Vec::new();
            while i < lines.len() && !lines[i].is_empty() {
                body.push((i + 1, lines[i].clone()));
                i += 1;
            }
            cmds.push(Command::Load { line: start + 1, interval, lines: body, nhcb });
        } else if word.starts_with("eval") {
            let (eval, next) = parse_eval(&lines, i)?;
            cmds.push(Command::Eval(Box::new(eval)));
            i = next;
        } else {
            return Err(err(i + 1, format!("invalid command {l:?}")));
        }
    }
    Ok(cmds)
}

fn parse_expect(line: &str) -> Result<Option<Expect>, String> {
    let rest = line.strip_prefix("expect").unwrap_or("").trim();
    let (kind, tail) = match rest.split_once(char::is_whitespace) {
        Some((k, t)) => (k, t.trim()),
        None => (rest, ""),
    };
    let matcher = if tail.is_empty() {
        Matcher::Any
    } else if let Some(m) = tail.strip_prefix("msg:") {
        Matcher::Msg(m.trim().to_string())
    } else if let Some(m) = tail.strip_prefix("regex:") {
        Matcher::Regex(m.trim().to_string())
    } else {
        return Err(format!("invalid expect line {line:?}"));
    };
    Ok(Some(match kind {
        "fail" => Expect::Fail(matcher),
        "warn" => Expect::Warn(matcher),
        "info" => Expect::Info(matcher),
        "no_warn" => Expect::NoWarn,
        "no_info" => Expect::NoInfo,
        "ordered" => Expect::Ordered,
        _ => return Err(format!("invalid expect line {line:?}")),
    }))
}

fn parse_eval(lines: &[String], i: usize) -> Result<(Eval, usize), String> {
    let l = &lines[i];
    let (head, rest) =
        l.split_once(char::is_whitespace).ok_or_else(|| err(i + 1, "invalid eval"))?;
    let modifier = head.strip_prefix("eval").unwrap_or("").trim_start_matches('_').to_string();
    let rest = rest.trim();
    let mut ev = Eval {
        line: i + 1,
        query: String::new(),
        start: 0,
        end: 0,
        step: 0,
        range: false,
        expects: vec![],
        series: vec![],
        scalar: None,
        string: None,
        range_vector: None,
        native_histograms: false,
    };
    if let Some(r) = rest.strip_prefix("instant") {
        let r = r.trim();
        let r = r.strip_prefix("at").ok_or_else(|| err(i + 1, "expected 'at'"))?.trim();
        let (t, q) =
            r.split_once(char::is_whitespace).ok_or_else(|| err(i + 1, "missing query"))?;
        ev.start = parse_duration(t).map_err(|e| err(i + 1, e))?;
        ev.end = ev.start;
        ev.query = q.trim().to_string();
    } else if let Some(r) = rest.strip_prefix("range") {
        let words: Vec<&str> = r.split_whitespace().collect();
        if words.len() < 7 || words[0] != "from" || words[2] != "to" || words[4] != "step" {
            return Err(err(i + 1, "invalid range eval"));
        }
        ev.range = true;
        ev.start = parse_duration(words[1]).map_err(|e| err(i + 1, e))?;
        ev.end = parse_duration(words[3]).map_err(|e| err(i + 1, e))?;
        ev.step = parse_duration(words[5]).map_err(|e| err(i + 1, e))?;
        let mut rest_q = r.trim_start();
        for _ in 0..6 {
            rest_q = rest_q.split_once(char::is_whitespace).map_or("", |(_, t)| t).trim_start();
        }
        ev.query = rest_q.trim().to_string();
    } else {
        return Err(err(i + 1, "invalid eval"));
    }
    match modifier.as_str() {
        "fail" => ev.expects.push(Expect::Fail(Matcher::Any)),
        "warn" => ev.expects.push(Expect::Warn(Matcher::Any)),
        "info" => ev.expects.push(Expect::Info(Matcher::Any)),
        "ordered" => ev.expects.push(Expect::Ordered),
        _ => {}
    }
    let mut j = i + 1;
    while j < lines.len() && !lines[j].is_empty() {
        let d = &lines[j];
        j += 1;
        if let Some(m) = d.strip_prefix("expected_fail_message") {
            ev.expects.retain(|e| !matches!(e, Expect::Fail(_)));
            ev.expects.push(Expect::Fail(Matcher::Msg(m.trim().to_string())));
            break;
        }
        if let Some(m) = d.strip_prefix("expected_fail_regexp") {
            ev.expects.retain(|e| !matches!(e, Expect::Fail(_)));
            ev.expects.push(Expect::Fail(Matcher::Regex(m.trim().to_string())));
            break;
        }
        if let Some(r) = d.strip_prefix("expect range vector") {
            let w: Vec<&str> = r.split_whitespace().collect();
            if w.len() != 6 {
                return Err(err(j, "invalid range vector expectation"));
            }
            let p = |s: &str| parse_duration(s).map_err(|e| err(j, e));
            ev.range_vector = Some((p(w[1])?, p(w[3])?, p(w[5])?));
            continue;
        }
        if let Some(r) = d.strip_prefix("expect string") {
            ev.string = Some(unquote(r.trim()).ok_or_else(|| err(j, "invalid expected string"))?);
            continue;
        }
        if d.split(' ').next() == Some("expect") {
            if let Some(e) = parse_expect(d).map_err(|e| err(j, e))? {
                ev.expects.push(e);
            }
            continue;
        }
        if let Ok(v) = notation::parse_number(d)
            && !d.contains(char::is_whitespace)
        {
            ev.scalar = Some(v);
            break;
        }
        if d.contains("{{") {
            ev.native_histograms = true;
            continue;
        }
        let (labels, vals) = notation::split_series(d).map_err(|e| err(j, e.to_string()))?;
        let mut values = Vec::new();
        for item in vals.split_whitespace() {
            let items = expand_expected(item).map_err(|e| err(j, e))?;
            values.extend(items);
        }
        ev.series.push((labels, values));
    }
    Ok((ev, j))
}

fn expand_expected(item: &str) -> Result<Vec<Option<f64>>, String> {
    let vals = notation::parse_series_values(item, 1).map_err(|e| e.to_string())?;
    // Re-expand to keep gaps: parse_series_values drops `_`; rebuild by slot.
    let slots = if item.starts_with('_') {
        match item.strip_prefix("_x") {
            Some(n) => n.parse::<usize>().map_err(|e| e.to_string())?,
            None => 1,
        }
    } else {
        vals.len()
    };
    let mut out = vec![None; slots];
    for (t, v) in vals {
        if let Some(slot) = out.get_mut(t as usize) {
            *slot = Some(v);
        }
    }
    Ok(out)
}

/// Unquotes a Go string literal (double or back quotes).
fn unquote(s: &str) -> Option<String> {
    if s.len() >= 2 && s.starts_with('`') && s.ends_with('`') {
        return Some(s[1..s.len() - 1].to_string());
    }
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        let mut out = String::new();
        let mut chars = s[1..s.len() - 1].chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next()? {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
            } else {
                out.push(c);
            }
        }
        return Some(out);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("100ms"), Ok(100));
        assert!(parse_duration("1x").is_err());
    }

    #[test]
    fn parses_commands() {
        let s = "load 5m\n  a{x=\"1\"} 1+1x3\n\neval instant at 10m a\n  expect warn\n  a{x=\"1\"} 3\n\neval range from 0 to 10m step 5m sum(a)\n  {} 1 _ 3\n\nclear\n";
        let cmds = parse(s).unwrap();
        assert_eq!(cmds.len(), 4);
        let Command::Eval(e) = &cmds[2] else { panic!() };
        assert!(e.range);
        assert_eq!(e.step, 300_000);
        assert_eq!(e.series[0].1, vec![Some(1.0), None, Some(3.0)]);
    }
}
