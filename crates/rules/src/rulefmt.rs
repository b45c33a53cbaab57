//! Rule files in Prometheus' format (`rulefmt`): parsing and validation.
//!
//! ```yaml
//! groups:
//!   - name: example            # unique per file
//!     interval: 1m             # default: the global evaluation_interval
//!     query_offset: 0s         # default: the global rule_query_offset
//!     limit: 0                 # max alerts/series per rule; 0 = none
//!     labels: { team: a }      # added to every rule (rule labels win)
//!     rules:
//!       - record: job:up:sum
//!         expr: sum by (job) (up)
//!         labels: { .. }
//!       - alert: Down
//!         expr: up == 0
//!         for: 5m
//!         keep_firing_for: 0s
//!         labels: { severity: page }
//!         annotations: { summary: "{{ $labels.instance }} down" }
//! ```
//!
//! Unknown fields are errors. Validation errors carry `line:col` of the offending node and
//! read exactly like Prometheus' (`group "g", rule 1, "name": ...`).

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::template;

/// A parsed rule file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleFile {
    pub groups: Vec<RuleGroup>,
}

/// A parsed group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleGroup {
    pub name: String,
    /// Milliseconds; `None` means the global evaluation interval.
    pub interval_ms: Option<i64>,
    pub query_offset_ms: Option<i64>,
    pub limit: usize,
    pub labels: BTreeMap<String, String>,
    pub rules: Vec<RuleDef>,
}

/// A parsed rule: either `record` or `alert` is non-empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleDef {
    pub record: String,
    pub alert: String,
    pub expr: String,
    pub for_ms: i64,
    pub keep_firing_for_ms: i64,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl RuleDef {
    pub fn name(&self) -> &str {
        if self.alert.is_empty() { &self.record } else { &self.alert }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    groups: Vec<Spanned<RawGroup>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    name: String,
    interval: Option<String>,
    query_offset: Option<String>,
    #[serde(default)]
    limit: i64,
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    record: Option<Spanned<String>>,
    alert: Option<Spanned<String>>,
    expr: Option<Spanned<String>>,
    #[serde(rename = "for")]
    for_: Option<String>,
    keep_firing_for: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    annotations: Option<BTreeMap<String, String>>,
}

/// `line:col` of a node, or `0:0` when absent (as Go's zero `yaml.Node`).
type Pos = (u64, u64);

fn pos_of<T>(s: &Option<Spanned<T>>) -> Pos {
    s.as_ref().map_or((0, 0), |s| (s.referenced.line(), s.referenced.column()))
}

fn text_of(s: &Option<Spanned<String>>) -> String {
    s.as_ref().map(|s| s.value.clone()).unwrap_or_default()
}

/// Parses and validates one rule file's text. `check_expr` validates a PromQL expression and
/// returns the parser's message on error. Errors are Prometheus-worded messages without the
/// file name (callers prefix it).
pub fn parse(
    text: &str,
    check_expr: &dyn Fn(&str) -> Result<(), String>,
) -> Result<RuleFile, Vec<String>> {
    if text.trim().is_empty() {
        return Ok(RuleFile::default());
    }
    let raw: RawFile = serde_saphyr::from_str(text).map_err(|e| vec![yaml_error(&e)])?;
    let mut errs = Vec::new();
    let mut seen = HashSet::new();
    let mut groups = Vec::new();
    for g in raw.groups {
        let (line, col) = (g.referenced.line(), g.referenced.column());
        let g = g.value;
        if g.name.is_empty() {
            errs.push(format!("{line}:{col}: Groupname must not be empty"));
        }
        if !seen.insert(g.name.clone()) {
            errs.push(format!(
                "{line}:{col}: groupname: \"{}\" is repeated in the same file",
                g.name
            ));
        }
        match convert_group(g, check_expr) {
            Ok(group) => groups.push(group),
            Err(mut e) => errs.append(&mut e),
        }
    }
    if errs.is_empty() { Ok(RuleFile { groups }) } else { Err(errs) }
}

fn duration(s: &Option<String>, what: &str) -> Result<Option<i64>, String> {
    match s {
        None => Ok(None),
        Some(s) => model::duration::parse_duration(s)
            .map(Some)
            .map_err(|_| format!("not a valid duration string: {s:?} ({what})")),
    }
}

fn convert_group(
    g: RawGroup,
    check_expr: &dyn Fn(&str) -> Result<(), String>,
) -> Result<RuleGroup, Vec<String>> {
    let mut errs = Vec::new();
    let interval_ms = duration(&g.interval, "interval").map_err(|e| vec![e])?;
    let query_offset_ms = duration(&g.query_offset, "query_offset").map_err(|e| vec![e])?;
    let labels = g.labels.unwrap_or_default();
    for (k, v) in &labels {
        check_label(k, v, &mut errs);
    }
    let mut rules = Vec::new();
    for (i, r) in g.rules.into_iter().enumerate() {
        let name = if r.alert.as_ref().is_some_and(|a| !a.value.is_empty()) {
            text_of(&r.alert)
        } else {
            text_of(&r.record)
        };
        let (rule, rule_errs) = convert_rule(r, check_expr);
        for (pos, e) in rule_errs {
            errs.push(format!("{pos}group {:?}, rule {}, {:?}: {}", g.name, i + 1, name, e));
        }
        rules.push(rule);
    }
    let group = RuleGroup {
        name: g.name,
        interval_ms,
        query_offset_ms,
        limit: g.limit.max(0) as usize,
        labels,
        rules,
    };
    if errs.is_empty() { Ok(group) } else { Err(errs) }
}

fn check_label(k: &str, v: &str, errs: &mut Vec<String>) {
    if !model::names::is_utf8_name(k) || k == model::METRIC_NAME {
        errs.push(format!("invalid label name: {k}"));
    }
    let _ = v; // every Rust string is valid UTF-8, as label values must be
}

/// A rule error: the `line:col: ` prefix (empty if the error has no node) and the message.
type RuleErr = (String, String);

fn at(p: Pos, msg: impl std::fmt::Display) -> RuleErr {
    (format!("{}:{}: ", p.0, p.1), msg.to_string())
}

fn at2(p: Pos, q: Pos, msg: impl std::fmt::Display) -> RuleErr {
    (format!("{}:{}: {}:{}: ", p.0, p.1, q.0, q.1), msg.to_string())
}

fn plain(msg: impl std::fmt::Display) -> RuleErr {
    (String::new(), msg.to_string())
}

fn convert_rule(
    r: RawRule,
    check_expr: &dyn Fn(&str) -> Result<(), String>,
) -> (RuleDef, Vec<RuleErr>) {
    let mut errs = Vec::new();
    let (rec_pos, alert_pos, expr_pos) = (pos_of(&r.record), pos_of(&r.alert), pos_of(&r.expr));
    let def = RuleDef {
        record: text_of(&r.record),
        alert: text_of(&r.alert),
        expr: text_of(&r.expr),
        for_ms: duration(&r.for_, "for")
            .unwrap_or_else(|e| {
                errs.push(plain(e));
                None
            })
            .unwrap_or(0),
        keep_firing_for_ms: duration(&r.keep_firing_for, "keep_firing_for")
            .unwrap_or_else(|e| {
                errs.push(plain(e));
                None
            })
            .unwrap_or(0),
        labels: r.labels.unwrap_or_default(),
        annotations: r.annotations.unwrap_or_default(),
    };
    if !def.record.is_empty() && !def.alert.is_empty() {
        errs.push(at2(rec_pos, alert_pos, "only one of 'record' and 'alert' must be set"));
    }
    if def.record.is_empty() && def.alert.is_empty() {
        errs.push(at2(rec_pos, alert_pos, "one of 'record' or 'alert' must be set"));
    }
    if def.expr.is_empty() {
        errs.push(at(expr_pos, "field 'expr' must be set in rule"));
    } else if let Err(e) = check_expr(&def.expr) {
        errs.push(at(expr_pos, format!("could not parse expression: {e}")));
    }
    if !def.record.is_empty() {
        check_recording(&def, rec_pos, &mut errs);
    }
    let mut label_errs = Vec::new();
    for (k, v) in &def.labels {
        check_label(k, v, &mut label_errs);
    }
    errs.extend(label_errs.into_iter().map(plain));
    for k in def.annotations.keys() {
        if !model::names::is_utf8_name(k) {
            errs.push(plain(format!("invalid annotation name: {k}")));
        }
    }
    if !def.alert.is_empty() {
        check_templates(&def, &mut errs);
    }
    (def, errs)
}

fn check_recording(def: &RuleDef, rec_pos: Pos, errs: &mut Vec<RuleErr>) {
    if !def.annotations.is_empty() {
        errs.push(at(rec_pos, "invalid field 'annotations' in recording rule"));
    }
    if def.for_ms != 0 {
        errs.push(at(rec_pos, "invalid field 'for' in recording rule"));
    }
    if def.keep_firing_for_ms != 0 {
        errs.push(at(rec_pos, "invalid field 'keep_firing_for' in recording rule"));
    }
    if !model::names::is_utf8_name(&def.record) {
        errs.push(at(rec_pos, format!("invalid recording rule name: {}", def.record)));
    }
    if def.record.contains('{') || def.record.contains('}') {
        errs.push(at(
            rec_pos,
            format!(
                "braces present in the recording rule name; should it be in expr?: {}",
                def.record
            ),
        ));
    }
}

fn check_templates(def: &RuleDef, errs: &mut Vec<RuleErr>) {
    let name = format!("__alert_{}", def.alert);
    for (k, v) in &def.labels {
        if let Err(e) = template::parse_test(&name, v) {
            errs.push(plain(format!("label {k:?}: {e}")));
        }
    }
    for (k, v) in &def.annotations {
        if let Err(e) = template::parse_test(&name, v) {
            errs.push(plain(format!("annotation {k:?}: {e}")));
        }
    }
}

/// Rewrites a YAML decoding error as Prometheus (yaml.v3) words it where it can.
fn yaml_error(e: &serde_saphyr::Error) -> String {
    let msg = e.to_string();
    let line = e.location().map(|l| l.line()).unwrap_or(0);
    let first = msg.lines().next().unwrap_or(&msg).to_string();
    if let Some(field) = unknown_field(&first) {
        let ty = if first.contains("expected one of record") {
            "rulefmt.RuleNode"
        } else if first.contains("expected one of name") {
            "rulefmt.RuleGroup"
        } else {
            "rulefmt.RuleGroups"
        };
        return format!(
            "yaml: unmarshal errors:\n  line {line}: field {field} not found in type {ty}"
        );
    }
    if line > 0 { format!("yaml: line {line}: {first}") } else { format!("yaml: {first}") }
}

fn unknown_field(msg: &str) -> Option<String> {
    let rest = msg.split("unknown field `").nth(1)?;
    Some(rest.split('`').next()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(_: &str) -> Result<(), String> {
        Ok(())
    }

    #[test]
    fn parses_groups_and_rules() {
        let f = parse(
            "groups:\n- name: g\n  interval: 30s\n  limit: 3\n  labels: {team: a}\n  rules:\n  - record: r\n    expr: up\n  - alert: A\n    expr: up == 0\n    for: 5m\n    keep_firing_for: 1m\n    annotations: {s: '{{ $value }}'}\n",
            &ok,
        )
        .unwrap();
        let g = &f.groups[0];
        assert_eq!((g.interval_ms, g.limit), (Some(30_000), 3));
        assert_eq!(g.rules[1].for_ms, 300_000);
        assert_eq!(g.rules[1].keep_firing_for_ms, 60_000);
        assert_eq!(g.rules[1].name(), "A");
    }

    #[test]
    fn validation_errors_read_like_prometheus() {
        let e = parse(
            "groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n    for: 1m\n  - alert: A\n",
            &ok,
        )
        .unwrap_err();
        assert_eq!(e[0], r#"4:13: group "g", rule 1, "r": invalid field 'for' in recording rule"#);
        assert_eq!(e[1], r#"0:0: group "g", rule 2, "A": field 'expr' must be set in rule"#);
        let e =
            parse("groups:\n- name: g\n  rules: []\n- name: g\n  rules: []\n", &ok).unwrap_err();
        assert_eq!(e[0], "4:3: groupname: \"g\" is repeated in the same file");
    }

    #[test]
    fn unknown_fields_are_errors_with_line() {
        let e =
            parse("groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n    bogus: 1\n", &ok)
                .unwrap_err();
        assert!(e[0].contains("line 6: field bogus not found"), "{}", e[0]);
    }
}
