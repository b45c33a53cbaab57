//! Fixtures shared by the integration tests: a fake query function over a `MemStorage`
//! (bare metric names and `name{label="v"}` selectors, 5 m lookback) and group options on a
//! manual clock.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use model::{Labels, Matcher};
use rules::{GroupOptions, ManualClock, QueryFunc, QuerySample, RecordingSink, RuleError};
use storage::{Appendable, MemStorage, Queryable};

/// Evaluates `name` or `name{a="b",...}` as an instant selector over `MemStorage`.
pub struct SelectorQuery(pub MemStorage);

fn parse_selector(expr: &str) -> Vec<Matcher> {
    let (name, rest) = match expr.split_once('{') {
        Some((n, r)) => (n.trim(), r.trim_end_matches('}')),
        None => (expr.trim(), ""),
    };
    let mut ms = vec![Matcher::equal("__name__", name)];
    for part in rest.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = part.split_once('=').unwrap();
        ms.push(Matcher::equal(k.trim(), v.trim().trim_matches('"')));
    }
    ms
}

impl QueryFunc for SelectorQuery {
    fn query(&self, expr: &str, t: i64) -> Result<Vec<QuerySample>, RuleError> {
        let q = self.0.querier(t - 300_000, t).map_err(|e| RuleError::Query(e.to_string()))?;
        let mut out = Vec::new();
        for s in q.select(true, None, &parse_selector(expr)).unwrap() {
            let mut s = s.unwrap();
            let mut last = None;
            while let Some(x) = s.samples.next() {
                last = Some(x);
            }
            if let Some(x) = last
                && !model::value::is_stale_nan(x.v)
            {
                out.push(QuerySample { labels: s.labels.without_metric_name(), t, v: x.v });
            }
        }
        Ok(out)
    }
}

pub struct Fixture {
    pub storage: MemStorage,
    pub clock: Arc<ManualClock>,
    pub sink: Arc<RecordingSink>,
    pub opts: GroupOptions,
}

pub fn fixture() -> Fixture {
    let storage = MemStorage::new();
    let clock = Arc::new(ManualClock::new(0));
    let sink = Arc::new(RecordingSink::default());
    let opts = GroupOptions {
        query: Arc::new(SelectorQuery(storage.clone())),
        appendable: Arc::new(storage.clone()),
        queryable: Arc::new(storage.clone()),
        sink: sink.clone(),
        clock: clock.clone(),
        external_labels: Labels::empty(),
        external_url: "http://pharos:9090".into(),
        resend_delay_ms: 60_000,
        outage_tolerance_ms: 3_600_000,
        for_grace_period_ms: 600_000,
        default_query_offset_ms: 0,
    };
    Fixture { storage, clock, sink, opts }
}

pub fn put(s: &MemStorage, labels: &[(&str, &str)], t: i64, v: f64) {
    let mut app = s.appender();
    app.append(0, &Labels::new(labels.iter().copied()), t, v).unwrap();
    app.commit().unwrap();
}

/// All samples of the series matching `selector` with timestamps in [mint, maxt].
pub fn samples(
    s: &MemStorage,
    selector: &str,
    mint: i64,
    maxt: i64,
) -> Vec<(Labels, Vec<(i64, f64)>)> {
    let q = s.querier(mint, maxt).unwrap();
    q.select(true, None, &parse_selector(selector))
        .unwrap()
        .map(|s| {
            let mut s = s.unwrap();
            let v = storage::collect_samples(s.samples.as_mut()).unwrap();
            (s.labels, v.into_iter().map(|x| (x.t, x.v)).collect())
        })
        .collect()
}

pub const MIN: i64 = 60_000;
