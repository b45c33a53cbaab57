//! Function calls: range-vector functions over sliding windows, and instant functions.

use model::{Labels, Sample};

use super::{Evaluator, Range, Series, Val};
use crate::QueryError;
use crate::ast::{Expr, VectorSelector};
use crate::functions::{self, Window};

/// A range-vector argument resolved to series with samples and its window geometry.
pub(crate) struct RangeInput {
    pub series: Vec<Series>,
    pub range: i64,
    pub offset: i64,
    pub at: Option<crate::ast::At>,
}

impl Evaluator<'_> {
    pub fn eval_call(&mut self, r: Range, func: &str, args: &[Expr]) -> Result<Val, QueryError> {
        if func == "timestamp"
            && let Some(Expr::VectorSelector(vs)) = args.first().map(Expr::unparen)
        {
            let mut out = self.eval_vector_selector_ts(r, vs)?;
            out.iter_mut().for_each(|s| s.drop_name = true);
            return Ok(Val::Vector(out));
        }
        let matrix_idx = args.iter().position(|a| {
            matches!(a.unparen(), Expr::MatrixSelector { .. } | Expr::Subquery { .. })
        });
        if let Some(idx) = matrix_idx {
            return self.eval_range_call(r, func, args, idx);
        }
        self.eval_instant_call(r, func, args)
    }

    /// Resolves a matrix selector or subquery argument for all steps of `r`.
    pub fn range_input(&mut self, r: Range, e: &Expr) -> Result<RangeInput, QueryError> {
        match e.unparen() {
            Expr::MatrixSelector { vs, range } => {
                let first = self.ref_time(r.start, vs.at, vs.offset);
                let last = self.ref_time(r.last(), vs.at, vs.offset);
                let raw = self.select(vs, first - range, last, *range, r.interval, true)?;
                let mut series = Vec::with_capacity(raw.len());
                for rs in raw {
                    self.add_samples(rs.samples.len())?;
                    series.push(Series { labels: rs.labels, points: rs.samples, drop_name: false });
                }
                Ok(RangeInput { series, range: *range, offset: vs.offset, at: vs.at })
            }
            Expr::Subquery { range, offset, at, .. } => {
                let series = self.eval_subquery_points(r, e.unparen())?;
                Ok(RangeInput { series, range: *range, offset: *offset, at: *at })
            }
            _ => Err(QueryError::Execution("expected range vector".into())),
        }
    }

    fn eval_range_call(
        &mut self,
        r: Range,
        func: &str,
        args: &[Expr],
        idx: usize,
    ) -> Result<Val, QueryError> {
        let f = functions::range_fn(func)
            .ok_or_else(|| QueryError::Execution(format!("unsupported function {func}")))?;
        let mut params: Vec<Vec<f64>> = Vec::new();
        for (i, a) in args.iter().enumerate() {
            if i != idx && a.value_type() == crate::ast::ValueType::Scalar {
                params.push(self.eval_scalar(r, a)?);
            }
        }
        let keep_name = matches!(func, "last_over_time" | "first_over_time");
        let checked =
            matches!(func, "quantile_over_time" | "double_exponential_smoothing" | "holt_winters");
        if !checked
            && func != "absent_over_time"
            && let Expr::MatrixSelector { vs, range } = args[idx].unparen()
        {
            let counter = matches!(func, "rate" | "increase");
            let out = self.stream_range_fn(r, vs, *range, &params, f, counter)?;
            let mut series = Vec::with_capacity(out.len());
            for (labels, points) in out {
                if counter {
                    self.non_counter_info(&labels, &args[idx]);
                }
                self.add_samples(points.len())?;
                series.push(Series { labels, points, drop_name: !keep_name });
            }
            return Ok(Val::Vector(series));
        }
        let input = self.range_input(r, &args[idx])?;
        let held: usize = input.series.iter().map(|s| s.points.len()).sum();
        let geo = WindowGeometry {
            r,
            at: self.at_time(input.at),
            offset: input.offset,
            range: input.range,
            absent: func == "absent_over_time",
            counter: matches!(func, "rate" | "increase"),
        };
        let all_points: Vec<Vec<Sample>> = if checked {
            // Parameter checks report annotations or errors per window: one series at a time.
            let mut all = Vec::with_capacity(input.series.len());
            for s in &input.series {
                self.tick()?;
                let mut err = None;
                let pts = geo.points(&s.points, &params, f, |w| {
                    if err.is_none()
                        && let Err(e) = self.check_params(func, w, &args[0])
                    {
                        err = Some(e);
                    }
                });
                if let Some(e) = err {
                    return Err(e);
                }
                all.push(pts);
            }
            all
        } else {
            self.check_interrupt()?;
            let pts = parallel_points(&geo, &input.series, &params, f);
            self.check_interrupt()?;
            pts
        };
        let mut out = Vec::with_capacity(input.series.len());
        for (s, points) in input.series.iter().zip(all_points) {
            if !points.is_empty() {
                if matches!(func, "rate" | "increase") {
                    self.non_counter_info(&s.labels, &args[idx]);
                }
                self.add_samples(points.len())?;
                out.push(Series {
                    labels: s.labels.clone(),
                    points,
                    drop_name: !keep_name || s.drop_name,
                });
            }
        }
        self.release_samples(held);
        if func == "absent_over_time" {
            return Ok(Val::Vector(absent_series(r, &out, absent_labels(&args[idx]))));
        }
        Ok(Val::Vector(out))
    }

    fn non_counter_info(&mut self, labels: &Labels, arg: &Expr) {
        let Some(name) = labels.metric_name() else { return };
        if ["_total", "_sum", "_count", "_bucket"].iter().any(|s| name.ends_with(s)) {
            return;
        }
        let pos = crate::eval::positions::of_expr(self.query, arg);
        self.annos.info(
            format!("metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {name:?}"),
            pos,
        );
    }

    fn check_params(&mut self, func: &str, w: &Window, first: &Expr) -> Result<(), QueryError> {
        match func {
            "quantile_over_time" => {
                let q = w.params[0];
                if q.is_nan() || !(0.0..=1.0).contains(&q) {
                    let pos = crate::eval::positions::of_expr(self.query, first);
                    self.annos.warn(
                        format!(
                            "quantile value should be between 0 and 1, got {}",
                            model::go_float::g(q)
                        ),
                        pos,
                    );
                }
            }
            "double_exponential_smoothing" | "holt_winters" => {
                let (sf, tf) = (w.params[0], w.params[1]);
                // As in Prometheus, a NaN factor passes the check.
                if sf <= 0.0 || sf >= 1.0 {
                    return Err(QueryError::Execution(format!(
                        "invalid smoothing factor. Expected: 0 < sf < 1, got: {}",
                        go_f6(sf)
                    )));
                }
                if tf <= 0.0 || tf >= 1.0 {
                    return Err(QueryError::Execution(format!(
                        "invalid trend factor. Expected: 0 < tf < 1, got: {}",
                        go_f6(tf)
                    )));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Go's `%f`: six decimals, `+Inf`/`-Inf` for infinities.
fn go_f6(x: f64) -> String {
    if x.is_infinite() {
        if x > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{x:.6}")
    }
}

/// Where the windows of a range-vector argument sit at each step of `r`.
pub(super) struct WindowGeometry {
    pub r: Range,
    pub at: Option<i64>,
    pub offset: i64,
    pub range: i64,
    /// `absent_over_time` also evaluates empty windows.
    pub absent: bool,
    /// `rate`/`increase`: windows without a counter reset skip the reset scan.
    pub counter: bool,
}

impl WindowGeometry {
    /// The function's value at every step for one series; `check` sees every non-empty window.
    pub(super) fn points(
        &self,
        pts: &[Sample],
        params: &[Vec<f64>],
        f: functions::RangeFn,
        mut check: impl FnMut(&Window),
    ) -> Vec<Sample> {
        // resets[i]: number of counter resets among pts[..=i].
        let resets: Vec<u32> = if self.counter {
            let mut n = 0u32;
            let mut v = Vec::with_capacity(pts.len());
            for i in 0..pts.len() {
                if i > 0 && pts[i].v < pts[i - 1].v {
                    n += 1;
                }
                v.push(n);
            }
            v
        } else {
            Vec::new()
        };
        let mut out = Vec::new();
        let (mut lo, mut hi) = (0usize, 0usize);
        for i in 0..self.r.steps() {
            let ts = self.r.ts(i);
            let end = self.at.unwrap_or(ts) - self.offset;
            let start = end - self.range;
            while hi < pts.len() && pts[hi].t <= end {
                hi += 1;
            }
            while lo < hi && pts[lo].t <= start {
                lo += 1;
            }
            if lo >= hi && !self.absent {
                continue;
            }
            let mut w = Window {
                samples: &pts[lo.min(hi)..hi],
                range_start: start,
                range_end: end,
                range: self.range,
                step_ts: ts,
                params: [0.0; 2],
                no_resets: self.counter && hi > lo && resets[hi - 1] == resets[lo],
            };
            for (k, p) in params.iter().take(2).enumerate() {
                w.params[k] = p[i];
            }
            if !w.samples.is_empty() {
                check(&w);
            }
            if let Some(v) = f(&w) {
                out.push(Sample::new(ts, v));
            }
        }
        out
    }
}

/// Series-at-a-time evaluation on up to two threads when the input is large.
fn parallel_points(
    geo: &WindowGeometry,
    series: &[Series],
    params: &[Vec<f64>],
    f: functions::RangeFn,
) -> Vec<Vec<Sample>> {
    let work: usize =
        series.iter().map(|s| s.points.len()).sum::<usize>() + series.len() * geo.r.steps();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(2);
    if threads < 2 || work < 200_000 || series.len() < 2 {
        return series.iter().map(|s| geo.points(&s.points, params, f, |_| {})).collect();
    }
    let mid = series.len() / 2;
    let (a, b) = series.split_at(mid);
    std::thread::scope(|scope| {
        let h = scope.spawn(|| {
            b.iter().map(|s| geo.points(&s.points, params, f, |_| {})).collect::<Vec<_>>()
        });
        let mut out: Vec<Vec<Sample>> =
            a.iter().map(|s| geo.points(&s.points, params, f, |_| {})).collect();
        match h.join() {
            Ok(rest) => out.extend(rest),
            Err(_) => out.extend(b.iter().map(|s| geo.points(&s.points, params, f, |_| {}))),
        }
        out
    })
}

/// `absent_over_time`: 1 at every step where no series had samples.
fn absent_series(r: Range, present: &[Series], labels: Labels) -> Vec<Series> {
    let n = r.steps();
    let mut found = vec![false; n];
    for s in present {
        for p in &s.points {
            found[((p.t - r.start) / r.interval) as usize] = true;
        }
    }
    let points: Vec<Sample> =
        (0..n).filter(|i| !found[*i]).map(|i| Sample::new(r.ts(i), 1.0)).collect();
    if points.is_empty() {
        return vec![];
    }
    vec![Series { labels, points, drop_name: true }]
}

/// The labels `absent`/`absent_over_time` give their result: the equality matchers.
pub(crate) fn absent_labels(arg: &Expr) -> Labels {
    let vs: &VectorSelector = match arg.unparen() {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector { vs, .. } => vs,
        _ => return Labels::empty(),
    };
    let mut b = model::LabelsBuilder::new();
    let mut has: Vec<&str> = Vec::new();
    for m in &vs.matchers {
        if m.name == model::METRIC_NAME {
            continue;
        }
        if m.op == model::MatchType::Equal && !has.contains(&m.name.as_str()) {
            b.set(&m.name, &m.value);
            has.push(&m.name);
        } else {
            b.del(&m.name);
        }
    }
    b.build()
}
