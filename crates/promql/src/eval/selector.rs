//! Vector and matrix selectors: read each series once per query (large selections on two
//! threads); instant selectors stream samples straight into step values.

use model::value::is_stale_nan;
use model::{Labels, Sample};
use storage::{SampleIterator, SelectHints};

use super::load_guard::LoadGuard;
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
        let guard = self.load_guard();
        let collect = |it: &mut dyn SampleIterator| {
            let mut samples = Vec::new();
            if guard.stopped() {
                return samples;
            }
            read_samples(it, mint, maxt, drop_stale, &mut samples);
            if !guard.add(samples.len()) {
                return Vec::new();
            }
            samples
        };
        let all = self.select_map(vs, mint, maxt, range, step, &collect);
        guard.finish()?;
        let all = all?;
        Ok(all
            .into_iter()
            .filter(|(_, s)| !s.is_empty())
            .map(|(labels, samples)| RawSeries { labels, samples })
            .collect())
    }

    /// Runs `f` over the sample iterator of every series matching `vs` in `(mint, maxt]`;
    /// selections of 64+ series run on two threads (decoding is the per-sample cost of on-disk
    /// storage).
    pub(super) fn select_map<T: Send>(
        &mut self,
        vs: &VectorSelector,
        mint: i64,
        maxt: i64,
        range: i64,
        step: i64,
        f: &(dyn Fn(&mut dyn SampleIterator) -> T + Sync),
    ) -> Result<Vec<(Labels, T)>, QueryError> {
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
        let mapped = map_all(series, f);
        self.check_interrupt()?;
        mapped.into_iter().collect()
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
        let (at, offset, lookback) = (self.at_time(vs.at), vs.offset, self.lookback);
        let mint = first - lookback;
        // Streams each series' samples straight into step values: no per-series sample buffer.
        let guard = self.load_guard();
        let steps = |it: &mut dyn SampleIterator| {
            let mut points = Vec::new();
            if guard.stopped() {
                return points;
            }
            let first = it.seek(mint + 1);
            let mut it = Batched::new(it);
            let mut cur = first;
            let mut newest: Option<Sample> = None;
            for i in 0..n {
                let ts = r.ts(i);
                let rt = at.unwrap_or(ts) - offset;
                while let Some(x) = cur {
                    if x.t > rt || x.t > last {
                        break;
                    }
                    if x.t > mint {
                        newest = Some(x);
                    }
                    cur = it.next();
                }
                if let Some(s) = newest
                    && s.t > rt - lookback
                    && !is_stale_nan(s.v)
                {
                    points.push(Sample::new(ts, if sample_ts { s.t as f64 / 1000.0 } else { s.v }));
                }
            }
            if !guard.add(points.len()) {
                return Vec::new();
            }
            points
        };
        let all = self.select_map(vs, mint, last, 0, r.interval, &steps);
        guard.finish()?;
        let all = all?;
        let mut out = Vec::with_capacity(all.len());
        for (labels, points) in all {
            if !points.is_empty() {
                self.add_samples(points.len())?;
                out.push(Series { labels, points, drop_name: false });
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

impl Evaluator<'_> {
    /// A guard for one selection: the samples this query may still hold, and the shared budget.
    pub(super) fn load_guard(&self) -> LoadGuard {
        let room = self.limits.max_samples.saturating_sub(self.cur_samples);
        LoadGuard::new(room, self.limits.budget.clone())
    }
}

/// Appends to `out` the samples of `it` in `(mint, maxt]`, without staleness markers when
/// `drop_stale`.
pub(super) fn read_samples(
    it: &mut dyn SampleIterator,
    mint: i64,
    maxt: i64,
    drop_stale: bool,
    out: &mut Vec<Sample>,
) {
    let from = out.len();
    if let Some(x) = it.seek(mint + 1)
        && x.t <= maxt
    {
        out.push(x);
        // Whole batches; the few samples read past `maxt` are cut off below.
        while it.next_batch(out, BATCH) == BATCH && out.last().is_some_and(|l| l.t <= maxt) {}
    }
    let keep = from + out[from..].partition_point(|x| x.t <= maxt);
    out.truncate(keep);
    if out[from..].iter().any(|x| x.t <= mint || (drop_stale && is_stale_nan(x.v))) {
        let mut k = from;
        for i in from..out.len() {
            let x = out[i];
            if x.t > mint && !(drop_stale && is_stale_nan(x.v)) {
                out[k] = x;
                k += 1;
            }
        }
        out.truncate(k);
    }
}

type Mapped<T> = Result<(Labels, T), QueryError>;

/// Samples read per dynamic call of the storage's iterator.
const BATCH: usize = 128;

/// Reads a sample iterator [`BATCH`] samples at a time; `next` as the iterator's own.
struct Batched<'a> {
    it: &'a mut dyn SampleIterator,
    buf: Vec<Sample>,
    pos: usize,
    done: bool,
}

impl<'a> Batched<'a> {
    fn new(it: &'a mut dyn SampleIterator) -> Batched<'a> {
        Batched { it, buf: Vec::new(), pos: 0, done: false }
    }

    #[inline]
    fn next(&mut self) -> Option<Sample> {
        match self.buf.get(self.pos) {
            Some(s) => {
                self.pos += 1;
                Some(*s)
            }
            None => self.refill(),
        }
    }

    fn refill(&mut self) -> Option<Sample> {
        if self.done {
            return None;
        }
        self.buf.clear();
        if self.it.next_batch(&mut self.buf, BATCH) < BATCH {
            self.done = true;
        }
        self.pos = 1;
        self.buf.first().copied()
    }
}

/// `f` over every series, on two threads when there are 64 or more.
fn map_all<T: Send>(
    series: Vec<storage::Series>,
    f: &(dyn Fn(&mut dyn SampleIterator) -> T + Sync),
) -> Vec<Mapped<T>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(2);
    if threads < 2 || series.len() < 64 {
        return map_chunk(series, f);
    }
    let mut first = series;
    let second = first.split_off(first.len() / 2);
    std::thread::scope(|scope| {
        let h = scope.spawn(move || map_chunk(second, f));
        let mut out = map_chunk(first, f);
        match h.join() {
            Ok(rest) => out.extend(rest),
            Err(_) => out.push(Err(QueryError::Execution("sample decoding panicked".into()))),
        }
        out
    })
}

fn map_chunk<T>(
    series: Vec<storage::Series>,
    f: &(dyn Fn(&mut dyn SampleIterator) -> T + Sync),
) -> Vec<Mapped<T>> {
    series
        .into_iter()
        .map(|mut s| {
            let v = f(s.samples.as_mut());
            match s.samples.err() {
                Some(e) => Err(e.into()),
                None => Ok((s.labels, v)),
            }
        })
        .collect()
}
