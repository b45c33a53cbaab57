//! Static and file discovery of Alertmanagers, and turning targets into URLs.
//!
//! Each target gets `__address__`, `__scheme__`, `__alerts_path__` and its group's labels
//! (file SD adds `__meta_filepath`), then the set's `relabel_configs` run; a target they drop
//! is listed as dropped. The URL is `__scheme__://__address____alerts_path__`.
//! File SD paths arrive already resolved against the config file's directory.

use std::collections::BTreeMap;
use std::path::Path;

use config::AlertmanagerConfig;
use config::sd::FileSdConfig;
use model::Labels;
use model::relabel::{self, RelabelConfig};
use serde::Deserialize;

use crate::NotifierError;

/// A group of targets sharing labels (static or from a file).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct TargetGroup {
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// The Alertmanagers of one set after relabeling.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resolved {
    /// Full URLs of the alerts endpoints.
    pub active: Vec<String>,
    /// URLs of targets that `relabel_configs` dropped.
    pub dropped: Vec<String>,
}

/// Reads every file matched by the globs of `sd`.
pub fn read_file_sd(sd: &FileSdConfig) -> Result<Vec<TargetGroup>, NotifierError> {
    let mut groups = Vec::new();
    for pattern in &sd.files {
        let paths = glob::glob(pattern).map_err(|e| NotifierError::Discovery {
            path: pattern.clone(),
            reason: e.to_string(),
        })?;
        for path in paths.flatten() {
            groups.extend(read_one_file(&path)?);
        }
    }
    Ok(groups)
}

fn read_one_file(path: &Path) -> Result<Vec<TargetGroup>, NotifierError> {
    let err =
        |reason: String| NotifierError::Discovery { path: path.display().to_string(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let is_json = path.extension().is_some_and(|e| e == "json");
    let mut groups: Vec<TargetGroup> = if is_json {
        serde_json::from_str(&text).map_err(|e| err(e.to_string()))?
    } else if text.trim().is_empty() {
        Vec::new()
    } else {
        serde_saphyr::from_str(&text).map_err(|e| err(e.to_string()))?
    };
    for g in &mut groups {
        g.labels.insert("__meta_filepath".into(), path.display().to_string());
    }
    Ok(groups)
}

/// All target groups of a set: static ones, then file SD ones.
pub fn target_groups(cfg: &AlertmanagerConfig) -> Result<Vec<TargetGroup>, NotifierError> {
    let mut out: Vec<TargetGroup> = cfg
        .static_configs
        .iter()
        .map(|s| TargetGroup { targets: s.targets.clone(), labels: s.labels.clone() })
        .collect();
    for sd in &cfg.file_sd_configs {
        out.extend(read_file_sd(sd)?);
    }
    Ok(out)
}

/// `path.Join("/", path_prefix, "/api/v2/alerts")` (v1 for `api_version: v1`).
pub fn alerts_path(cfg: &AlertmanagerConfig) -> String {
    let version = if cfg.api_version == "v1" { "v1" } else { "v2" };
    let prefix = cfg.path_prefix.trim_matches('/');
    if prefix.is_empty() {
        return format!("/api/{version}/alerts");
    }
    format!("/{prefix}/api/{version}/alerts")
}

/// Compiles a list of relabel rules.
pub fn compile_relabel(
    rules: &[config::RelabelConfigYaml],
) -> Result<Vec<RelabelConfig>, NotifierError> {
    config::compile_relabel_configs(rules).map_err(NotifierError::Config)
}

/// Applies the set's defaults and `relabel_configs` to the targets.
pub fn resolve(
    cfg: &AlertmanagerConfig,
    groups: &[TargetGroup],
) -> Result<Resolved, NotifierError> {
    let rules = compile_relabel(&cfg.relabel_configs)?;
    let mut res = Resolved::default();
    for g in groups {
        for target in &g.targets {
            let mut pairs: Vec<(String, String)> =
                g.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            pairs.push(("__address__".into(), target.clone()));
            pairs.push(("__scheme__".into(), cfg.scheme.clone()));
            pairs.push(("__alerts_path__".into(), alerts_path(cfg)));
            let labels = Labels::new(pairs);
            match relabel::process(&labels, &rules) {
                Some(l) => res.active.push(url_of(&l)?),
                None => res.dropped.push(url_of(&labels)?),
            }
        }
    }
    Ok(res)
}

fn url_of(l: &Labels) -> Result<String, NotifierError> {
    let addr = l.get("__address__").unwrap_or("");
    if addr.is_empty() || addr.contains('/') {
        return Err(NotifierError::Config(format!("{addr:?} is not a valid hostname")));
    }
    Ok(format!(
        "{}://{}{}",
        l.get("__scheme__").unwrap_or("http"),
        addr,
        l.get("__alerts_path__").unwrap_or("/api/v2/alerts")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_and_file_targets_become_urls() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("am.json"),
            r#"[{"targets":["127.0.0.1:1"],"labels":{"x":"y"}}]"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("am.yml"), "- targets: ['127.0.0.1:3']\n").unwrap();
        let yaml = "alerting:\n  alertmanagers:\n  - path_prefix: /p\n    static_configs: [{targets: ['127.0.0.1:2']}]\n    file_sd_configs: [{files: ['am.*']}]\n    relabel_configs:\n      - source_labels: [x]\n        regex: y\n        action: drop\n";
        let path = dir.path().join("prometheus.yml");
        std::fs::write(&path, yaml).unwrap();
        let cfg = config::load(&path).unwrap();
        let am = &cfg.alerting.alertmanagers[0];
        let groups = target_groups(am).unwrap();
        let r = resolve(am, &groups).unwrap();
        assert_eq!(
            r.active,
            vec!["http://127.0.0.1:2/p/api/v2/alerts", "http://127.0.0.1:3/p/api/v2/alerts"]
        );
        assert_eq!(r.dropped, vec!["http://127.0.0.1:1/p/api/v2/alerts"]);
    }
}
