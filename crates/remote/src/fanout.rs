//! `FanoutQueryable`: the local storage plus `remote_read` endpoints as one `Queryable`, as
//! Prometheus' fanout storage. Series with equal labels are merged by timestamp (the primary's
//! sample wins on a tie). A failing secondary is logged and skipped, so an unreachable remote
//! never fails local queries (Prometheus reports it as a warning).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use model::{Labels, Matcher, Sample, Timestamp};
use storage::{Querier, Queryable, SelectHints, Series, SeriesSet, SliceIterator, StorageError};

/// A primary `Queryable` merged with secondaries.
#[derive(Clone)]
pub struct FanoutQueryable {
    pub primary: Arc<dyn Queryable>,
    pub secondaries: Vec<Arc<dyn Queryable>>,
}

impl std::fmt::Debug for FanoutQueryable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanoutQueryable").field("secondaries", &self.secondaries.len()).finish()
    }
}

impl Queryable for FanoutQueryable {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        let primary = self.primary.querier(mint, maxt)?;
        let mut secondaries = Vec::new();
        for s in &self.secondaries {
            match s.querier(mint, maxt) {
                Ok(q) => secondaries.push(q),
                Err(e) => tracing::warn!(err = %e, "remote read querier unavailable"),
            }
        }
        Ok(Box::new(FanoutQuerier { primary, secondaries }))
    }
}

struct FanoutQuerier {
    primary: Box<dyn Querier>,
    secondaries: Vec<Box<dyn Querier>>,
}

fn drain(set: SeriesSet, out: &mut BTreeMap<Labels, Vec<Sample>>) -> Result<(), StorageError> {
    for s in set {
        let mut s = s?;
        let mut samples = Vec::new();
        while let Some(x) = s.samples.next() {
            samples.push(x);
        }
        if let Some(e) = s.samples.err() {
            return Err(e);
        }
        match out.get_mut(&s.labels) {
            None => {
                out.insert(s.labels, samples);
            }
            Some(existing) => {
                // Merge by timestamp; the earlier source (primary first) wins on ties.
                let mut merged = Vec::with_capacity(existing.len() + samples.len());
                let (mut i, mut j) = (0, 0);
                while i < existing.len() || j < samples.len() {
                    match (existing.get(i), samples.get(j)) {
                        (Some(a), Some(b)) if a.t == b.t => {
                            merged.push(*a);
                            i += 1;
                            j += 1;
                        }
                        (Some(a), Some(b)) if a.t < b.t => {
                            merged.push(*a);
                            i += 1;
                        }
                        (Some(_), Some(b)) | (None, Some(b)) => {
                            merged.push(*b);
                            j += 1;
                        }
                        (Some(a), None) => {
                            merged.push(*a);
                            i += 1;
                        }
                        (None, None) => break,
                    }
                }
                *existing = merged;
            }
        }
    }
    Ok(())
}

impl Querier for FanoutQuerier {
    fn select(
        &self,
        sorted: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError> {
        if self.secondaries.is_empty() {
            return self.primary.select(sorted, hints, matchers);
        }
        let mut all = BTreeMap::new();
        drain(self.primary.select(true, hints, matchers)?, &mut all)?;
        for s in &self.secondaries {
            let res = s.select(true, hints, matchers).and_then(|set| drain(set, &mut all));
            if let Err(e) = res {
                tracing::warn!(err = %e, "remote read failed; answering from local data");
            }
        }
        Ok(Box::new(all.into_iter().map(|(labels, samples)| {
            let n = samples.len();
            Ok(Series { labels, samples: Box::new(SliceIterator::new(samples.into(), 0, n)) })
        })))
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let mut all: BTreeSet<String> =
            self.primary.label_values(name, matchers)?.into_iter().collect();
        for s in &self.secondaries {
            match s.label_values(name, matchers) {
                Ok(v) => all.extend(v),
                Err(e) => tracing::warn!(err = %e, "remote label values failed"),
            }
        }
        Ok(all.into_iter().collect())
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let mut all: BTreeSet<String> = self.primary.label_names(matchers)?.into_iter().collect();
        for s in &self.secondaries {
            match s.label_names(matchers) {
                Ok(v) => all.extend(v),
                Err(e) => tracing::warn!(err = %e, "remote label names failed"),
            }
        }
        Ok(all.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use storage::{Appendable, MemStorage, collect_samples};

    struct Broken;
    impl Queryable for Broken {
        fn querier(&self, _: i64, _: i64) -> Result<Box<dyn Querier>, StorageError> {
            Err(StorageError::Unavailable("down".into()))
        }
    }

    fn store(rows: &[(&str, i64, f64)]) -> Arc<MemStorage> {
        let s = MemStorage::new();
        let mut app = s.appender();
        for (n, t, v) in rows {
            app.append(0, &Labels::new([("__name__", *n)]), *t, *v).unwrap();
        }
        app.commit().unwrap();
        Arc::new(s)
    }

    #[test]
    fn merges_series_and_skips_failing_remotes() {
        let local = store(&[("a", 10, 1.0), ("a", 30, 3.0)]);
        let remote = store(&[("a", 10, 9.0), ("a", 20, 2.0), ("b", 5, 5.0)]);
        let f = FanoutQueryable { primary: local, secondaries: vec![remote, Arc::new(Broken)] };
        let q = f.querier(0, 100).unwrap();
        let m = [Matcher::new(model::MatchType::Regex, "__name__", ".+").unwrap()];
        let mut set = q.select(true, None, &m).unwrap();
        let mut a = set.next().unwrap().unwrap();
        let got: Vec<(i64, f64)> =
            collect_samples(a.samples.as_mut()).unwrap().iter().map(|s| (s.t, s.v)).collect();
        assert_eq!(got, vec![(10, 1.0), (20, 2.0), (30, 3.0)], "primary wins the tie at 10");
        assert_eq!(set.next().unwrap().unwrap().labels, Labels::new([("__name__", "b")]));
        assert!(set.next().is_none());
        assert_eq!(q.label_values("__name__", &[]).unwrap(), vec!["a", "b"]);
    }
}
