//! Aggregation operators. Groups are computed once per query from the input series' labels;
//! each step then aggregates by group index.

use std::collections::HashMap;

use model::{Labels, Sample};

use super::{Evaluator, OutBuilder, Range, Series, StepCursor, Val};
use crate::QueryError;
use crate::ast::{AggOp, Expr, Grouping};
use crate::functions::{kahan, quantile::quantile};

/// Per-group running state of one step (Prometheus' `groupedAggregation`, floats only).
#[derive(Debug, Clone, Copy, Default)]
struct Group {
    seen: bool,
    value: f64,
    mean: f64,
    kahan_c: f64,
    count: f64,
    incremental_mean: bool,
    drop_name: bool,
}

/// The labels of the group a series belongs to.
pub(crate) fn grouping_labels(l: &Labels, g: &Grouping) -> Labels {
    if g.without {
        l.filter(|x| &*x.name != model::METRIC_NAME && !g.labels.iter().any(|n| *n == *x.name))
    } else if g.labels.is_empty() {
        Labels::empty()
    } else {
        l.keep_names(&g.labels)
    }
}

impl Evaluator<'_> {
    pub fn eval_aggregate(&mut self, r: Range, e: &Expr) -> Result<Val, QueryError> {
        let Expr::Aggregate { op, expr, param, grouping } = e else {
            return Err(QueryError::Execution("not an aggregation".into()));
        };
        if *op == AggOp::CountValues {
            let label = match param.as_deref().map(Expr::unparen) {
                Some(Expr::String(s)) => s.clone(),
                Some(e @ Expr::InvalidUtf8(_)) => {
                    let bad = crate::parser::invalid_utf8_display(e).unwrap_or_default();
                    return Err(QueryError::Execution(format!("invalid label name \"{bad}\"")));
                }
                _ => return Err(QueryError::Execution("count_values needs a label name".into())),
            };
            if label.is_empty() {
                return Err(QueryError::Execution(format!("invalid label name {label:?}")));
            }
            let input = self.eval_vector(r, expr)?;
            return self.count_values(r, &label, grouping, input);
        }
        let params = match param {
            Some(p) => Some(self.eval_scalar(r, p)?),
            None => None,
        };
        let input = self.eval_vector(r, expr)?;
        match op {
            AggOp::Topk | AggOp::Bottomk | AggOp::Limitk | AggOp::LimitRatio => {
                let params = params.unwrap_or_default();
                let pos = param.as_deref().and_then(|p| super::positions::of_expr(self.query, p));
                self.aggregate_k(r, *op, grouping, input, &params, pos)
            }
            _ => {
                if *op == AggOp::Quantile {
                    self.check_quantile_params(params.as_deref().unwrap_or(&[]), param.as_deref());
                }
                self.aggregate(r, *op, grouping, input, params.as_deref())
            }
        }
    }

    fn check_quantile_params(&mut self, q: &[f64], param: Option<&Expr>) {
        let pos = param.and_then(|p| super::positions::of_expr(self.query, p));
        let report = |ev: &mut Self, v: f64| {
            ev.annos.warn(
                format!("quantile value should be between 0 and 1, got {}", model::go_float::g(v)),
                pos,
            );
        };
        if q.iter().any(|v| v.is_nan()) {
            report(self, f64::NAN);
        }
        let max = q.iter().copied().filter(|v| !v.is_nan()).fold(f64::NEG_INFINITY, f64::max);
        let min = q.iter().copied().filter(|v| !v.is_nan()).fold(f64::INFINITY, f64::min);
        if max > 1.0 {
            report(self, max);
        }
        if min < 0.0 {
            report(self, min);
        }
    }

    fn aggregate(
        &mut self,
        r: Range,
        op: AggOp,
        grouping: &Grouping,
        input: Vec<Series>,
        params: Option<&[f64]>,
    ) -> Result<Val, QueryError> {
        let mut ids: HashMap<Labels, usize> = HashMap::new();
        let mut out: Vec<Series> = Vec::new();
        let member: Vec<usize> = input
            .iter()
            .map(|s| {
                let l = grouping_labels(&s.labels, grouping);
                let n = ids.len();
                *ids.entry(l.clone()).or_insert_with(|| {
                    out.push(Series { labels: l, points: vec![], drop_name: false });
                    n
                })
            })
            .collect();
        let steps = r.steps();
        if op != AggOp::Quantile && out.len().saturating_mul(steps) <= SERIES_MAJOR_MAX_CELLS {
            return self.aggregate_series_major(r, op, input, &member, out);
        }
        let mut groups = vec![Group::default(); out.len()];
        let mut heaps: Vec<Vec<f64>> =
            if op == AggOp::Quantile { vec![vec![]; out.len()] } else { vec![] };
        let mut cursor = StepCursor::new(input.len());
        for i in 0..r.steps() {
            self.tick()?;
            let ts = r.ts(i);
            cursor.gather(&input, ts);
            for g in groups.iter_mut() {
                g.seen = false;
            }
            for &(j, f) in &cursor.buf {
                let gi = member[j];
                let g = &mut groups[gi];
                if !g.seen {
                    *g = Group {
                        seen: true,
                        value: f,
                        mean: f,
                        count: 1.0,
                        drop_name: input[j].drop_name,
                        ..Group::default()
                    };
                    match op {
                        AggOp::Stdvar | AggOp::Stddev => {
                            g.value = if f.is_nan() || f.is_infinite() { f64::NAN } else { 0.0 };
                        }
                        AggOp::Group => g.value = 1.0,
                        AggOp::Quantile => {
                            heaps[gi].clear();
                            heaps[gi].push(f);
                        }
                        _ => {}
                    }
                    continue;
                }
                if input[j].drop_name {
                    g.drop_name = true;
                }
                accumulate(op, g, f);
                if op == AggOp::Quantile {
                    heaps[gi].push(f);
                }
            }
            for (gi, g) in groups.iter().enumerate() {
                if !g.seen {
                    continue;
                }
                let v = match op {
                    AggOp::Avg if g.incremental_mean => g.mean + g.kahan_c,
                    AggOp::Avg => g.value / g.count + g.kahan_c / g.count,
                    AggOp::Count => g.count,
                    AggOp::Stdvar => g.value / g.count,
                    AggOp::Stddev => (g.value / g.count).sqrt(),
                    AggOp::Quantile => quantile(params.map_or(f64::NAN, |p| p[i]), &mut heaps[gi]),
                    AggOp::Sum => g.value + g.kahan_c,
                    _ => g.value,
                };
                out[gi].points.push(Sample::new(ts, v));
                if g.drop_name {
                    out[gi].drop_name = true;
                }
            }
        }
        out.retain(|s| !s.points.is_empty());
        Ok(Val::Vector(out))
    }

    /// The same aggregation series by series into one accumulator per group and step: every
    /// accumulator still receives its values in input-series order, so results are identical
    /// to the step-by-step walk, without scanning every series at every step.
    fn aggregate_series_major(
        &mut self,
        r: Range,
        op: AggOp,
        input: Vec<Series>,
        member: &[usize],
        mut out: Vec<Series>,
    ) -> Result<Val, QueryError> {
        let steps = r.steps();
        let mut cells = vec![Group::default(); out.len() * steps];
        for (j, s) in input.iter().enumerate() {
            self.tick()?;
            let base = member[j] * steps;
            for p in &s.points {
                let g = &mut cells[base + ((p.t - r.start) / r.interval) as usize];
                if !g.seen {
                    *g = first_value(op, p.v, s.drop_name);
                    continue;
                }
                if s.drop_name {
                    g.drop_name = true;
                }
                accumulate(op, g, p.v);
            }
        }
        for (gi, series) in out.iter_mut().enumerate() {
            for (i, g) in cells[gi * steps..(gi + 1) * steps].iter().enumerate() {
                if !g.seen {
                    continue;
                }
                series.points.push(Sample::new(r.ts(i), final_value(op, g)));
                if g.drop_name {
                    series.drop_name = true;
                }
            }
        }
        out.retain(|s| !s.points.is_empty());
        Ok(Val::Vector(out))
    }

    fn count_values(
        &mut self,
        r: Range,
        label: &str,
        grouping: &Grouping,
        input: Vec<Series>,
    ) -> Result<Val, QueryError> {
        let mut g = grouping.clone();
        if !g.without {
            g.labels.push(label.to_string());
        }
        let mut cursor = StepCursor::new(input.len());
        let mut out = OutBuilder::default();
        let mut counts: Vec<(Labels, f64)> = Vec::new();
        for i in 0..r.steps() {
            self.tick()?;
            let ts = r.ts(i);
            cursor.gather(&input, ts);
            counts.clear();
            for &(j, f) in &cursor.buf {
                let mut b = input[j].labels.builder();
                b.set(label, &format_go_float(f));
                let key = grouping_labels(&b.build(), &g);
                match counts.iter_mut().find(|(l, _)| *l == key) {
                    Some(c) => c.1 += 1.0,
                    None => counts.push((key, 1.0)),
                }
            }
            for (l, c) in &counts {
                out.push(l, false, ts, *c)?;
            }
        }
        Ok(Val::Vector(out.finish()))
    }

    fn aggregate_k(
        &mut self,
        r: Range,
        op: AggOp,
        grouping: &Grouping,
        input: Vec<Series>,
        params: &[f64],
        param_pos: Option<usize>,
    ) -> Result<Val, QueryError> {
        let valid: Vec<f64> = params.to_vec();
        if op == AggOp::LimitRatio {
            if valid.iter().all(|p| *p == 0.0) {
                return Ok(Val::Vector(vec![]));
            }
            if valid.iter().any(|p| p.is_nan()) {
                return Err(QueryError::Execution("Ratio value is NaN".into()));
            }
            let max = valid.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let min = valid.iter().copied().fold(f64::INFINITY, f64::min);
            if max > 1.0 {
                self.annos.warn(
                    format!(
                        "ratio value should be between -1 and 1, got {}, capping to 1",
                        model::go_float::g(max)
                    ),
                    param_pos,
                );
            }
            if min < -1.0 {
                self.annos.warn(
                    format!(
                        "ratio value should be between -1 and 1, got {}, capping to -1",
                        model::go_float::g(min)
                    ),
                    param_pos,
                );
            }
        } else {
            if valid.iter().any(|p| p.is_nan()) {
                return Err(QueryError::Execution("Parameter value is NaN".into()));
            }
            if valid.iter().copied().fold(f64::NEG_INFINITY, f64::max) < 1.0 {
                return Ok(Val::Vector(vec![]));
            }
            if let Some(p) = valid.iter().find(|p| **p <= i64::MIN as f64) {
                return Err(QueryError::Execution(format!(
                    "Scalar value {} underflows int64",
                    model::go_float::g(*p)
                )));
            }
            if let Some(p) = valid.iter().find(|p| **p >= i64::MAX as f64) {
                return Err(QueryError::Execution(format!(
                    "Scalar value {} overflows int64",
                    model::go_float::g(*p)
                )));
            }
        }
        let mut ids: HashMap<Labels, usize> = HashMap::new();
        let member: Vec<usize> = input
            .iter()
            .map(|s| {
                let n = ids.len();
                *ids.entry(grouping_labels(&s.labels, grouping)).or_insert(n)
            })
            .collect();
        let mut heaps: Vec<Vec<(usize, f64)>> = vec![Vec::new(); ids.len()];
        let mut out = OutBuilder::default();
        let mut cursor = StepCursor::new(input.len());
        for i in 0..r.steps() {
            self.tick()?;
            let ts = r.ts(i);
            cursor.gather(&input, ts);
            heaps.iter_mut().for_each(Vec::clear);
            let p = params.get(i).copied().unwrap_or(f64::NAN);
            let k = if op == AggOp::LimitRatio { 0 } else { (p as i64).min(input.len() as i64) };
            if op != AggOp::LimitRatio && k < 1 {
                continue;
            }
            if op == AggOp::LimitRatio && p == 0.0 {
                continue;
            }
            let ratio = p.clamp(-1.0, 1.0);
            for &(j, f) in &cursor.buf {
                let h = &mut heaps[member[j]];
                match op {
                    AggOp::Topk => heap_offer(h, (j, f), k as usize, true),
                    AggOp::Bottomk => heap_offer(h, (j, f), k as usize, false),
                    AggOp::Limitk => {
                        if h.len() < k as usize {
                            h.push((j, f));
                        }
                    }
                    _ => {
                        if ratio_keep(ratio, &input[j].labels) {
                            h.push((j, f));
                        }
                    }
                }
            }
            for h in heaps.iter_mut() {
                match op {
                    AggOp::Topk => insertion_sort(h, |a, b| topk_less(b, a)),
                    AggOp::Bottomk => insertion_sort(h, |a, b| bottomk_less(b, a)),
                    _ => {}
                }
                for &(j, f) in h.iter() {
                    out.push(&input[j].labels, input[j].drop_name, ts, f)?;
                }
            }
        }
        Ok(Val::Vector(out.finish()))
    }
}

/// Aggregations up to this many (group, step) accumulators run series by series.
const SERIES_MAJOR_MAX_CELLS: usize = 1 << 20;

/// A group's state after its first value at a step (not for `quantile`).
fn first_value(op: AggOp, f: f64, drop_name: bool) -> Group {
    let mut g = Group { seen: true, value: f, mean: f, count: 1.0, drop_name, ..Group::default() };
    match op {
        AggOp::Stdvar | AggOp::Stddev => {
            g.value = if f.is_nan() || f.is_infinite() { f64::NAN } else { 0.0 };
        }
        AggOp::Group => g.value = 1.0,
        _ => {}
    }
    g
}

/// A group's result at a step (not for `quantile`).
fn final_value(op: AggOp, g: &Group) -> f64 {
    match op {
        AggOp::Avg if g.incremental_mean => g.mean + g.kahan_c,
        AggOp::Avg => g.value / g.count + g.kahan_c / g.count,
        AggOp::Count => g.count,
        AggOp::Stdvar => g.value / g.count,
        AggOp::Stddev => (g.value / g.count).sqrt(),
        AggOp::Sum => g.value + g.kahan_c,
        _ => g.value,
    }
}

fn accumulate(op: AggOp, g: &mut Group, f: f64) {
    match op {
        AggOp::Sum => (g.value, g.kahan_c) = kahan::inc(f, g.value, g.kahan_c),
        AggOp::Avg => {
            g.count += 1.0;
            if !g.incremental_mean {
                let (nv, nc) = kahan::inc(f, g.value, g.kahan_c);
                if !nv.is_infinite() {
                    (g.value, g.kahan_c) = (nv, nc);
                    return;
                }
                g.incremental_mean = true;
                g.mean = g.value / (g.count - 1.0);
                g.kahan_c /= g.count - 1.0;
            }
            let q = (g.count - 1.0) / g.count;
            (g.mean, g.kahan_c) = kahan::inc(f / g.count, q * g.mean, q * g.kahan_c);
        }
        AggOp::Max if (g.value < f || g.value.is_nan()) => {
            g.value = f;
        }
        AggOp::Min if (g.value > f || g.value.is_nan()) => {
            g.value = f;
        }
        AggOp::Count => g.count += 1.0,
        AggOp::Stdvar | AggOp::Stddev => {
            g.count += 1.0;
            let delta = f - g.mean;
            g.mean += delta / g.count;
            g.value += delta * (f - g.mean);
        }
        _ => {}
    }
}

/// `vectorByValueHeap.Less`: NaN sorts first, then ascending (a min-heap keeps the k largest).
fn topk_less(a: &(usize, f64), b: &(usize, f64)) -> bool {
    a.1.is_nan() || a.1 < b.1
}

/// `vectorByReverseValueHeap.Less`: NaN first, then descending.
fn bottomk_less(a: &(usize, f64), b: &(usize, f64)) -> bool {
    a.1.is_nan() || a.1 > b.1
}

/// Offers `x` to a heap of at most `k` elements, as Prometheus' topk/bottomk do with Go's heap.
fn heap_offer(h: &mut Vec<(usize, f64)>, x: (usize, f64), k: usize, top: bool) {
    let less = if top { topk_less } else { bottomk_less };
    if h.len() < k {
        h.push(x);
        let mut j = h.len() - 1;
        while j > 0 {
            let i = (j - 1) / 2;
            if !less(&h[j], &h[i]) {
                break;
            }
            h.swap(i, j);
            j = i;
        }
        return;
    }
    let head = h[0].1;
    let replace = if top {
        head < x.1 || (head.is_nan() && !x.1.is_nan())
    } else {
        head > x.1 || (head.is_nan() && !x.1.is_nan())
    };
    if replace {
        h[0] = x;
        if k > 1 {
            let n = h.len();
            let mut i = 0;
            loop {
                let j1 = 2 * i + 1;
                if j1 >= n {
                    break;
                }
                let mut j = j1;
                if j1 + 1 < n && less(&h[j1 + 1], &h[j1]) {
                    j = j1 + 1;
                }
                if !less(&h[j], &h[i]) {
                    break;
                }
                h.swap(i, j);
                i = j;
            }
        }
    }
}

/// Go's insertion sort (what `sort.Sort` does for short slices).
fn insertion_sort(h: &mut [(usize, f64)], less: impl Fn(&(usize, f64), &(usize, f64)) -> bool) {
    for i in 1..h.len() {
        let mut j = i;
        while j > 0 && less(&h[j], &h[j - 1]) {
            h.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// `limit_ratio`'s deterministic per-series sampling.
fn ratio_keep(ratio: f64, labels: &Labels) -> bool {
    let offset = labels.hash64() as f64 / u64::MAX as f64;
    if ratio >= 0.0 { offset < ratio } else { offset >= 1.0 + ratio }
}

/// Formats like Go's `strconv.FormatFloat(f, 'f', -1, 64)`.
pub(crate) fn format_go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    format!("{f}")
}
