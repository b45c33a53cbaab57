//! The YAML form of one relabeling step; compiled into [`model::relabel::RelabelConfig`].

use serde::{Deserialize, Serialize};

use model::relabel::{self, Action, RelabelRegex};

fn default_separator() -> String {
    relabel::DEFAULT_SEPARATOR.into()
}
fn default_regex() -> String {
    relabel::DEFAULT_REGEX.into()
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

/// One entry of `relabel_configs`, `metric_relabel_configs`, `alert_relabel_configs` or
/// `write_relabel_configs`, with Prometheus' defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelabelConfigYaml {
    #[serde(default, skip_serializing_if = "Vec::is_empty", serialize_with = "flow_seq")]
    pub source_labels: Vec<String>,
    #[serde(default = "default_separator")]
    pub separator: String,
    #[serde(default = "default_regex")]
    pub regex: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub modulus: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target_label: String,
    #[serde(default = "default_replacement")]
    pub replacement: String,
    #[serde(default = "default_action")]
    pub action: String,
}

impl Default for RelabelConfigYaml {
    fn default() -> Self {
        RelabelConfigYaml {
            source_labels: Vec::new(),
            separator: default_separator(),
            regex: default_regex(),
            modulus: 0,
            target_label: String::new(),
            replacement: default_replacement(),
            action: default_action(),
        }
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
        let regex = RelabelRegex::new(&self.regex).map_err(|e| e.to_string())?;
        for l in &self.source_labels {
            if !model::names::is_legacy_label_name(l) {
                return Err(format!("{l:?} is not a valid label name"));
            }
        }
        let c = relabel::RelabelConfig {
            source_labels: self.source_labels.clone(),
            separator: self.separator.clone(),
            regex,
            modulus: self.modulus,
            target_label: self.target_label.clone(),
            replacement: self.replacement.clone(),
            action,
        };
        c.validate()?;
        Ok(c)
    }
}

/// Compiles a list of steps.
pub fn compile_all(cfgs: &[RelabelConfigYaml]) -> Result<Vec<relabel::RelabelConfig>, String> {
    cfgs.iter().map(RelabelConfigYaml::compile).collect()
}
