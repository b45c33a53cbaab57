//! The YAML form of one relabeling step; compiled into [`model::relabel::RelabelConfig`].

use serde::{Deserialize, Serialize};

use model::relabel::{self, Action, RelabelRegex};

fn default_separator() -> String {
    relabel::DEFAULT_SEPARATOR.into()
}
fn default_replacement() -> String {
    relabel::DEFAULT_REPLACEMENT.into()
}
fn default_action() -> String {
    "replace".into()
}
/// Prometheus prints `source_labels` in flow style: `[a, b]`.
fn flow_seq<S: serde::Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&serde_saphyr::FlowSeq(v), s)
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_none_or_empty(v: &Option<Vec<String>>) -> bool {
    v.as_ref().is_none_or(Vec::is_empty)
}

/// `source_labels` as written (`[]` is "set", as Go's non-nil slice), printed in flow style.
fn flow_seq_opt<S: serde::Serializer>(v: &Option<Vec<String>>, s: S) -> Result<S::Ok, S::Error> {
    flow_seq(v.as_deref().unwrap_or_default(), s)
}

/// Go's YAML decoder sets a field written as `null` (or left empty) to its zero value.
fn null_as_zero<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A `regex` that is written at all, even as `null` (which Prometheus reads as the empty regex).
fn present_regex<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Some(Option::<String>::deserialize(d)?.unwrap_or_default()))
}

/// An unset `regex` prints as the default.
fn regex_or_default<S: serde::Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_deref().unwrap_or(relabel::DEFAULT_REGEX))
}

/// One entry of `relabel_configs`, `metric_relabel_configs`, `alert_relabel_configs` or
/// `write_relabel_configs`, with Prometheus' defaults.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelabelConfigYaml {
    /// `None` when not written: `labeldrop`/`labelkeep` reject even an empty list.
    #[serde(
        default,
        deserialize_with = "null_as_zero",
        skip_serializing_if = "is_none_or_empty",
        serialize_with = "flow_seq_opt"
    )]
    pub source_labels: Option<Vec<String>>,
    #[serde(default = "default_separator", deserialize_with = "null_as_zero")]
    pub separator: String,
    /// `None` when not written: `keepequal`/`dropequal` reject any written regex, even `(.*)`.
    #[serde(default, deserialize_with = "present_regex", serialize_with = "regex_or_default")]
    pub regex: Option<String>,
    #[serde(default, deserialize_with = "null_as_zero", skip_serializing_if = "is_zero")]
    pub modulus: u64,
    #[serde(default, deserialize_with = "null_as_zero", skip_serializing_if = "String::is_empty")]
    pub target_label: String,
    #[serde(default = "default_replacement", deserialize_with = "null_as_zero")]
    pub replacement: String,
    #[serde(default = "default_action", deserialize_with = "null_as_zero")]
    pub action: String,
}

impl Default for RelabelConfigYaml {
    fn default() -> Self {
        RelabelConfigYaml {
            source_labels: None,
            separator: default_separator(),
            regex: None,
            modulus: 0,
            target_label: String::new(),
            replacement: default_replacement(),
            action: default_action(),
        }
    }
}

/// Equal when they relabel the same way: an unwritten `regex` equals the default one, and an
/// unwritten `source_labels` an empty list (so a re-serialized configuration compares equal).
impl PartialEq for RelabelConfigYaml {
    fn eq(&self, other: &Self) -> bool {
        let regex = |c: &Self| c.regex.clone().unwrap_or_else(|| relabel::DEFAULT_REGEX.into());
        self.source_labels.as_deref().unwrap_or_default()
            == other.source_labels.as_deref().unwrap_or_default()
            && self.separator == other.separator
            && regex(self) == regex(other)
            && self.modulus == other.modulus
            && self.target_label == other.target_label
            && self.replacement == other.replacement
            && self.action == other.action
    }
}

impl RelabelConfigYaml {
    /// Validates and compiles this step.
    pub fn compile(&self) -> Result<relabel::RelabelConfig, String> {
        if self.action.is_empty() {
            return Err("relabel action cannot be empty".into());
        }
        let action = Action::parse(&self.action)
            .ok_or_else(|| format!("unknown relabel action {:?}", self.action))?;
        let pattern = self.regex.as_deref().unwrap_or(relabel::DEFAULT_REGEX);
        let regex = RelabelRegex::new(pattern).map_err(|e| e.to_string())?;
        let source_labels = self.source_labels.clone().unwrap_or_default();
        for l in &source_labels {
            if !model::names::is_legacy_label_name(l) {
                return Err(format!("{l:?} is not a valid label name"));
            }
        }
        let c = relabel::RelabelConfig {
            source_labels,
            separator: self.separator.clone(),
            regex,
            modulus: self.modulus,
            target_label: self.target_label.clone(),
            replacement: self.replacement.clone(),
            action,
        };
        c.validate()?;
        // Prometheus compares the regex by pointer with its default, so any written regex fails
        // these two, and a written `source_labels: []` fails labeldrop/labelkeep.
        if matches!(action, Action::KeepEqual | Action::DropEqual) && self.regex.is_some() {
            return Err(relabel::equal_action_fields_error(action));
        }
        if matches!(action, Action::LabelDrop | Action::LabelKeep) && self.source_labels.is_some() {
            return Err(relabel::label_action_fields_error(action));
        }
        Ok(c)
    }
}

/// Compiles a list of steps.
pub fn compile_all(cfgs: &[RelabelConfigYaml]) -> Result<Vec<relabel::RelabelConfig>, String> {
    cfgs.iter().map(RelabelConfigYaml::compile).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn compile(yaml: &str) -> Result<relabel::RelabelConfig, String> {
        serde_saphyr::from_str::<RelabelConfigYaml>(yaml).unwrap().compile()
    }

    #[test]
    fn written_fields_that_prometheus_rejects() {
        // Any written regex fails keepequal/dropequal, even the default one.
        assert!(compile("{action: keepequal, source_labels: [a], target_label: b}").is_ok());
        let e = compile("{action: keepequal, source_labels: [a], target_label: b, regex: '(.*)'}");
        assert!(e.unwrap_err().contains("requires only 'source_labels'"));
        assert!(compile("{action: dropequal, target_label: b, regex: null}").is_err());
        // A written empty source_labels list fails labeldrop/labelkeep.
        assert!(compile("{action: labeldrop, regex: a}").is_ok());
        assert!(compile("{action: labelkeep, regex: a, source_labels: []}").is_err());
    }

    #[test]
    fn null_fields_are_zero_values() {
        // A null separator is the empty one, a null regex the empty regex.
        let c = compile("{source_labels: [a, b], separator: null, regex: null, target_label: t}");
        let c = c.unwrap();
        assert_eq!(c.separator, "");
        assert_eq!(c.regex.as_str(), "");
        assert!(compile("{action: null, target_label: t}").unwrap_err().contains("empty"));
    }
}
