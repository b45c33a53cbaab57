//! The `prometheus.yml` schema: serde types with Prometheus' defaults, validation with
//! file/line errors, and re-serialisation for `/api/v1/status/config` (secrets as `<secret>`).
//!
//! - [`load`] / [`parse`]: read a file or text into a validated [`Config`]; unknown fields are
//!   errors naming the file, line and field, as in Prometheus.
//! - [`check`]: what `promtool check config` does (rule files must exist and be YAML).
//! - `Display` on [`Config`] prints the effective configuration as YAML.
//! - Relabel entries compile to [`model::relabel::RelabelConfig`].

mod alerting;
mod check;
mod error;
mod global;
pub mod http;
mod relabel;
mod remote;
mod scrape;
pub mod sd;
mod types;

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use alerting::{AlertingConfig, AlertmanagerConfig};
pub use check::{check, expand_glob};
pub use error::ConfigError;
pub use global::{ExemplarsConfig, GlobalConfig, StorageConfig, TsdbConfig};
pub use relabel::{RelabelConfigYaml, compile_all as compile_relabel_configs};
pub use remote::{MetadataConfig, QueueConfig, RemoteReadConfig, RemoteWriteConfig};
pub use scrape::ScrapeConfig;
pub use types::{ByteSize, Duration, Secret};

/// A whole `prometheus.yml`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub global: GlobalConfig,
    #[serde(default, skip_serializing_if = "AlertingConfig::is_empty")]
    pub alerting: AlertingConfig,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rule_files: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scrape_config_files: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scrape_configs: Vec<ScrapeConfig>,
    #[serde(default, skip_serializing_if = "StorageConfig::is_empty")]
    pub storage: StorageConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing: Option<TracingConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remote_write: Vec<RemoteWriteConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remote_read: Vec<RemoteReadConfig>,
}

/// `tracing` (accepted and printed back; Pharos does not export traces).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TracingConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_type: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling_fraction: Option<f64>,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub headers: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub compression: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    #[serde(default, skip_serializing_if = "crate::http::tls_is_default")]
    pub tls_config: http::TlsConfig,
}

/// Reads and validates the configuration file at `path`. Relative file names inside it are
/// resolved against the file's directory.
pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::Io { file: file.clone(), reason: e.to_string() })?;
    let dir = path.parent().unwrap_or(Path::new(""));
    parse_in_dir(&text, &file, dir)
}

/// Parses and validates configuration text; `filename` is only used in error messages and
/// relative file names stay relative.
pub fn parse(text: &str, filename: &str) -> Result<Config, ConfigError> {
    parse_in_dir(text, filename, Path::new(""))
}

fn parse_in_dir(text: &str, filename: &str, dir: &Path) -> Result<Config, ConfigError> {
    // An empty document is a valid, empty configuration.
    let mut cfg: Config = if text.trim().is_empty() {
        Config::default()
    } else {
        serde_saphyr::from_str(text).map_err(|e| parse_error(filename, &e))?
    };
    cfg.finish(dir).map_err(|msg| ConfigError::Invalid { file: filename.to_string(), msg })?;
    Ok(cfg)
}

fn parse_error(file: &str, e: &serde_saphyr::Error) -> ConfigError {
    let line = e.location().map(|l| l.line());
    let full = e.to_string();
    let first = full.lines().next().unwrap_or("").trim();
    // "unknown field `x`, expected ..." reads as Prometheus' "field x not found in type ...".
    let msg = match first.split('`').nth(1) {
        Some(field) if first.contains("unknown field") => format!("field {field} not found"),
        _ => strip_location(first),
    };
    ConfigError::Parse { file: file.to_string(), line, msg }
}

fn strip_location(s: &str) -> String {
    match s.find(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}

impl Config {
    fn finish(&mut self, dir: &Path) -> Result<(), String> {
        self.global.finish()?;
        let mut seen = std::collections::HashSet::new();
        for sc in &mut self.scrape_configs {
            if !seen.insert(sc.job_name.clone()) {
                return Err(format!(
                    "found multiple scrape configs with job name {:?}",
                    sc.job_name
                ));
            }
            sc.finish(&self.global, dir)?;
        }
        for rf in &mut self.rule_files {
            join_dir(dir, rf);
        }
        for f in &mut self.scrape_config_files {
            join_dir(dir, f);
        }
        self.load_scrape_config_files(&mut seen)?;
        self.alerting.finish(dir)?;
        let mut names = std::collections::HashSet::new();
        for rw in &mut self.remote_write {
            rw.finish(dir)?;
            if !rw.name.is_empty() && !names.insert(rw.name.clone()) {
                return Err(format!(
                    "found multiple remote write configs with job name {:?}",
                    rw.name
                ));
            }
        }
        let mut names = std::collections::HashSet::new();
        for rr in &mut self.remote_read {
            rr.finish(dir)?;
            if !rr.name.is_empty() && !names.insert(rr.name.clone()) {
                return Err(format!(
                    "found multiple remote read configs with job name {:?}",
                    rr.name
                ));
            }
        }
        Ok(())
    }

    /// Appends the scrape configs of the files `scrape_config_files` names (globs expanded),
    /// checked like inline ones; job names must be unique across all of them.
    fn load_scrape_config_files(
        &mut self,
        seen: &mut std::collections::HashSet<String>,
    ) -> Result<(), String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ScrapeConfigsFile {
            #[serde(default)]
            scrape_configs: Vec<ScrapeConfig>,
        }
        for pattern in self.scrape_config_files.clone() {
            for path in expand_glob(&pattern)? {
                let name = path.display().to_string();
                let text =
                    std::fs::read_to_string(&path).map_err(|e| format!("open {name}: {e}"))?;
                let file: ScrapeConfigsFile = if text.trim().is_empty() {
                    ScrapeConfigsFile { scrape_configs: Vec::new() }
                } else {
                    serde_saphyr::from_str(&text).map_err(|e| parse_error(&name, &e).to_string())?
                };
                let file_dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
                for mut sc in file.scrape_configs {
                    if !seen.insert(sc.job_name.clone()) {
                        return Err(format!(
                            "found multiple scrape configs with job name {:?}",
                            sc.job_name
                        ));
                    }
                    sc.finish(&self.global, &file_dir).map_err(|e| format!("{name}: {e}"))?;
                    self.scrape_configs.push(sc);
                }
            }
        }
        Ok(())
    }

    /// The scrape config for `job_name`, if any.
    pub fn scrape_config(&self, job_name: &str) -> Option<&ScrapeConfig> {
        self.scrape_configs.iter().find(|s| s.job_name == job_name)
    }

    /// The effective configuration as YAML, secrets shown as `<secret>`.
    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(self).unwrap_or_else(|e| format!("# error: {e}\n"))
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_yaml())
    }
}

/// Makes a relative, non-empty path absolute against `dir` (Prometheus' `SetDirectory`).
pub(crate) fn join_dir(dir: &Path, p: &mut String) {
    if p.is_empty() || Path::new(p.as_str()).is_absolute() || dir.as_os_str().is_empty() {
        return;
    }
    *p = dir.join(p.as_str()).display().to_string();
}
