//! Vector and matrix selectors: read each series once per query (large selections are drained
//! on two threads), then evaluate every step from the decoded samples.

use model::value::is_stale_nan;
use model::{Labels, Sample};
use storage::SelectHints;

use super::{Evaluator, Range, Series};
use crate::QueryError;
use crate::ast::VectorSelector;

/// A selected series with its samples in `(mint, maxt]`.
pub(crate) struct RawSeries {
    pub labels: Labels,
    pub samples: Vec<Sample>,
}

impl Evaluator<'_> {
    /// Reads the series matching `vs` with samples in `(mint, maxt]`, dropping staleness
    /// markers when `drop_stale` (range vectors never contain them).
    pub fn select(
        &mut self,
        vs: &VectorSelector,
        mint: i64,
        maxt: i64,
        range: i64,
        step: i64,
        drop_stale: bool,
    ) -> Result<Vec<RawSeries>, QueryError> {
        if maxt <= mint {
            return Ok(vec![]);
        }
        let querier = self.storage.querier(mint + 1, maxt)?;
        let hints = SelectHints { start: mint + 1, end: maxt, step, range };
        let set = querier.select(true, Some(&hints), &vs.matchers)?;
        let mut series = Vec::new();
        for s in set {
            self.tick()?;
            series.push(s?);
        }
        self.check_interrupt()?;
        let drained = drain_all(series, mint, maxt, drop_stale);
        self.check_interrupt()?;
        let mut out = Vec::with_capacity(drained.len());
        for d in drained {
            if let Some(rs) = d? {
                out.push(rs);
            }
        }
        Ok(out)
    }

    /// An instant-vector selector at every step: the newest sample in
    /// `(ref - lookback, ref]`, unless it is a staleness marker.
    pub fn eval_vector_selector(
        &mut self,
        r: Range,
        vs: &VectorSelector,
    ) -> Result<Vec<Series>, QueryError> {
        self.vector_selector(r, vs, false)
    }

    /// `timestamp(selector)`: the timestamps (in seconds) of the samples a selector picks.
    pub fn eval_vector_selector_ts(
        &mut self,
        r: Range,
        vs: &VectorSelector,
    ) -> Result<Vec<Series>, QueryError> {
        self.vector_selector(r, vs, true)
    }

    fn vector_selector(
        &mut self,
        r: Range,
        vs: &VectorSelector,
        sample_ts: bool,
    ) -> Result<Vec<Series>, QueryError> {
        let n = r.steps();
        if n == 0 {
            return Ok(vec![]);
        }
        let first = self.ref_time(r.start, vs.at, vs.offset);
        let last = self.ref_time(r.last(), vs.at, vs.offset);
        let raw = self.select(vs, first - self.lookback, last, 0, r.interval, false)?;
        let mut out = Vec::with_capacity(raw.len());
        for rs in raw {
            let mut points = Vec::new();
            let mut hi = 0;
            for i in 0..n {
                let ts = r.ts(i);
                let rt = self.ref_time(ts, vs.at, vs.offset);
                while hi < rs.samples.len() && rs.samples[hi].t <= rt {
                    hi += 1;
                }
                if hi == 0 {
                    continue;
                }
                let s = rs.samples[hi - 1];
                if s.t > rt - self.lookback && !is_stale_nan(s.v) {
                    points.push(Sample::new(ts, if sample_ts { s.t as f64 / 1000.0 } else { s.v }));
                }
            }
            if !points.is_empty() {
                self.add_samples(points.len())?;
                out.push(Series { labels: rs.labels, points, drop_name: false });
            }
        }
        Ok(out)
    }

    /// A range-vector selector at a single evaluation time: samples in `(ref - range, ref]`.
    pub fn eval_matrix_selector(
        &mut self,
        r: Range,
        vs: &VectorSelector,
        range: i64,
    ) -> Result<Vec<Series>, QueryError> {
        if r.start != r.end {
            return Err(QueryError::Execution(
                "cannot do range evaluation of matrix selector".into(),
            ));
        }
        let rt = self.ref_time(r.start, vs.at, vs.offset);
        let raw = self.select(vs, rt - range, rt, range, 0, true)?;
        let mut out = Vec::with_capacity(raw.len());
        for rs in raw {
            self.add_samples(rs.samples.len())?;
            out.push(Series { labels: rs.labels, points: rs.samples, drop_name: false });
        }
        Ok(out)
    }
}

/// Reads every series' samples in `(mint, maxt]`; large selections are decoded on two threads.
fn drain_all(
    series: Vec<storage::Series>,
    mint: i64,
    maxt: i64,
    drop_stale: bool,
) -> Vec<Result<Option<RawSeries>, QueryError>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(2);
    if threads < 2 || series.len() < 64 {
        return drain_chunk(series, mint, maxt, drop_stale);
    }
    let mut first = series;
    let second = first.split_off(first.len() / 2);
    std::thread::scope(|scope| {
        let h = scope.spawn(move || drain_chunk(second, mint, maxt, drop_stale));
        let mut out = drain_chunk(first, mint, maxt, drop_stale);
        match h.join() {
            Ok(rest) => out.extend(rest),
            Err(_) => out.push(Err(QueryError::Execution("sample decoding panicked".into()))),
        }
        out
    })
}

/// Drains a run of series; each sample vector starts at the previous series' size (series of
/// one selection tend to be alike), saving the regrowth copies.
fn drain_chunk(
    series: Vec<storage::Series>,
    mint: i64,
    maxt: i64,
    drop_stale: bool,
) -> Vec<Result<Option<RawSeries>, QueryError>> {
    let mut cap = 0;
    let mut out = Vec::with_capacity(series.len());
    for mut series in series {
        let mut samples = Vec::with_capacity(cap);
        let mut s = series.samples.seek(mint + 1);
        while let Some(x) = s {
            if x.t > maxt {
                break;
            }
            if x.t > mint && !(drop_stale && is_stale_nan(x.v)) {
                samples.push(x);
            }
            s = series.samples.next();
        }
        if let Some(e) = series.samples.err() {
            out.push(Err(e.into()));
            continue;
        }
        cap = samples.len();
        out.push(Ok((!samples.is_empty()).then_some(RawSeries { labels: series.labels, samples })));
    }
    out
}
