//! `file_sd_configs`: target groups from JSON or YAML files, re-read when a file's modification
//! time or the set of files matching the patterns changes, and at least every refresh interval.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use super::{TargetGroup, UpdateSender, groups_from_static};
use crate::metrics::SdMetrics;

/// Parses a file's content; `.json` files are JSON, everything else YAML.
pub fn parse_target_groups(path: &str, text: &str) -> Result<Vec<TargetGroup>, String> {
    let raw: Vec<config::sd::StaticConfig> = if path.ends_with(".json") {
        serde_json::from_str(text).map_err(|e| e.to_string())?
    } else if text.trim().is_empty() {
        Vec::new()
    } else {
        serde_saphyr::from_str(text).map_err(|e| e.to_string())?
    };
    groups_from_static(raw, path, &[("__meta_filepath", path)])
}

type Snapshot = BTreeMap<PathBuf, Option<SystemTime>>;

fn snapshot(patterns: &[String]) -> Snapshot {
    let mut out = BTreeMap::new();
    for p in patterns {
        for f in config::expand_glob(p).unwrap_or_default() {
            let mtime = std::fs::metadata(&f).and_then(|m| m.modified()).ok();
            out.insert(f, mtime);
        }
    }
    out
}

/// What a provider last read: each file's groups and modification time (seconds).
#[derive(Default)]
struct Files {
    groups: BTreeMap<PathBuf, Vec<TargetGroup>>,
    mtimes: BTreeMap<PathBuf, f64>,
}

/// Reads every file; a file that fails to parse keeps its previous groups and time. Counts
/// the read errors, the scan's duration and the files' times in `sd` (provider `id`).
fn read_all(snap: &Snapshot, files: &mut Files, sd: &SdMetrics, id: u64) -> Vec<TargetGroup> {
    let start = Instant::now();
    let mut next = Files::default();
    for (path, mtime) in snap {
        let name = path.display().to_string();
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| parse_target_groups(&name, &t));
        match parsed {
            Ok(groups) => {
                next.groups.insert(path.clone(), groups);
                let secs = mtime
                    .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                    .map_or(0.0, |d| d.as_secs() as f64);
                next.mtimes.insert(path.clone(), secs);
            }
            Err(e) => {
                sd.file_read_errors.inc();
                tracing::error!(file = %name, err = %e, "error reading file_sd file");
                if let Some(old) = files.groups.remove(path) {
                    next.groups.insert(path.clone(), old);
                }
                if let Some(old) = files.mtimes.remove(path) {
                    next.mtimes.insert(path.clone(), old);
                }
            }
        }
    }
    *files = next;
    let times: Vec<(String, f64)> =
        files.mtimes.iter().map(|(p, t)| (p.display().to_string(), *t)).collect();
    sd.set_file_mtimes(id, &times);
    sd.file_scan_duration.observe(start.elapsed().as_secs_f64());
    files.groups.values().flatten().cloned().collect()
}

/// Removes a stopped provider's file times.
struct Registered(Arc<SdMetrics>, u64);

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.remove_file_provider(self.1);
    }
}

pub(crate) async fn run(
    cfg: config::sd::FileSdConfig,
    poll: Duration,
    idx: usize,
    tx: UpdateSender,
    cancel: CancellationToken,
    sd: Arc<SdMetrics>,
) {
    let id = sd.file_provider_id();
    let _registered = Registered(sd.clone(), id);
    let refresh = cfg.refresh_interval.as_std().max(Duration::from_millis(10));
    let poll = poll.min(refresh).max(Duration::from_millis(10));
    let mut files = Files::default();
    let mut snap = snapshot(&cfg.files);
    if tx.send((idx, read_all(&snap, &mut files, &sd, id))).is_err() {
        return;
    }
    let mut since_refresh = Duration::ZERO;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(poll) => {}
        }
        since_refresh += poll;
        let now = snapshot(&cfg.files);
        if now == snap && since_refresh < refresh {
            continue;
        }
        since_refresh = Duration::ZERO;
        snap = now;
        if tx.send((idx, read_all(&snap, &mut files, &sd, id))).is_err() {
            return;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml_groups() {
        let json = r#"[{"targets": ["a:1", "b:2"], "labels": {"env": "x"}}, {"targets": ["c:3"]}]"#;
        let g = parse_target_groups("/sd/t.json", json).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].source, "/sd/t.json:0");
        assert_eq!(g[0].targets[1].get("__address__"), Some("b:2"));
        assert_eq!(g[0].labels.get("env"), Some("x"));
        assert_eq!(g[1].labels.get("__meta_filepath"), Some("/sd/t.json"));
        let yaml = "- targets: ['a:1']\n  labels: {env: y}\n";
        let g = parse_target_groups("/sd/t.yml", yaml).unwrap();
        assert_eq!(g[0].labels.get("env"), Some("y"));
        assert!(parse_target_groups("/sd/t.json", "{").is_err());
        assert!(
            parse_target_groups("/sd/t.yml", "- targets: [a]\n  labels: {'0bad': x}\n").is_err()
        );
    }
}
