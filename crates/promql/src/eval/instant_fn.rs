//! Functions over instant vectors and scalars, evaluated for all steps.

use model::{Labels, Sample};

use super::call::absent_labels;
use super::{Evaluator, Range, Series, StepCursor, Val};
use crate::QueryError;
use crate::ast::{Expr, ValueType};
use crate::functions::quantile::Bucket;
use crate::functions::{histogram, math, time};

impl Evaluator<'_> {
    pub fn eval_instant_call(
        &mut self,
        r: Range,
        func: &str,
        args: &[Expr],
    ) -> Result<Val, QueryError> {
        let n = r.steps();
        match func {
            "time" => return Ok(Val::Scalar((0..n).map(|i| r.ts(i) as f64 / 1000.0).collect())),
            "pi" => return Ok(Val::Scalar(vec![std::f64::consts::PI; n])),
            "vector" => {
                let s = self.eval_scalar(r, &args[0])?;
                let points = (0..n).map(|i| Sample::new(r.ts(i), s[i])).collect();
                return Ok(Val::Vector(vec![Series {
                    labels: Labels::empty(),
                    points,
                    drop_name: false,
                }]));
            }
            "scalar" => return Ok(Val::Scalar(self.scalar_of(r, &args[0])?)),
            "absent" => return self.absent(r, &args[0]),
            "label_replace" => return self.label_replace(r, args),
            "label_join" => return self.label_join(r, args),
            "histogram_quantile" => return self.histogram_quantile(r, args),
            "histogram_fraction" => return self.histogram_fraction(r, args),
            "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev"
            | "histogram_stdvar" => {
                // Only native histograms have these; float samples yield nothing.
                self.eval_vector(r, &args[0])?;
                return Ok(Val::Vector(vec![]));
            }
            _ => {}
        }
        if let Some(f) = time::date_fn(func) {
            if args.is_empty() {
                let points =
                    (0..n).map(|i| Sample::new(r.ts(i), f((r.ts(i) / 1000) as f64))).collect();
                return Ok(Val::Vector(vec![Series {
                    labels: Labels::empty(),
                    points,
                    drop_name: false,
                }]));
            }
            let v = self.eval_vector(r, &args[0])?;
            return Ok(Val::Vector(map_values(v, |_, x| f(x))));
        }
        if let Some(f) = math::simple_fn(func) {
            let v = self.eval_vector(r, &args[0])?;
            return Ok(Val::Vector(map_values(v, |_, x| f(x))));
        }
        let step = |t: i64| ((t - r.start) / r.interval) as usize;
        match func {
            "round" => {
                let to = match args.get(1) {
                    Some(a) => self.eval_scalar(r, a)?,
                    None => vec![1.0; n],
                };
                let v = self.eval_vector(r, &args[0])?;
                Ok(Val::Vector(map_values(v, |t, x| math::round(x, to[step(t)]))))
            }
            "clamp" | "clamp_min" | "clamp_max" => {
                let v = self.eval_vector(r, &args[0])?;
                let (lo, hi) = match func {
                    "clamp" => (self.eval_scalar(r, &args[1])?, self.eval_scalar(r, &args[2])?),
                    "clamp_min" => (self.eval_scalar(r, &args[1])?, vec![f64::INFINITY; n]),
                    _ => (vec![f64::NEG_INFINITY; n], self.eval_scalar(r, &args[1])?),
                };
                let mut out = Vec::with_capacity(v.len());
                for mut s in v {
                    s.points.retain(|p| {
                        hi[step(p.t)] >= lo[step(p.t)]
                            || hi[step(p.t)].is_nan()
                            || lo[step(p.t)].is_nan()
                    });
                    s.points
                        .iter_mut()
                        .for_each(|p| p.v = math::clamp(p.v, lo[step(p.t)], hi[step(p.t)]));
                    s.drop_name = true;
                    if !s.points.is_empty() {
                        out.push(s);
                    }
                }
                Ok(Val::Vector(out))
            }
            "timestamp" => {
                let v = self.eval_vector(r, &args[0])?;
                Ok(Val::Vector(map_values(v, |t, _| t as f64 / 1000.0)))
            }
            "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" => {
                self.sort(r, func, args)
            }
            other => Err(QueryError::Execution(format!("unsupported function {other}"))),
        }
    }

    /// `scalar(v)`: the single value at each step, or NaN.
    fn scalar_of(&mut self, r: Range, e: &Expr) -> Result<Vec<f64>, QueryError> {
        if e.value_type() == ValueType::Scalar {
            return self.eval_scalar(r, e);
        }
        let v = self.eval_vector(r, e)?;
        let mut out = vec![f64::NAN; r.steps()];
        let mut count = vec![0u32; r.steps()];
        for s in &v {
            for p in &s.points {
                let i = ((p.t - r.start) / r.interval) as usize;
                count[i] += 1;
                out[i] = if count[i] == 1 { p.v } else { f64::NAN };
            }
        }
        Ok(out)
    }

    fn absent(&mut self, r: Range, arg: &Expr) -> Result<Val, QueryError> {
        let v = self.eval_vector(r, arg)?;
        let mut found = vec![false; r.steps()];
        for s in &v {
            for p in &s.points {
                found[((p.t - r.start) / r.interval) as usize] = true;
            }
        }
        let points: Vec<Sample> =
            (0..r.steps()).filter(|i| !found[*i]).map(|i| Sample::new(r.ts(i), 1.0)).collect();
        if points.is_empty() {
            return Ok(Val::Vector(vec![]));
        }
        Ok(Val::Vector(vec![Series { labels: absent_labels(arg), points, drop_name: false }]))
    }

    fn sort(&mut self, r: Range, func: &str, args: &[Expr]) -> Result<Val, QueryError> {
        let mut v = self.eval_vector(r, &args[0])?;
        if r.start != r.end {
            self.annos.warn(
                "sort is ineffective for range queries since results are always ordered by labels"
                    .into(),
                super::positions::find_ident(self.query, func),
            );
            return Ok(Val::Vector(v));
        }
        let val = |s: &Series| s.points.first().map_or(f64::NAN, |p| p.v);
        match func {
            "sort" => v.sort_by(|a, b| cmp_nan_last(val(a), val(b))),
            "sort_desc" => v.sort_by(|a, b| cmp_nan_last_desc(val(a), val(b))),
            _ => {
                let names: Vec<String> = args[1..]
                    .iter()
                    .filter_map(|a| match a.unparen() {
                        Expr::String(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect();
                let desc = func == "sort_by_label_desc";
                v.sort_by(|a, b| {
                    for n in &names {
                        let (x, y) = (a.labels.get(n).unwrap_or(""), b.labels.get(n).unwrap_or(""));
                        if x != y {
                            let o = natord(x, y);
                            return if desc { o.reverse() } else { o };
                        }
                    }
                    let o = a.labels.cmp(&b.labels);
                    if desc { o.reverse() } else { o }
                });
            }
        }
        Ok(Val::Vector(v))
    }

    fn histogram_quantile(&mut self, r: Range, args: &[Expr]) -> Result<Val, QueryError> {
        let q = self.eval_scalar(r, &args[0])?;
        let v = self.eval_vector(r, &args[1])?;
        let pos = super::positions::of_expr(self.query, &args[1]);
        if q.iter().any(|q| q.is_nan() || *q < 0.0 || *q > 1.0) {
            let bad = q
                .iter()
                .find(|q| q.is_nan() || **q < 0.0 || **q > 1.0)
                .copied()
                .unwrap_or(f64::NAN);
            self.annos.warn(
                format!(
                    "quantile value should be between 0 and 1, got {}",
                    model::go_float::g(bad)
                ),
                super::positions::of_expr(self.query, &args[0]),
            );
        }
        self.per_bucket_group(r, &v, pos, |ev, i, ts, name, buckets| {
            let (val, fix) = histogram::quantile_of(q[i], buckets);
            if fix.forced {
                ev.annos.monotonicity_info(
                    name,
                    ts,
                    fix.min_bucket,
                    fix.max_bucket,
                    fix.max_diff,
                    pos,
                );
            }
            val
        })
    }

    fn histogram_fraction(&mut self, r: Range, args: &[Expr]) -> Result<Val, QueryError> {
        let lo = self.eval_scalar(r, &args[0])?;
        let hi = self.eval_scalar(r, &args[1])?;
        let v = self.eval_vector(r, &args[2])?;
        let pos = super::positions::of_expr(self.query, &args[2]);
        self.per_bucket_group(r, &v, pos, |_, i, _, _, buckets| {
            histogram::fraction_of(lo[i], hi[i], buckets)
        })
    }

    /// Groups classic buckets per step and applies `f` to each group's buckets.
    fn per_bucket_group(
        &mut self,
        r: Range,
        v: &[Series],
        pos: Option<usize>,
        mut f: impl FnMut(&mut Self, usize, i64, &str, &mut Vec<Bucket>) -> f64,
    ) -> Result<Val, QueryError> {
        let labels: Vec<&Labels> = v.iter().map(|s| &s.labels).collect();
        let plan = histogram::plan(&labels);
        let mut out: Vec<Series> = plan
            .groups
            .iter()
            .map(|l| Series { labels: l.clone(), points: vec![], drop_name: true })
            .collect();
        let mut cursor = StepCursor::new(v.len());
        let mut buckets: Vec<Vec<Bucket>> = vec![Vec::new(); plan.groups.len()];
        for i in 0..r.steps() {
            self.tick()?;
            let ts = r.ts(i);
            cursor.gather(v, ts);
            for &(j, val) in &cursor.buf {
                match plan.member[j] {
                    Some((g, upper)) => buckets[g].push(Bucket { upper, count: val }),
                    None => {
                        let (name, le) = plan
                            .bad
                            .iter()
                            .find(|b| b.0 == j)
                            .map(|b| (b.1.clone(), b.2.clone()))
                            .unwrap_or_default();
                        let mut msg = format!(
                            "bucket label \"le\" is missing or has a malformed value of {le:?}"
                        );
                        if !name.is_empty() {
                            msg.push_str(&format!(" for metric name {name:?}"));
                        }
                        self.annos.warn(msg, pos);
                    }
                }
            }
            for (g, b) in buckets.iter_mut().enumerate() {
                if b.is_empty() {
                    continue;
                }
                let name = plan.groups[g].metric_name().unwrap_or("").to_string();
                let val = f(self, i, ts, &name, b);
                out[g].points.push(Sample::new(ts, val));
                b.clear();
            }
        }
        out.retain(|s| !s.points.is_empty());
        Ok(Val::Vector(out))
    }

    fn label_replace(&mut self, r: Range, args: &[Expr]) -> Result<Val, QueryError> {
        let s = string_args(args);
        let (dst, repl, src, re) = (&s[1], &s[2], &s[3], &s[4]);
        let regex = model::regex_compat::compile_anchored(re).map_err(|_| {
            QueryError::Execution(format!("invalid regular expression in label_replace(): {re}"))
        })?;
        if let Some(bad) = crate::parser::invalid_utf8_display(&args[1]) {
            return Err(QueryError::Execution(format!(
                "invalid destination label name in label_replace(): {bad}"
            )));
        }
        if dst.is_empty() {
            return Err(QueryError::Execution(format!(
                "invalid destination label name in label_replace(): {dst}"
            )));
        }
        let v = self.eval_vector(r, &args[0])?;
        let mut out = Vec::with_capacity(v.len());
        for mut series in v {
            let src_val = series.labels.get(src).unwrap_or("").to_string();
            if let Some(caps) = regex.captures(&src_val) {
                let mut res = String::new();
                caps.expand(repl, &mut res);
                let mut b = series.labels.builder();
                b.set(dst, &res);
                series.labels = b.build();
                if dst == model::METRIC_NAME {
                    series.drop_name = false;
                }
            }
            out.push(series);
        }
        Ok(Val::Vector(merge_same_labels(out)?))
    }

    fn label_join(&mut self, r: Range, args: &[Expr]) -> Result<Val, QueryError> {
        let s = string_args(args);
        let (dst, sep) = (&s[1], &s[2]);
        let srcs = &s[3..];
        if let Some(bad) = crate::parser::invalid_utf8_display(&args[1]) {
            return Err(QueryError::Execution(format!(
                "invalid destination label name in label_join(): {bad}"
            )));
        }
        if dst.is_empty() {
            return Err(QueryError::Execution(format!(
                "invalid destination label name in label_join(): {dst}"
            )));
        }
        if let Some(bad) = args[3..].iter().find_map(crate::parser::invalid_utf8_display) {
            return Err(QueryError::Execution(format!(
                "invalid source label name in label_join(): {bad}"
            )));
        }
        if let Some(bad) = srcs.iter().find(|x| x.is_empty()) {
            return Err(QueryError::Execution(format!(
                "invalid source label name in label_join(): {bad}"
            )));
        }
        let v = self.eval_vector(r, &args[0])?;
        let mut out = Vec::with_capacity(v.len());
        for mut series in v {
            let joined: Vec<&str> =
                srcs.iter().map(|n| series.labels.get(n).unwrap_or("")).collect();
            let joined = joined.join(sep);
            let mut b = series.labels.builder();
            b.set(dst, &joined);
            series.labels = b.build();
            if dst == model::METRIC_NAME {
                series.drop_name = false;
            }
            out.push(series);
        }
        Ok(Val::Vector(merge_same_labels(out)?))
    }
}

fn string_args(args: &[Expr]) -> Vec<String> {
    args.iter()
        .map(|a| match a.unparen() {
            Expr::String(s) => s.clone(),
            Expr::InvalidUtf8(b) => String::from_utf8_lossy(b).into_owned(),
            _ => String::new(),
        })
        .collect()
}

/// Applies `f(t, v)` to every point and marks the name for dropping.
fn map_values(v: Vec<Series>, f: impl Fn(i64, f64) -> f64) -> Vec<Series> {
    v.into_iter()
        .map(|mut s| {
            s.points.iter_mut().for_each(|p| p.v = f(p.t, p.v));
            s.drop_name = true;
            s
        })
        .collect()
}

/// Merges series whose label sets became equal; overlapping timestamps are an error.
pub(crate) fn merge_same_labels(v: Vec<Series>) -> Result<Vec<Series>, QueryError> {
    let mut idx: std::collections::HashMap<Labels, usize> = std::collections::HashMap::new();
    let mut out: Vec<Series> = Vec::with_capacity(v.len());
    let mut merged = false;
    for s in v {
        match idx.get(&s.labels) {
            Some(&i) => {
                out[i].points.extend_from_slice(&s.points);
                merged = true;
            }
            None => {
                idx.insert(s.labels.clone(), out.len());
                out.push(s);
            }
        }
    }
    if merged {
        for s in &mut out {
            s.points.sort_by_key(|p| p.t);
            if s.points.windows(2).any(|w| w[0].t == w[1].t) {
                return Err(super::steps::dup_labelset());
            }
        }
    }
    Ok(out)
}

fn cmp_nan_last(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal),
    }
}

fn cmp_nan_last_desc(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ => b.partial_cmp(&a).unwrap_or(std::cmp::Ordering::Equal),
    }
}

/// Natural ordering: digit runs compare numerically.
fn natord(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    while !x.is_empty() && !y.is_empty() {
        if x[0].is_ascii_digit() && y[0].is_ascii_digit() {
            let nx = x.iter().take_while(|c| c.is_ascii_digit()).count();
            let ny = y.iter().take_while(|c| c.is_ascii_digit()).count();
            let (dx, dy) = (&x[..nx], &y[..ny]);
            let tx = dx.iter().skip_while(|c| **c == b'0').count();
            let ty = dy.iter().skip_while(|c| **c == b'0').count();
            let o = tx.cmp(&ty).then_with(|| dx[nx - tx..].cmp(&dy[ny - ty..]));
            if o != std::cmp::Ordering::Equal {
                return o;
            }
            x = &x[nx..];
            y = &y[ny..];
        } else {
            if x[0] != y[0] {
                return x[0].cmp(&y[0]);
            }
            x = &x[1..];
            y = &y[1..];
        }
    }
    x.len().cmp(&y.len())
}
