//! Binary operators: scalar/scalar, vector/scalar, vector/vector with `on`/`ignoring`,
//! `group_left`/`group_right`, `bool`, and the set operators `and`, `or`, `unless`.

use std::collections::HashMap;

use model::Labels;

use super::{Evaluator, OutBuilder, Range, Series, StepCursor, Val};
use crate::QueryError;
use crate::ast::{BinOp, Cardinality, Expr, VectorMatching};

/// The float result of `l op r` for scalars (comparisons give 0 or 1).
pub(crate) fn scalar_binop(op: BinOp, l: f64, r: f64) -> f64 {
    match op {
        BinOp::Add => l + r,
        BinOp::Sub => l - r,
        BinOp::Mul => l * r,
        BinOp::Div => l / r,
        BinOp::Pow => crate::functions::math::go_pow(l, r),
        BinOp::Mod => l % r,
        BinOp::Atan2 => l.atan2(r),
        BinOp::Eql => btos(l == r),
        BinOp::Neq => btos(l != r),
        BinOp::Gtr => btos(l > r),
        BinOp::Lss => btos(l < r),
        BinOp::Gte => btos(l >= r),
        BinOp::Lte => btos(l <= r),
        BinOp::And | BinOp::Or | BinOp::Unless => f64::NAN,
    }
}

fn btos(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// `(value, keep)` of a vector element operation: comparisons keep the left value or filter.
fn elem_binop(op: BinOp, l: f64, r: f64) -> (f64, bool) {
    match op {
        BinOp::Eql => (l, l == r),
        BinOp::Neq => (l, l != r),
        BinOp::Gtr => (l, l > r),
        BinOp::Lss => (l, l < r),
        BinOp::Gte => (l, l >= r),
        BinOp::Lte => (l, l <= r),
        _ => (scalar_binop(op, l, r), true),
    }
}

/// Operators whose result no longer has the meaning of the input metric.
fn changes_metric_schema(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Pow | BinOp::Mod | BinOp::Atan2
    )
}

impl Evaluator<'_> {
    pub fn eval_binary(&mut self, r: Range, e: &Expr) -> Result<Val, QueryError> {
        let Expr::Binary { op, lhs, rhs, return_bool, matching } = e else {
            return Err(QueryError::Execution("not a binary expression".into()));
        };
        let (op, rb) = (*op, *return_bool);
        let l = self.eval(r, lhs)?;
        let rv = self.eval(r, rhs)?;
        match (l, rv) {
            (Val::Scalar(a), Val::Scalar(b)) => {
                Ok(Val::Scalar(a.iter().zip(&b).map(|(x, y)| scalar_binop(op, *x, *y)).collect()))
            }
            (Val::Vector(v), Val::Scalar(s)) => {
                Ok(Val::Vector(vector_scalar(op, v, &s, false, rb, r)))
            }
            (Val::Scalar(s), Val::Vector(v)) => {
                Ok(Val::Vector(vector_scalar(op, v, &s, true, rb, r)))
            }
            (Val::Vector(a), Val::Vector(b)) => {
                let default = VectorMatching {
                    card: if op.is_set() { Cardinality::ManyToMany } else { Cardinality::OneToOne },
                    on: false,
                    labels: vec![],
                    include: vec![],
                };
                let m = matching.as_ref().unwrap_or(&default);
                let out = if op.is_set() {
                    self.set_op(op, a, b, m, r)?
                } else {
                    self.vector_binop(op, a, b, m, rb, r)?
                };
                Ok(Val::Vector(out))
            }
            _ => Err(QueryError::Execution(
                "binary expression must contain only scalar and instant vector types".into(),
            )),
        }
    }

    fn set_op(
        &mut self,
        op: BinOp,
        lhs: Vec<Series>,
        rhs: Vec<Series>,
        m: &VectorMatching,
        r: Range,
    ) -> Result<Vec<Series>, QueryError> {
        let mut sigs = Signatures::new(m);
        let lsig: Vec<usize> = lhs.iter().map(|s| sigs.id(&s.labels)).collect();
        let rsig: Vec<usize> = rhs.iter().map(|s| sigs.id(&s.labels)).collect();
        let (mut lc, mut rc) = (StepCursor::new(lhs.len()), StepCursor::new(rhs.len()));
        let mut present = vec![false; sigs.len()];
        let mut out = OutBuilder::default();
        let l_idx: Vec<usize> = lhs.iter().map(|s| out.index(&s.labels, s.drop_name)).collect();
        let r_idx: Vec<usize> = match op {
            BinOp::Or => rhs.iter().map(|s| out.index(&s.labels, s.drop_name)).collect(),
            _ => vec![],
        };
        for i in 0..r.steps() {
            self.tick()?;
            let ts = r.ts(i);
            lc.gather(&lhs, ts);
            rc.gather(&rhs, ts);
            let (side, other, other_sig) = match op {
                BinOp::Or => (&rc.buf, &lc.buf, &lsig),
                _ => (&lc.buf, &rc.buf, &rsig),
            };
            for &(j, _) in other {
                present[other_sig[j]] = true;
            }
            match op {
                BinOp::And => {
                    for &(j, v) in side {
                        if !rc.buf.is_empty() && present[lsig[j]] {
                            out.push_at(l_idx[j], ts, v)?;
                        }
                    }
                }
                BinOp::Unless => {
                    for &(j, v) in side {
                        if rc.buf.is_empty() || !present[lsig[j]] {
                            out.push_at(l_idx[j], ts, v)?;
                        }
                    }
                }
                _ => {
                    for &(j, v) in other {
                        out.push_at(l_idx[j], ts, v)?;
                    }
                    for &(j, v) in side {
                        if !present[rsig[j]] {
                            out.push_at(r_idx[j], ts, v)?;
                        }
                    }
                }
            }
            for &(j, _) in other {
                present[other_sig[j]] = false;
            }
        }
        Ok(out.finish())
    }

    fn vector_binop(
        &mut self,
        op: BinOp,
        lhs: Vec<Series>,
        rhs: Vec<Series>,
        m: &VectorMatching,
        return_bool: bool,
        r: Range,
    ) -> Result<Vec<Series>, QueryError> {
        let one_to_many = m.card == Cardinality::OneToMany;
        // The "many" side (or the left side for one-to-one) drives the output labels.
        let (many, one) = if one_to_many { (rhs, lhs) } else { (lhs, rhs) };
        let mut sigs = Signatures::new(m);
        let msig: Vec<usize> = many.iter().map(|s| sigs.id(&s.labels)).collect();
        let osig: Vec<usize> = one.iter().map(|s| sigs.id(&s.labels)).collect();
        let (mut mc, mut oc) = (StepCursor::new(many.len()), StepCursor::new(one.len()));
        let mut right: Vec<Option<(usize, f64)>> = vec![None; sigs.len()];
        let mut matched: Vec<bool> = vec![false; sigs.len()];
        let mut matched_sets: HashMap<usize, Vec<Labels>> = HashMap::new();
        let mut pair_cache: HashMap<(usize, usize), (usize, Labels)> = HashMap::new();
        let mut out = OutBuilder::default();
        for i in 0..r.steps() {
            self.tick()?;
            let ts = r.ts(i);
            mc.gather(&many, ts);
            oc.gather(&one, ts);
            if mc.buf.is_empty() || oc.buf.is_empty() {
                continue;
            }
            for &(j, v) in &oc.buf {
                let sig = osig[j];
                if let Some((prev, _)) = right[sig] {
                    return Err(duplicate_error(&one[j].labels, &one[prev].labels, m));
                }
                right[sig] = Some((j, v));
            }
            for &(j, lv) in &mc.buf {
                let sig = msig[j];
                let Some((oj, rv)) = right[sig] else { continue };
                let (fl, fr) = if one_to_many { (rv, lv) } else { (lv, rv) };
                let (mut v, keep) = elem_binop(op, fl, fr);
                if return_bool {
                    v = btos(keep);
                }
                let (idx, labels) = pair_cache
                    .entry((j, oj))
                    .or_insert_with(|| {
                        let l = result_metric(&many[j].labels, &one[oj].labels, op, m);
                        // A filtering comparison keeps the driving side's name only if that
                        // side still had one (`-x > y` has none).
                        (out.index(&l, return_bool || many[j].drop_name), l)
                    })
                    .clone();
                if m.card == Cardinality::OneToOne {
                    if matched[sig] {
                        return Err(QueryError::Execution("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into()));
                    }
                    matched[sig] = true;
                } else {
                    let set = matched_sets.entry(sig).or_default();
                    if set.contains(&labels) {
                        return Err(QueryError::Execution(
                            "multiple matches for labels: grouping labels must ensure unique matches".into(),
                        ));
                    }
                    set.push(labels);
                }
                if keep || return_bool {
                    out.push_at(idx, ts, v)?;
                }
            }
            for &(j, _) in &oc.buf {
                right[osig[j]] = None;
            }
            for &(j, _) in &mc.buf {
                matched[msig[j]] = false;
            }
            matched_sets.clear();
        }
        Ok(out.finish())
    }
}

fn duplicate_error(a: &Labels, b: &Labels, m: &VectorMatching) -> QueryError {
    let side = if m.card == Cardinality::OneToMany { "left" } else { "right" };
    let matched = match_labels(a, m);
    let (mut d1, mut d2) = (a.to_string(), b.to_string());
    if d1 > d2 {
        std::mem::swap(&mut d1, &mut d2);
    }
    QueryError::Execution(format!(
        "found duplicate series for the match group {matched} on the {side} hand-side of the operation: [{d1}, {d2}];many-to-many matching not allowed: matching labels must be unique on one side"
    ))
}

/// The labels a series is matched on.
fn match_labels(l: &Labels, m: &VectorMatching) -> Labels {
    if m.on {
        l.keep_names(&m.labels)
    } else {
        l.filter(|x| &*x.name != model::METRIC_NAME && !m.labels.iter().any(|n| *n == *x.name))
    }
}

/// The labels of `many op one`.
fn result_metric(many: &Labels, one: &Labels, op: BinOp, m: &VectorMatching) -> Labels {
    let mut b = many.builder();
    if changes_metric_schema(op) {
        b.del(model::METRIC_NAME);
    }
    if m.card == Cardinality::OneToOne {
        if m.on {
            b.keep(&m.labels);
        } else {
            for n in &m.labels {
                b.del(n);
            }
        }
    }
    for n in &m.include {
        match one.get(n) {
            Some(v) => b.set(n, v),
            None => b.del(n),
        };
    }
    b.build()
}

/// Interns matching signatures into small integer ids.
struct Signatures<'m> {
    m: &'m VectorMatching,
    ids: HashMap<Labels, usize>,
}

impl<'m> Signatures<'m> {
    fn new(m: &'m VectorMatching) -> Self {
        Signatures { m, ids: HashMap::new() }
    }

    fn id(&mut self, l: &Labels) -> usize {
        let sig = match_labels(l, self.m);
        let n = self.ids.len();
        *self.ids.entry(sig).or_insert(n)
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

/// Vector/scalar operations; `swap` when the scalar is on the left.
fn vector_scalar(
    op: BinOp,
    v: Vec<Series>,
    s: &[f64],
    swap: bool,
    return_bool: bool,
    r: Range,
) -> Vec<Series> {
    let mut out = Vec::with_capacity(v.len());
    for mut series in v {
        let mut pts = Vec::with_capacity(series.points.len());
        for p in &series.points {
            let sv = s[((p.t - r.start) / r.interval) as usize];
            let (l, rr) = if swap { (sv, p.v) } else { (p.v, sv) };
            let (mut val, mut keep) = elem_binop(op, l, rr);
            if op.is_comparison() && swap {
                val = rr;
            }
            if return_bool {
                val = btos(keep);
                keep = true;
            }
            if keep {
                pts.push(model::Sample::new(p.t, val));
            }
        }
        if changes_metric_schema(op) || return_bool {
            series.drop_name = true;
        }
        if !pts.is_empty() {
            series.points = pts;
            out.push(series);
        }
    }
    out
}
