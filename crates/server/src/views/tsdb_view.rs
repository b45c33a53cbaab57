//! `api::TsdbView` over `tsdb::Db`: status, WAL replay, snapshot and deletion.

use std::path::Path;
use std::sync::Arc;

use api::{HeadStats, TsdbStat, TsdbStatus, WalReplayStatus};
use model::Matcher;

/// The TSDB as the API sees it.
pub struct DbView {
    pub db: Arc<tsdb::Db>,
}

fn rows(v: Vec<tsdb::NameValue>) -> Vec<TsdbStat> {
    v.into_iter().map(|r| TsdbStat { name: r.name, value: r.value }).collect()
}

/// Segment numbers in the WAL directory (files named by their number).
fn wal_segments(dir: &Path) -> Vec<i64> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i64>().ok()).collect()
}

/// A snapshot name as Prometheus makes it: UTC time and 8 random bytes in hex.
fn snapshot_name() -> String {
    let now = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let noise = (nanos as u64 ^ u64::from(std::process::id()).rotate_left(32))
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    format!("{now}-{noise:016x}")
}

impl api::TsdbView for DbView {
    fn status(&self, limit: usize) -> Result<TsdbStatus, String> {
        let s = self.db.stats(limit);
        Ok(TsdbStatus {
            head_stats: HeadStats {
                num_series: s.head_stats.num_series,
                num_label_pairs: s.head_stats.num_label_pairs as i64,
                chunk_count: s.head_stats.chunk_count as i64,
                min_time: s.head_stats.min_time,
                max_time: s.head_stats.max_time,
            },
            series_count_by_metric_name: rows(s.series_count_by_metric_name),
            label_value_count_by_label_name: rows(s.label_value_count_by_label_name),
            memory_in_bytes_by_label_name: rows(s.memory_in_bytes_by_label_name),
            series_count_by_label_value_pair: rows(s.series_count_by_label_value_pair),
        })
    }

    /// Replay finishes before the server listens, so it reports the replayed range as done.
    fn wal_replay(&self) -> Result<WalReplayStatus, String> {
        let segments = wal_segments(&self.db.dir().join("wal"));
        let min = segments.iter().copied().min().unwrap_or(0);
        let max = segments.iter().copied().max().unwrap_or(0);
        Ok(WalReplayStatus { min, max, current: max })
    }

    fn snapshot(&self, skip_head: bool) -> Result<String, String> {
        let name = snapshot_name();
        let dir = self.db.dir().join("snapshots").join(&name);
        self.db.snapshot(&dir, !skip_head).map_err(|e| e.to_string())?;
        Ok(name)
    }

    fn delete_series(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<(), String> {
        self.db.delete_series(matchers, mint, maxt).map_err(|e| e.to_string())
    }

    fn clean_tombstones(&self) -> Result<(), String> {
        self.db.clean_tombstones().map(|_| ()).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_look_like_prometheus() {
        let n = snapshot_name();
        let (time, hex) = n.split_once('-').unwrap();
        assert_eq!(time.len(), 16, "{n}");
        assert!(time.ends_with('Z'));
        assert_eq!(hex.len(), 16);
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
