//! Prometheus' relabeling (`relabel_configs`, `alert_relabel_configs`).
//!
//! Each rule reads the `source_labels` joined by `separator`, matches the fully anchored
//! `regex` (Go RE2 semantics) and applies its `action`. A label set that a rule drops yields
//! `None`.

use model::{Labels, LabelsBuilder};
use regex::Regex;
use serde::Deserialize;

use crate::NotifierError;

/// One relabel rule as written in YAML.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RelabelConfigSpec {
    #[serde(default)]
    pub source_labels: Vec<String>,
    pub separator: Option<String>,
    pub target_label: Option<String>,
    pub regex: Option<String>,
    pub modulus: Option<u64>,
    pub replacement: Option<String>,
    pub action: Option<String>,
}

/// The relabel actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// A validated relabel rule.
#[derive(Debug, Clone)]
pub struct RelabelConfig {
    pub source_labels: Vec<String>,
    pub separator: String,
    pub target_label: String,
    pub regex: Regex,
    pub modulus: u64,
    pub replacement: String,
    pub action: Action,
}

fn parse_action(s: &str) -> Result<Action, NotifierError> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "replace" => Action::Replace,
        "keep" => Action::Keep,
        "drop" => Action::Drop,
        "keepequal" => Action::KeepEqual,
        "dropequal" => Action::DropEqual,
        "hashmod" => Action::HashMod,
        "labelmap" => Action::LabelMap,
        "labeldrop" => Action::LabelDrop,
        "labelkeep" => Action::LabelKeep,
        "lowercase" => Action::Lowercase,
        "uppercase" => Action::Uppercase,
        other => return Err(NotifierError::Relabel(format!("unknown relabel action {other:?}"))),
    })
}

impl RelabelConfig {
    /// Validates a YAML rule, applying Prometheus' defaults.
    pub fn from_spec(spec: &RelabelConfigSpec) -> Result<RelabelConfig, NotifierError> {
        let action = parse_action(spec.action.as_deref().unwrap_or("replace"))?;
        let pattern = spec.regex.as_deref().unwrap_or("(.*)");
        let regex = model::regex_compat::compile_anchored(pattern)
            .map_err(|e| NotifierError::Relabel(e.to_string()))?;
        let target_label = spec.target_label.clone().unwrap_or_default();
        let needs_target = matches!(
            action,
            Action::Replace
                | Action::HashMod
                | Action::Lowercase
                | Action::Uppercase
                | Action::KeepEqual
                | Action::DropEqual
        );
        if needs_target && target_label.is_empty() {
            return Err(NotifierError::Relabel(format!(
                "relabel configuration for {} action requires 'target_label' value",
                spec.action.as_deref().unwrap_or("replace")
            )));
        }
        let modulus = spec.modulus.unwrap_or(0);
        if action == Action::HashMod && modulus == 0 {
            return Err(NotifierError::Relabel(
                "relabel configuration for hashmod requires non-zero modulus".into(),
            ));
        }
        Ok(RelabelConfig {
            source_labels: spec.source_labels.clone(),
            separator: spec.separator.clone().unwrap_or_else(|| ";".into()),
            target_label,
            regex,
            modulus,
            replacement: spec.replacement.clone().unwrap_or_else(|| "$1".into()),
            action,
        })
    }
}

/// Validates a list of YAML rules.
pub fn compile(specs: &[RelabelConfigSpec]) -> Result<Vec<RelabelConfig>, NotifierError> {
    specs.iter().map(RelabelConfig::from_spec).collect()
}

/// Applies `rules` in order; `None` if a rule dropped the set.
pub fn process(labels: &Labels, rules: &[RelabelConfig]) -> Option<Labels> {
    let mut b = labels.builder();
    for rule in rules {
        if !apply(&mut b, rule) {
            return None;
        }
    }
    Some(b.build())
}

fn source_value(b: &LabelsBuilder, rule: &RelabelConfig) -> String {
    let parts: Vec<&str> = rule.source_labels.iter().map(|n| b.get(n).unwrap_or("")).collect();
    parts.join(&rule.separator)
}

fn expand(rule: &RelabelConfig, template: &str, value: &str) -> Option<String> {
    let caps = rule.regex.captures(value)?;
    let mut out = String::new();
    caps.expand(template, &mut out);
    Some(out)
}

/// Applies one rule; false if the label set is dropped.
fn apply(b: &mut LabelsBuilder, rule: &RelabelConfig) -> bool {
    let value = source_value(b, rule);
    match rule.action {
        Action::Keep => return rule.regex.is_match(&value),
        Action::Drop => return !rule.regex.is_match(&value),
        Action::KeepEqual => return b.get(&rule.target_label).unwrap_or("") == value,
        Action::DropEqual => return b.get(&rule.target_label).unwrap_or("") != value,
        Action::Replace => replace(b, rule, &value),
        Action::Lowercase => {
            b.set(&rule.target_label, &value.to_lowercase());
        }
        Action::Uppercase => {
            b.set(&rule.target_label, &value.to_uppercase());
        }
        Action::HashMod => {
            let digest = md5::compute(value.as_bytes());
            let mut tail = [0u8; 8];
            tail.copy_from_slice(&digest.0[8..]);
            let m = u64::from_be_bytes(tail) % rule.modulus;
            b.set(&rule.target_label, &m.to_string());
        }
        Action::LabelMap => label_map(b, rule),
        Action::LabelDrop | Action::LabelKeep => {
            let current = b.build();
            for l in current.iter() {
                let hit = rule.regex.is_match(&l.name);
                if hit == (rule.action == Action::LabelDrop) {
                    b.del(&l.name);
                }
            }
        }
    }
    true
}

fn replace(b: &mut LabelsBuilder, rule: &RelabelConfig, value: &str) {
    let Some(target) = expand(rule, &rule.target_label, value) else { return };
    if !model::names::is_utf8_name(&target) {
        return;
    }
    match expand(rule, &rule.replacement, value) {
        Some(res) if res.is_empty() => {
            b.del(&target);
        }
        Some(res) => {
            b.set(&target, &res);
        }
        None => {}
    }
}

fn label_map(b: &mut LabelsBuilder, rule: &RelabelConfig) {
    let current = b.build();
    for l in current.iter() {
        if let Some(name) = expand(rule, &rule.replacement, &l.name) {
            b.set(&name, &l.value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(yaml: &str) -> RelabelConfig {
        let spec: RelabelConfigSpec = serde_saphyr::from_str(yaml).unwrap();
        RelabelConfig::from_spec(&spec).unwrap()
    }

    #[test]
    fn replace_keep_drop_and_labelmap() {
        let l = Labels::new([("a", "foo"), ("b", "bar"), ("__meta_x", "m")]);
        let r = rule(
            "source_labels: [a, b]\nregex: '(f.*);(.*)'\ntarget_label: c\nreplacement: '${2}-$1'",
        );
        assert_eq!(process(&l, &[r]).unwrap().get("c"), Some("bar-foo"));
        let keep = rule("source_labels: [a]\nregex: fo+\naction: keep");
        assert!(process(&l, std::slice::from_ref(&keep)).is_some());
        let drop = rule("source_labels: [a]\nregex: fo\naction: drop");
        assert!(process(&l, &[drop]).is_some(), "regex is anchored");
        let map = rule("regex: __meta_(.*)\naction: labelmap");
        assert_eq!(process(&l, &[map]).unwrap().get("x"), Some("m"));
        let ld = rule("regex: __meta_.*\naction: labeldrop");
        assert_eq!(process(&l, &[ld]).unwrap().get("__meta_x"), None);
        let del = rule("source_labels: [a]\ntarget_label: a\nreplacement: ''");
        assert_eq!(process(&l, &[del]).unwrap().get("a"), None);
    }

    #[test]
    fn invalid_rules_are_errors() {
        let spec: RelabelConfigSpec =
            serde_saphyr::from_str("action: hashmod\ntarget_label: x").unwrap();
        assert!(RelabelConfig::from_spec(&spec).is_err());
        let spec: RelabelConfigSpec = serde_saphyr::from_str("action: nope").unwrap();
        assert!(RelabelConfig::from_spec(&spec).is_err());
    }
}
