//! `MemStorage`: a simple in-memory storage for tests and fixtures.
//!
//! It has the same append semantics as the TSDB head without an out-of-order window: a sample
//! older than its series' newest sample is out of order, the same timestamp with a different
//! value is a duplicate, the same timestamp and value is silently accepted. Queriers copy the
//! samples they select, so they never hold the lock while a caller iterates.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use model::{Labels, Matcher, Sample, Timestamp};
use parking_lot::RwLock;

use crate::{
    Appendable, Appender, Querier, Queryable, SelectHints, Series, SeriesRef, SeriesSet,
    SliceIterator, StorageError,
};

#[derive(Default)]
struct Inner {
    /// Series by ref - 1.
    series: Vec<(Labels, Vec<Sample>)>,
    refs: HashMap<Labels, SeriesRef>,
}

/// In-memory storage; cheap to clone (clones share data).
#[derive(Clone, Default)]
pub struct MemStorage {
    inner: Arc<RwLock<Inner>>,
}

impl MemStorage {
    pub fn new() -> MemStorage {
        MemStorage::default()
    }

    /// Removes every series (the PromQL test language's `clear`).
    pub fn clear(&self) {
        *self.inner.write() = Inner::default();
    }

    /// Number of series stored.
    pub fn num_series(&self) -> usize {
        self.inner.read().series.len()
    }

    /// Total number of samples stored.
    pub fn num_samples(&self) -> usize {
        self.inner.read().series.iter().map(|(_, s)| s.len()).sum()
    }
}

impl std::fmt::Debug for MemStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemStorage").field("series", &self.num_series()).finish()
    }
}

impl Appendable for MemStorage {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(MemAppender { storage: self.clone(), pending: Vec::new() })
    }
}

struct MemAppender {
    storage: MemStorage,
    pending: Vec<(Labels, Sample)>,
}

impl MemAppender {
    fn last_pending(&self, labels: &Labels) -> Option<Sample> {
        self.pending.iter().rev().find(|(l, _)| l == labels).map(|(_, s)| *s)
    }
}

fn check_order(last: Option<Sample>, t: Timestamp, v: f64) -> Result<bool, StorageError> {
    match last {
        Some(l) if t < l.t => Err(StorageError::OutOfOrderSample),
        Some(l) if t == l.t && l.v.to_bits() != v.to_bits() => {
            Err(StorageError::DuplicateSampleForTimestamp)
        }
        Some(l) if t == l.t => Ok(false),
        _ => Ok(true),
    }
}

impl Appender for MemAppender {
    fn append(
        &mut self,
        _hint: SeriesRef,
        labels: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, StorageError> {
        if labels.is_empty() {
            return Err(StorageError::InvalidLabels("empty label set".into()));
        }
        let (series_ref, committed_last) = {
            let inner = self.storage.inner.read();
            match inner.refs.get(labels) {
                Some(&r) => (r, inner.series[(r - 1) as usize].1.last().copied()),
                None => (0, None),
            }
        };
        let last = self.last_pending(labels).or(committed_last);
        if check_order(last, t, v)? {
            self.pending.push((labels.clone(), Sample::new(t, v)));
        }
        Ok(series_ref)
    }

    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        let mut inner = self.storage.inner.write();
        // Re-check against data committed by others since append, so the commit is all or nothing.
        let mut seen: HashMap<&Labels, Sample> = HashMap::new();
        for (labels, s) in &self.pending {
            let committed = inner
                .refs
                .get(labels)
                .and_then(|&r| inner.series[(r - 1) as usize].1.last().copied());
            check_order(seen.get(labels).copied().or(committed), s.t, s.v)?;
            seen.insert(labels, *s);
        }
        for (labels, s) in self.pending {
            let r = match inner.refs.get(&labels) {
                Some(&r) => r,
                None => {
                    inner.series.push((labels.clone(), Vec::new()));
                    let r = inner.series.len() as SeriesRef;
                    inner.refs.insert(labels, r);
                    r
                }
            };
            let samples = &mut inner.series[(r - 1) as usize].1;
            if samples.last().is_none_or(|l| l.t < s.t) {
                samples.push(s);
            }
        }
        Ok(())
    }

    fn rollback(self: Box<Self>) {}
}

impl Queryable for MemStorage {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        Ok(Box::new(MemQuerier { storage: self.clone(), mint, maxt }))
    }
}

struct MemQuerier {
    storage: MemStorage,
    mint: Timestamp,
    maxt: Timestamp,
}

fn matches_all(labels: &Labels, matchers: &[Matcher]) -> bool {
    matchers.iter().all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
}

impl MemQuerier {
    /// Matching series that have at least one sample in range, with those samples.
    fn matching(&self, matchers: &[Matcher]) -> BTreeMap<Labels, Arc<[Sample]>> {
        let inner = self.storage.inner.read();
        let mut out = BTreeMap::new();
        for (labels, samples) in &inner.series {
            if !matches_all(labels, matchers) {
                continue;
            }
            let lo = samples.partition_point(|s| s.t < self.mint);
            let hi = samples.partition_point(|s| s.t <= self.maxt);
            if lo < hi {
                out.insert(labels.clone(), Arc::from(&samples[lo..hi]));
            }
        }
        out
    }
}

impl Querier for MemQuerier {
    fn select(
        &self,
        _sorted: bool,
        _hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError> {
        let series = self.matching(matchers);
        Ok(Box::new(series.into_iter().map(|(labels, samples)| {
            let n = samples.len();
            Ok(Series { labels, samples: Box::new(SliceIterator::new(samples, 0, n)) })
        })))
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let values: BTreeSet<String> = self
            .matching(matchers)
            .keys()
            .filter_map(|l| l.get(name).map(str::to_string))
            .collect();
        Ok(values.into_iter().collect())
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let names: BTreeSet<String> = self
            .matching(matchers)
            .keys()
            .flat_map(|l| l.iter().map(|l| l.name.to_string()).collect::<Vec<_>>())
            .collect();
        Ok(names.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BatchSample, collect_samples};
    use model::MatchType;

    fn labels(job: &str) -> Labels {
        Labels::new([("__name__", "up"), ("job", job)])
    }

    fn append_all(s: &MemStorage, batch: &[(&str, i64, f64)]) -> Result<(), StorageError> {
        let mut app = s.appender();
        for (job, t, v) in batch {
            app.append(0, &labels(job), *t, *v)?;
        }
        app.commit()
    }

    #[test]
    fn nothing_is_visible_before_commit_and_rollback_discards() {
        let s = MemStorage::new();
        let mut app = s.appender();
        app.append(0, &labels("a"), 1, 1.0).unwrap();
        assert_eq!(s.num_samples(), 0);
        app.rollback();
        assert_eq!(s.num_samples(), 0);
    }

    #[test]
    fn order_rules_match_the_head() {
        let s = MemStorage::new();
        append_all(&s, &[("a", 10, 1.0), ("a", 20, 2.0)]).unwrap();
        assert_eq!(append_all(&s, &[("a", 15, 1.0)]), Err(StorageError::OutOfOrderSample));
        assert_eq!(
            append_all(&s, &[("a", 20, 3.0)]),
            Err(StorageError::DuplicateSampleForTimestamp)
        );
        append_all(&s, &[("a", 20, 2.0)]).unwrap();
        assert_eq!(s.num_samples(), 2);
    }

    #[test]
    fn a_batch_append_gives_each_sample_the_result_of_its_own_append() {
        let s = MemStorage::new();
        append_all(&s, &[("a", 10, 1.0)]).unwrap();
        let (a, b) = (labels("a"), labels("b"));
        let batch = [
            BatchSample { hint: 0, labels: &a, t: 20, v: 2.0 },
            BatchSample { hint: 0, labels: &a, t: 5, v: 0.5 },
            BatchSample { hint: 0, labels: &b, t: 20, v: 7.0 },
            BatchSample { hint: 0, labels: &a, t: 20, v: 3.0 },
        ];
        let mut app = s.appender();
        let mut out = vec![Ok(99)];
        app.append_batch(&batch, &mut out);
        assert_eq!(out.len(), 5, "results are appended after what `out` held");
        assert!(out[1].is_ok() && out[3].is_ok());
        assert_eq!(out[2], Err(StorageError::OutOfOrderSample));
        assert_eq!(out[4], Err(StorageError::DuplicateSampleForTimestamp));
        app.commit().unwrap();
        assert_eq!(s.num_samples(), 3);
    }

    #[test]
    fn stale_nan_duplicates_compare_by_bits() {
        let s = MemStorage::new();
        let stale = model::value::stale_nan();
        append_all(&s, &[("a", 10, stale)]).unwrap();
        append_all(&s, &[("a", 10, stale)]).unwrap();
        assert_eq!(
            append_all(&s, &[("a", 10, f64::NAN)]),
            Err(StorageError::DuplicateSampleForTimestamp)
        );
    }

    #[test]
    fn select_filters_by_matchers_and_time() {
        let s = MemStorage::new();
        append_all(&s, &[("b", 10, 1.0), ("a", 10, 1.0), ("a", 30, 3.0), ("c", 50, 5.0)]).unwrap();
        let q = s.querier(0, 40).unwrap();
        let m = [Matcher::new(MatchType::Regex, "job", "a|b|c").unwrap()];
        let mut set = q.select(true, None, &m).unwrap();
        let mut first = set.next().unwrap().unwrap();
        assert_eq!(first.labels, labels("a"));
        let samples = collect_samples(first.samples.as_mut()).unwrap();
        assert_eq!(samples, vec![Sample::new(10, 1.0), Sample::new(30, 3.0)]);
        assert_eq!(set.next().unwrap().unwrap().labels, labels("b"));
        assert!(set.next().is_none(), "c has no sample in range");
        assert_eq!(q.label_values("job", &[]).unwrap(), vec!["a", "b"]);
        assert_eq!(q.label_names(&m).unwrap(), vec!["__name__", "job"]);
    }
}
