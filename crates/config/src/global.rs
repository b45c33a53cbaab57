//! The `global` section and `storage` section.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Duration;

fn one_minute() -> Duration {
    Duration::from_secs(60)
}
fn ten_seconds() -> Duration {
    Duration::from_secs(10)
}

/// `global`: defaults for every scrape config and rule group, and external labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalConfig {
    #[serde(default = "one_minute")]
    pub scrape_interval: Duration,
    /// Unset (zero) means 10s, capped at `scrape_interval`.
    #[serde(default)]
    pub scrape_timeout: Duration,
    #[serde(default = "one_minute")]
    pub evaluation_interval: Duration,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub query_log_file: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub external_labels: BTreeMap<String, String>,
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            scrape_interval: one_minute(),
            scrape_timeout: ten_seconds(),
            evaluation_interval: one_minute(),
            query_log_file: String::new(),
            external_labels: BTreeMap::new(),
        }
    }
}

impl GlobalConfig {
    pub(crate) fn finish(&mut self) -> Result<(), String> {
        if self.scrape_interval.is_zero() {
            self.scrape_interval = one_minute();
        }
        if self.evaluation_interval.is_zero() {
            self.evaluation_interval = one_minute();
        }
        if self.scrape_timeout.is_zero() {
            self.scrape_timeout = ten_seconds().min(self.scrape_interval);
        }
        if self.scrape_timeout > self.scrape_interval {
            return Err("global scrape timeout greater than scrape interval".into());
        }
        for (name, value) in &self.external_labels {
            if !model::names::is_legacy_label_name(name) {
                return Err(format!("{name:?} is not a valid label name"));
            }
            if value.is_empty() {
                return Err(format!("empty value for external label {name:?}"));
            }
        }
        Ok(())
    }

    /// The external labels as a label set.
    pub fn external_labels(&self) -> model::Labels {
        model::Labels::new(self.external_labels.iter())
    }
}

/// `storage`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsdb: Option<TsdbConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemplars: Option<ExemplarsConfig>,
}

impl StorageConfig {
    pub fn is_empty(&self) -> bool {
        self.tsdb.is_none() && self.exemplars.is_none()
    }
}

/// `storage.tsdb`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsdbConfig {
    #[serde(default, skip_serializing_if = "Duration::is_zero")]
    pub out_of_order_time_window: Duration,
}

/// `storage.exemplars`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExemplarsConfig {
    #[serde(default)]
    pub max_exemplars: i64,
}
