//! Head statistics in the shape of Prometheus' `/api/v1/status/tsdb` response.

use std::collections::HashMap;

use serde::Serialize;

use crate::db::Db;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeadStats {
    #[serde(rename = "numSeries")]
    pub num_series: u64,
    #[serde(rename = "numLabelPairs")]
    pub num_label_pairs: u64,
    #[serde(rename = "chunkCount")]
    pub chunk_count: u64,
    #[serde(rename = "minTime")]
    pub min_time: i64,
    #[serde(rename = "maxTime")]
    pub max_time: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NameValue {
    pub name: String,
    pub value: u64,
}

/// The data behind `/api/v1/status/tsdb`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TsdbStats {
    #[serde(rename = "headStats")]
    pub head_stats: HeadStats,
    #[serde(rename = "seriesCountByMetricName")]
    pub series_count_by_metric_name: Vec<NameValue>,
    #[serde(rename = "labelValueCountByLabelName")]
    pub label_value_count_by_label_name: Vec<NameValue>,
    #[serde(rename = "memoryInBytesByLabelName")]
    pub memory_in_bytes_by_label_name: Vec<NameValue>,
    #[serde(rename = "seriesCountByLabelValuePair")]
    pub series_count_by_label_value_pair: Vec<NameValue>,
}

fn top(mut v: Vec<NameValue>, n: usize) -> Vec<NameValue> {
    v.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.name.cmp(&b.name)));
    v.truncate(n);
    v
}

impl Db {
    /// Head statistics with the top `limit` entries per list (Prometheus uses 10).
    pub fn stats(&self, limit: usize) -> TsdbStats {
        let head = &self.inner.head;
        let pairs = head.label_pair_counts();
        let mut by_metric = Vec::new();
        let mut values_by_name: HashMap<String, u64> = HashMap::new();
        let mut mem_by_name: HashMap<String, u64> = HashMap::new();
        let mut by_pair = Vec::new();
        for (n, v, count) in &pairs {
            if n == model::METRIC_NAME {
                by_metric.push(NameValue { name: v.clone(), value: *count as u64 });
            }
            *values_by_name.entry(n.clone()).or_default() += 1;
            *mem_by_name.entry(n.clone()).or_default() += v.len() as u64;
            by_pair.push(NameValue { name: format!("{n}={v}"), value: *count as u64 });
        }
        let chunk_count: u64 =
            head.all_series().iter().map(|(_, s)| s.lock().num_chunks() as u64).sum();
        let (lo, hi) = (head.min_time(), head.max_time());
        let (lo, hi) = if lo > hi { (i64::MAX, i64::MIN) } else { (lo, hi) };
        let to_vec = |m: HashMap<String, u64>| -> Vec<NameValue> {
            m.into_iter().map(|(name, value)| NameValue { name, value }).collect()
        };
        TsdbStats {
            head_stats: HeadStats {
                num_series: head.num_series() as u64,
                num_label_pairs: pairs.len() as u64,
                chunk_count,
                min_time: lo,
                max_time: hi,
            },
            series_count_by_metric_name: top(by_metric, limit),
            label_value_count_by_label_name: top(to_vec(values_by_name), limit),
            memory_in_bytes_by_label_name: top(to_vec(mem_by_name), limit),
            series_count_by_label_value_pair: top(by_pair, limit),
        }
    }

    /// Approximate bytes of sample data held by the head.
    pub fn head_data_bytes(&self) -> usize {
        self.inner.head.all_series().iter().map(|(_, s)| s.lock().data_bytes()).sum()
    }
}
