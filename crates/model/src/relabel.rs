//! Relabeling: Prometheus' `relabel_configs` semantics, shared by target relabeling, metric
//! relabeling, alert relabeling and remote-write relabeling.
//!
//! A [`RelabelConfig`] is the validated, compiled form of one YAML entry (the serde type lives in
//! the `config` crate). [`process`] applies a list of them in order and returns `None` when a
//! `keep`/`drop`-style step drops the label set. Defaults are Prometheus': separator `;`, regex
//! `(.*)` (fully anchored as `^(?:EXPR)$`, so `.` does not match `\n`), replacement `$1`,
//! action `replace`. Replacements use Go's `$1` / `${name}` expansion and `lowercase` /
//! `uppercase` Go's simple case mapping ([`go_text`]).

mod go_text;

use regex::Regex;

use crate::names::is_legacy_label_name;
use crate::{Labels, LabelsBuilder, ModelError, regex_compat};

/// The default separator joining source label values.
pub const DEFAULT_SEPARATOR: &str = ";";
/// The default regex.
pub const DEFAULT_REGEX: &str = "(.*)";
/// The default replacement.
pub const DEFAULT_REPLACEMENT: &str = "$1";

/// A relabeling action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Replace,
    Keep,
    Drop,
    KeepEqual,
    DropEqual,
    HashMod,
    LabelMap,
    LabelDrop,
    LabelKeep,
    Lowercase,
    Uppercase,
}

impl Action {
    /// The name as written in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }

    /// Parses an action name case-insensitively, as Prometheus does.
    pub fn parse(s: &str) -> Option<Action> {
        let all = [
            Action::Replace,
            Action::Keep,
            Action::Drop,
            Action::KeepEqual,
            Action::DropEqual,
            Action::HashMod,
            Action::LabelMap,
            Action::LabelDrop,
            Action::LabelKeep,
            Action::Lowercase,
            Action::Uppercase,
        ];
        all.into_iter().find(|a| a.as_str().eq_ignore_ascii_case(s))
    }
}

/// A relabel regex: the pattern as written and its anchored compiled form.
#[derive(Debug, Clone)]
pub struct RelabelRegex {
    source: String,
    re: Regex,
}

impl RelabelRegex {
    /// Compiles `pattern` anchored at both ends with Go RE2 semantics.
    pub fn new(pattern: &str) -> Result<RelabelRegex, ModelError> {
        Ok(RelabelRegex {
            source: pattern.to_string(),
            re: regex_compat::compile_anchored_without_dotall(pattern)?,
        })
    }

    /// The pattern as written (without the anchors).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn is_match(&self, s: &str) -> bool {
        self.re.is_match(s)
    }

    /// Expands `template` against the match of this regex in `s`, or `None` if it does not match.
    pub fn expand(&self, template: &str, s: &str) -> Option<String> {
        let caps = self.re.captures(s)?;
        let mut out = String::new();
        go_text::expand(&self.re, &caps, template, &mut out);
        Some(out)
    }
}

impl Default for RelabelRegex {
    fn default() -> Self {
        RelabelRegex::new(DEFAULT_REGEX).unwrap_or_else(|_| unreachable!("default regex compiles"))
    }
}

impl PartialEq for RelabelRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// One validated relabeling step.
#[derive(Debug, Clone, PartialEq)]
pub struct RelabelConfig {
    pub source_labels: Vec<String>,
    pub separator: String,
    pub regex: RelabelRegex,
    pub modulus: u64,
    pub target_label: String,
    pub replacement: String,
    pub action: Action,
}

impl Default for RelabelConfig {
    fn default() -> Self {
        RelabelConfig {
            source_labels: Vec::new(),
            separator: DEFAULT_SEPARATOR.to_string(),
            regex: RelabelRegex::default(),
            modulus: 0,
            target_label: String::new(),
            replacement: DEFAULT_REPLACEMENT.to_string(),
            action: Action::Replace,
        }
    }
}

/// Prometheus' `relabelTarget`: label-name characters or `$name` / `${name}` references.
fn is_valid_relabel_target(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            i += 1;
            if b.get(i) == Some(&b'{') {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && word(b[j]) {
                    j += 1;
                }
                if j == start || b.get(j) != Some(&b'}') {
                    return false;
                }
                i = j + 1;
            } else {
                let start = i;
                while i < b.len() && word(b[i]) {
                    i += 1;
                }
                if i == start {
                    return false;
                }
            }
        } else if word(b[i]) {
            // A name must not start with a digit unless a `$ref` came first.
            if i == 0 && b[i].is_ascii_digit() {
                return false;
            }
            i += 1;
        } else {
            return false;
        }
    }
    true
}

impl RelabelConfig {
    /// Checks the combination of fields as Prometheus' YAML unmarshalling does, in its order.
    /// Two checks need to know whether a field was written at all (`regex` for
    /// `keepequal`/`dropequal`, `source_labels` for `labeldrop`/`labelkeep`); the YAML layer
    /// makes them before calling this.
    pub fn validate(&self) -> Result<(), String> {
        let a = self.action;
        let name = a.as_str();
        if self.modulus == 0 && a == Action::HashMod {
            return Err("relabel configuration for hashmod requires non-zero modulus".into());
        }
        let needs_target = matches!(
            a,
            Action::Replace
                | Action::HashMod
                | Action::Lowercase
                | Action::Uppercase
                | Action::KeepEqual
                | Action::DropEqual
        );
        if needs_target && self.target_label.is_empty() {
            return Err(format!(
                "relabel configuration for {name} action requires 'target_label' value"
            ));
        }
        let case_or_equal = matches!(
            a,
            Action::Lowercase | Action::Uppercase | Action::KeepEqual | Action::DropEqual
        );
        if (a == Action::Replace || case_or_equal) && !is_valid_relabel_target(&self.target_label) {
            return Err(format!(
                "{:?} is invalid 'target_label' for {name} action",
                self.target_label
            ));
        }
        if case_or_equal && self.replacement != DEFAULT_REPLACEMENT {
            return Err(format!("'replacement' can not be set for {name} action"));
        }
        if a == Action::LabelMap && !is_valid_relabel_target(&self.replacement) {
            return Err(format!(
                "{:?} is invalid 'replacement' for {name} action",
                self.replacement
            ));
        }
        if a == Action::HashMod && !is_legacy_label_name(&self.target_label) {
            return Err(format!(
                "{:?} is invalid 'target_label' for {name} action",
                self.target_label
            ));
        }
        if matches!(a, Action::KeepEqual | Action::DropEqual)
            && (self.regex.as_str() != DEFAULT_REGEX
                || self.modulus != 0
                || self.separator != DEFAULT_SEPARATOR
                || self.replacement != DEFAULT_REPLACEMENT)
        {
            return Err(equal_action_fields_error(a));
        }
        if matches!(a, Action::LabelDrop | Action::LabelKeep)
            && (!self.source_labels.is_empty()
                || !self.target_label.is_empty()
                || self.modulus != 0
                || self.separator != DEFAULT_SEPARATOR
                || self.replacement != DEFAULT_REPLACEMENT)
        {
            return Err(label_action_fields_error(a));
        }
        Ok(())
    }
}

/// The error for `keepequal`/`dropequal` with a field other than `source_labels` and
/// `target_label` (Prometheus' wording, backquotes included).
pub fn equal_action_fields_error(a: Action) -> String {
    format!(
        "{} action requires only 'source_labels' and `target_label`, and no other fields",
        a.as_str()
    )
}

/// The error for `labeldrop`/`labelkeep` with a field other than `regex`.
pub fn label_action_fields_error(a: Action) -> String {
    format!("{} action requires only 'regex', and no other fields", a.as_str())
}

/// Applies `cfgs` in order. Returns `None` if the label set was dropped.
pub fn process(labels: &Labels, cfgs: &[RelabelConfig]) -> Option<Labels> {
    if cfgs.is_empty() {
        return Some(labels.clone());
    }
    let mut lb = labels.builder();
    for cfg in cfgs {
        if !relabel(cfg, &mut lb) {
            return None;
        }
    }
    Some(lb.build())
}

/// Applies one step to a builder. Returns false if the label set must be dropped.
pub fn relabel(cfg: &RelabelConfig, lb: &mut LabelsBuilder) -> bool {
    relabel_observed(cfg, lb, &mut |_| {})
}

/// [`relabel`], calling `touched` with every label name the step sets or deletes (the names
/// Prometheus' label builder records as changes), in order.
pub fn relabel_observed(
    cfg: &RelabelConfig,
    lb: &mut LabelsBuilder,
    touched: &mut dyn FnMut(&str),
) -> bool {
    let val = join_sources(cfg, lb);
    match cfg.action {
        Action::Drop => return !cfg.regex.is_match(&val),
        Action::Keep => return cfg.regex.is_match(&val),
        Action::DropEqual => return lb.get(&cfg.target_label).unwrap_or("") != val,
        Action::KeepEqual => return lb.get(&cfg.target_label).unwrap_or("") == val,
        Action::Replace => replace(cfg, &val, lb, touched),
        Action::Lowercase => {
            touched(&cfg.target_label);
            lb.set(&cfg.target_label, &go_text::to_lower(&val));
        }
        Action::Uppercase => {
            touched(&cfg.target_label);
            lb.set(&cfg.target_label, &go_text::to_upper(&val));
        }
        Action::HashMod => {
            let digest = md5::compute(val.as_bytes());
            let mut tail = [0u8; 8];
            tail.copy_from_slice(&digest.0[8..]);
            let m = u64::from_be_bytes(tail) % cfg.modulus.max(1);
            touched(&cfg.target_label);
            lb.set(&cfg.target_label, &m.to_string());
        }
        Action::LabelMap => {
            for l in lb.build().iter() {
                if let Some(name) = cfg.regex.expand(&cfg.replacement, &l.name) {
                    touched(&name);
                    lb.set(&name, &l.value);
                }
            }
        }
        Action::LabelDrop | Action::LabelKeep => {
            let keep_matching = cfg.action == Action::LabelKeep;
            for l in lb.build().iter() {
                if cfg.regex.is_match(&l.name) != keep_matching {
                    touched(&l.name);
                    lb.del(&l.name);
                }
            }
        }
    }
    true
}

fn join_sources(cfg: &RelabelConfig, lb: &LabelsBuilder) -> String {
    let mut val = String::new();
    for (i, name) in cfg.source_labels.iter().enumerate() {
        if i > 0 {
            val.push_str(&cfg.separator);
        }
        val.push_str(lb.get(name).unwrap_or(""));
    }
    val
}

/// As Prometheus: an expanded target that is not a valid label name, or an empty expanded
/// replacement, deletes the label named by the unexpanded `target_label`.
fn replace(cfg: &RelabelConfig, val: &str, lb: &mut LabelsBuilder, touched: &mut dyn FnMut(&str)) {
    let re = &cfg.regex.re;
    let Some(caps) = re.captures(val) else { return };
    let mut target = String::new();
    go_text::expand(re, &caps, &cfg.target_label, &mut target);
    if !is_legacy_label_name(&target) {
        touched(&cfg.target_label);
        lb.del(&cfg.target_label);
        return;
    }
    let mut res = String::new();
    go_text::expand(re, &caps, &cfg.replacement, &mut res);
    if res.is_empty() {
        touched(&cfg.target_label);
        lb.del(&cfg.target_label);
    } else {
        touched(&target);
        lb.set(&target, &res);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cfg(action: Action) -> RelabelConfig {
        RelabelConfig { action, ..RelabelConfig::default() }
    }

    fn re(s: &str) -> RelabelRegex {
        RelabelRegex::new(s).unwrap()
    }

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::new(pairs.iter().copied())
    }

    #[test]
    fn replace_with_groups_and_named_groups() {
        let c = RelabelConfig {
            source_labels: vec!["a".into(), "b".into()],
            regex: re("(?P<x>f.*);(.*)"),
            target_label: "t_${x}".into(),
            replacement: "${2}-$x".into(),
            ..cfg(Action::Replace)
        };
        c.validate().unwrap();
        let out = process(&l(&[("a", "foo"), ("b", "bar")]), &[c]).unwrap();
        assert_eq!(out.get("t_foo"), Some("bar-foo"));
    }

    #[test]
    fn replace_no_match_and_empty_result_deletes() {
        let c = RelabelConfig {
            source_labels: vec!["a".into()],
            regex: re("x(.*)"),
            target_label: "a".into(),
            ..cfg(Action::Replace)
        };
        let input = l(&[("a", "foo")]);
        assert_eq!(process(&input, std::slice::from_ref(&c)).unwrap(), input);
        let del = l(&[("a", "x")]);
        assert_eq!(process(&del, &[c]).unwrap(), Labels::empty());
    }

    #[test]
    fn replace_deletes_the_unexpanded_target_label() {
        let input = l(&[("a", "x"), ("t_x", "1"), ("${1}", "ignored")]);
        // Empty replacement: Prometheus deletes `target_label` as written, not `t_x`.
        let c = RelabelConfig {
            source_labels: vec!["a".into()],
            target_label: "t_$1".into(),
            replacement: "".into(),
            ..cfg(Action::Replace)
        };
        assert_eq!(process(&input, &[c]).unwrap(), input);
        // Invalid expanded name: the same.
        let c = RelabelConfig {
            source_labels: vec!["a".into()],
            regex: re("(.*)"),
            target_label: "${1}".into(),
            replacement: "v".into(),
            ..cfg(Action::Replace)
        };
        let input = l(&[("a", "1x")]);
        assert_eq!(process(&input, &[c]).unwrap(), input);
    }

    #[test]
    fn dot_does_not_match_newline() {
        let c = RelabelConfig {
            source_labels: vec!["a".into()],
            regex: re("a.b"),
            ..cfg(Action::Keep)
        };
        assert!(process(&l(&[("a", "a\nb")]), std::slice::from_ref(&c)).is_none());
        assert!(process(&l(&[("a", "a-b")]), &[c]).is_some());
    }

    #[test]
    fn keep_drop_and_equal_variants() {
        let input = l(&[("a", "1"), ("b", "1"), ("c", "2")]);
        let keep =
            RelabelConfig { source_labels: vec!["a".into()], regex: re("1"), ..cfg(Action::Keep) };
        assert!(process(&input, &[keep]).is_some());
        let drop =
            RelabelConfig { source_labels: vec!["c".into()], regex: re("2"), ..cfg(Action::Drop) };
        assert!(process(&input, &[drop]).is_none());
        let ke = RelabelConfig {
            source_labels: vec!["a".into()],
            target_label: "b".into(),
            ..cfg(Action::KeepEqual)
        };
        assert!(process(&input, std::slice::from_ref(&ke)).is_some());
        let de = RelabelConfig { action: Action::DropEqual, ..ke.clone() };
        assert!(process(&input, &[de]).is_none());
        let ke_c = RelabelConfig { target_label: "c".into(), ..ke };
        assert!(process(&input, &[ke_c]).is_none());
    }

    #[test]
    fn hashmod_matches_prometheus() {
        // From Prometheus' relabel tests: md5("foo") last 8 bytes mod 1000 = 976... computed as
        // binary.BigEndian.Uint64(md5[8:]) % modulus.
        let c = RelabelConfig {
            source_labels: vec!["a".into()],
            target_label: "h".into(),
            modulus: 1000,
            ..cfg(Action::HashMod)
        };
        let d = md5::compute(b"foo");
        let want = u64::from_be_bytes(d.0[8..].try_into().unwrap()) % 1000;
        let out = process(&l(&[("a", "foo")]), &[c]).unwrap();
        assert_eq!(out.get("h"), Some(want.to_string().as_str()));
    }

    #[test]
    fn labelmap_labeldrop_labelkeep() {
        let input = l(&[("__meta_x", "1"), ("__meta_y", "2"), ("job", "j")]);
        let map = RelabelConfig {
            regex: re("__meta_(.+)"),
            replacement: "m_$1".into(),
            ..cfg(Action::LabelMap)
        };
        map.validate().unwrap();
        let out = process(&input, &[map]).unwrap();
        assert_eq!(out.get("m_x"), Some("1"));
        assert_eq!(out.get("__meta_x"), Some("1"));
        let drop = RelabelConfig { regex: re("__meta_.*"), ..cfg(Action::LabelDrop) };
        assert_eq!(process(&input, &[drop]).unwrap(), l(&[("job", "j")]));
        let keep = RelabelConfig { regex: re("__meta_.*"), ..cfg(Action::LabelKeep) };
        assert_eq!(process(&input, &[keep]).unwrap(), l(&[("__meta_x", "1"), ("__meta_y", "2")]));
    }

    #[test]
    fn case_actions() {
        let input = l(&[("a", "FoO")]);
        let lo = RelabelConfig {
            source_labels: vec!["a".into()],
            target_label: "lo".into(),
            ..cfg(Action::Lowercase)
        };
        let up = RelabelConfig {
            source_labels: vec!["a".into()],
            target_label: "up".into(),
            ..cfg(Action::Uppercase)
        };
        let out = process(&input, &[lo, up]).unwrap();
        assert_eq!(out.get("lo"), Some("foo"));
        assert_eq!(out.get("up"), Some("FOO"));
    }

    #[test]
    fn validation_errors() {
        assert!(cfg(Action::Replace).validate().is_err(), "replace needs target_label");
        let hm = RelabelConfig { target_label: "x".into(), ..cfg(Action::HashMod) };
        assert!(hm.validate().unwrap_err().contains("non-zero modulus"));
        let ld = RelabelConfig { target_label: "x".into(), ..cfg(Action::LabelDrop) };
        assert!(ld.validate().unwrap_err().contains("requires only 'regex'"));
        let bad = RelabelConfig { target_label: "1x".into(), ..cfg(Action::Replace) };
        assert!(bad.validate().is_err());
        let ok = RelabelConfig { target_label: "${1}x".into(), ..cfg(Action::Replace) };
        ok.validate().unwrap();
        // Prometheus templates target_label for lowercase/uppercase/keepequal/dropequal too,
        // and only hashmod needs a plain label name.
        for a in [Action::Lowercase, Action::Uppercase, Action::KeepEqual, Action::DropEqual] {
            RelabelConfig { target_label: "t_$1".into(), ..cfg(a) }.validate().unwrap();
            let r = RelabelConfig { target_label: "t".into(), replacement: "x".into(), ..cfg(a) };
            assert!(r.validate().unwrap_err().contains("'replacement' can not be set"), "{a:?}");
        }
        let hm = RelabelConfig { target_label: "$1".into(), modulus: 2, ..cfg(Action::HashMod) };
        assert!(hm.validate().is_err());
        let ke = RelabelConfig {
            target_label: "t".into(),
            separator: ",".into(),
            ..cfg(Action::KeepEqual)
        };
        assert!(ke.validate().unwrap_err().contains("requires only 'source_labels'"));
        let ke = RelabelConfig { target_label: "t".into(), modulus: 2, ..cfg(Action::DropEqual) };
        assert!(ke.validate().is_err());
        assert_eq!(Action::parse("LabelMap"), Some(Action::LabelMap));
        assert_eq!(Action::parse("nope"), None);
    }
}
