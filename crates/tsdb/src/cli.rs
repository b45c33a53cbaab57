//! What `promtool tsdb list` and `promtool tsdb analyze` print, as library functions for the
//! `pharos tsdb` subcommands.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

use crate::block::Block;
use crate::db::load_blocks;
use crate::error::{Result, TsdbError};

/// Formats milliseconds as Go's `time.Duration.String()` does.
pub fn go_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let neg = ms < 0;
    let ms = ms.unsigned_abs();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if ms < 1000 {
        let _ = write!(out, "{ms}ms");
        return out;
    }
    let h = ms / 3_600_000;
    let m = ms / 60_000 % 60;
    let s = ms / 1000 % 60;
    let frac = ms % 1000;
    if h > 0 {
        let _ = write!(out, "{h}h");
    }
    if h > 0 || m > 0 {
        let _ = write!(out, "{m}m");
    }
    let _ = write!(out, "{s}");
    if frac > 0 {
        let f = format!("{frac:03}");
        let _ = write!(out, ".{}", f.trim_end_matches('0'));
    }
    out.push('s');
    out
}

/// Aligns tab-separated cells like Go's `tabwriter.NewWriter(w, 13, 0, 2, ' ', 0)`.
fn tabwrite(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate().take(r.len().saturating_sub(1)) {
            widths[i] = widths[i].max((c.chars().count() + 2).max(13));
        }
    }
    let mut out = String::new();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i + 1 < r.len() {
                let _ = write!(out, "{c:<w$}", w = widths[i]);
            } else {
                out.push_str(c);
            }
        }
        out.push('\n');
    }
    out
}

fn block_size(b: &Block) -> u64 {
    let f = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    b.index.size() + b.chunks.size + f(&b.dir.join("tombstones")) + f(&b.dir.join("meta.json"))
}

/// The block table `promtool tsdb list DIR` prints.
pub fn list(dir: &Path) -> Result<String> {
    let blocks = load_blocks(dir)?;
    let mut rows = vec![
        [
            "BLOCK ULID",
            "MIN TIME",
            "MAX TIME",
            "DURATION",
            "NUM SAMPLES",
            "NUM CHUNKS",
            "NUM SERIES",
            "SIZE",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>(),
    ];
    for b in &blocks {
        let m = &b.meta;
        rows.push(vec![
            m.ulid.clone(),
            m.min_time.to_string(),
            m.max_time.to_string(),
            go_duration(m.max_time.saturating_sub(m.min_time)),
            m.stats.num_samples.to_string(),
            m.stats.num_chunks.to_string(),
            m.stats.num_series.to_string(),
            block_size(b).to_string(),
        ]);
    }
    Ok(tabwrite(&rows))
}

fn print_top(out: &mut String, mut v: Vec<(String, u64)>, limit: usize) {
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (k, n) in v.into_iter().take(limit) {
        let _ = writeln!(out, "{n} {k}");
    }
}

/// The cardinality report `promtool tsdb analyze DIR` prints for the newest block.
pub fn analyze(dir: &Path, limit: usize) -> Result<String> {
    analyze_block(dir, None, limit)
}

/// Like [`analyze`] for a chosen block (by ULID).
pub fn analyze_block(dir: &Path, block: Option<&str>, limit: usize) -> Result<String> {
    let blocks = load_blocks(dir)?;
    let b = match block {
        Some(id) => blocks.iter().find(|b| b.meta.ulid == id),
        None => blocks.last(),
    };
    let b = b.ok_or_else(|| TsdbError::InvalidArgument(format!("no block found in {dir:?}")))?;
    let m = &b.meta;
    let span = m.max_time.saturating_sub(m.min_time).max(1);
    let mut out = String::new();
    let _ = writeln!(out, "Block ID: {}", m.ulid);
    let _ = writeln!(out, "Duration: {}", go_duration(m.max_time.saturating_sub(m.min_time)));
    let _ = writeln!(out, "Series: {}", m.stats.num_series);
    let names = b.index.label_names();
    let _ = writeln!(out, "Label names: {}", names.len());
    let mut labels_uncovered: HashMap<String, u64> = HashMap::new();
    let mut pairs_uncovered: HashMap<String, u64> = HashMap::new();
    let mut pairs_count: HashMap<String, u64> = HashMap::new();
    let mut entries = 0u64;
    for id in b.index.all_postings()? {
        let (labels, chunks) = b.index.series(id)?;
        let covered = match (chunks.first(), chunks.last()) {
            (Some(f), Some(l)) => l.maxt.saturating_sub(f.mint) as u64,
            _ => 0,
        };
        let uncovered = (span as u64).saturating_sub(covered);
        for l in labels.iter() {
            let key = format!("{}={}", l.name, l.value);
            *labels_uncovered.entry(l.name.to_string()).or_default() += uncovered;
            *pairs_uncovered.entry(key.clone()).or_default() += uncovered;
            *pairs_count.entry(key).or_default() += 1;
            entries += 1;
        }
    }
    let _ = writeln!(out, "Postings (unique label pairs): {}", pairs_uncovered.len());
    let _ = writeln!(out, "Postings entries (total label pairs): {entries}");
    let churn = |m: HashMap<String, u64>| -> Vec<(String, u64)> {
        m.into_iter().map(|(k, v)| (k, (v as f64 / span as f64) as u64)).collect()
    };
    out.push_str("\nLabel pairs most involved in churning:\n");
    print_top(&mut out, churn(pairs_uncovered), limit);
    out.push_str("\nLabel names most involved in churning:\n");
    print_top(&mut out, churn(labels_uncovered), limit);
    out.push_str("\nMost common label pairs:\n");
    print_top(&mut out, pairs_count.into_iter().collect(), limit);
    out.push_str("\nLabel names with highest cumulative label value length:\n");
    let lens = names
        .iter()
        .map(|n| (n.clone(), b.index.label_values(n).iter().map(|v| v.len() as u64).sum()))
        .collect();
    print_top(&mut out, lens, limit);
    out.push_str("\nHighest cardinality labels:\n");
    let card = names.iter().map(|n| (n.clone(), b.index.label_values(n).len() as u64)).collect();
    print_top(&mut out, card, limit);
    out.push_str("\nHighest cardinality metric names:\n");
    let mut per_metric = Vec::new();
    for (v, off) in b.index.label_value_offsets(model::METRIC_NAME) {
        per_metric.push((v.clone(), b.index.postings_at(*off)?.len() as u64));
    }
    print_top(&mut out, per_metric, limit);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_go() {
        assert_eq!(go_duration(7_200_000), "2h0m0s");
        assert_eq!(go_duration(7_199_999), "1h59m59.999s");
        assert_eq!(go_duration(61_500), "1m1.5s");
        assert_eq!(go_duration(999), "999ms");
        assert_eq!(go_duration(0), "0s");
    }
}
