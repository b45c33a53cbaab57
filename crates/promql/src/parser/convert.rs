//! Converts `promql-parser`'s tree into [`crate::ast`], checking what the engine needs.

use std::time::{Duration, SystemTime};

use model::{MatchType, Matcher};
use promql_parser::label::MatchOp;
use promql_parser::parser as pp;
use promql_parser::parser::Expr as RawExpr;

use crate::QueryError;
use crate::ast::{
    AggOp, At, BinOp, Cardinality, Expr, Grouping, ValueType, VectorMatching, VectorSelector,
};

fn err(msg: impl Into<String>) -> QueryError {
    QueryError::Parse(format!("parse error: {}", msg.into()))
}

/// Converts a whole tree (depth already limited by the caller).
pub fn convert(e: &RawExpr) -> Result<Expr, QueryError> {
    Ok(match e {
        RawExpr::NumberLiteral(n) => Expr::Number(n.val),
        RawExpr::StringLiteral(s) => Expr::String(s.val.clone()),
        RawExpr::VectorSelector(vs) => Expr::VectorSelector(selector(vs)?),
        RawExpr::MatrixSelector(ms) => {
            Expr::MatrixSelector { vs: selector(&ms.vs)?, range: millis(&ms.range) }
        }
        RawExpr::Subquery(sq) => Expr::Subquery {
            expr: Box::new(convert(&sq.expr)?),
            range: millis(&sq.range),
            step: sq.step.as_ref().map(millis).filter(|s| *s > 0),
            offset: offset(&sq.offset),
            at: at(&sq.at)?,
        },
        RawExpr::Paren(p) => Expr::Paren(Box::new(convert(&p.expr)?)),
        RawExpr::Unary(u) => Expr::Neg(Box::new(convert(&u.expr)?)),
        RawExpr::Call(c) => Expr::Call {
            func: c.func.name.to_string(),
            args: c.args.args.iter().map(|a| convert(a)).collect::<Result<_, _>>()?,
        },
        RawExpr::Aggregate(a) => aggregate(a)?,
        RawExpr::Binary(b) => binary(b)?,
        RawExpr::Extension(_) => return Err(err("unsupported expression")),
    })
}

fn millis(d: &Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn offset(o: &Option<pp::Offset>) -> i64 {
    match o {
        None => 0,
        Some(pp::Offset::Pos(d)) => millis(d),
        Some(pp::Offset::Neg(d)) => -millis(d),
    }
}

fn at(a: &Option<pp::AtModifier>) -> Result<Option<At>, QueryError> {
    Ok(match a {
        None => None,
        Some(pp::AtModifier::Start) => Some(At::Start),
        Some(pp::AtModifier::End) => Some(At::End),
        Some(pp::AtModifier::At(t)) => Some(At::Time(system_time_ms(t))),
    })
}

fn system_time_ms(t: &SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => millis(&d),
        Err(e) => -millis(&e.duration()),
    }
}

fn selector(vs: &pp::VectorSelector) -> Result<VectorSelector, QueryError> {
    if !vs.matchers.or_matchers.is_empty() {
        return Err(err("'or' in label matchers is not supported"));
    }
    let mut matchers = Vec::with_capacity(vs.matchers.matchers.len() + 1);
    if let Some(name) = &vs.name {
        if vs.matchers.matchers.iter().any(|m| m.name == model::METRIC_NAME) {
            return Err(err(format!("metric name must not be set twice: {name:?}")));
        }
        matchers.push(Matcher::equal(model::METRIC_NAME, name));
    }
    for m in &vs.matchers.matchers {
        let op = match m.op {
            MatchOp::Equal => MatchType::Equal,
            MatchOp::NotEqual => MatchType::NotEqual,
            MatchOp::Re(_) => MatchType::Regex,
            MatchOp::NotRe(_) => MatchType::NotRegex,
        };
        matchers.push(Matcher::new(op, &m.name, &m.value).map_err(|e| err(e.to_string()))?);
    }
    if matchers.iter().all(|m| m.matches_empty()) {
        return Err(err("vector selector must contain at least one non-empty matcher"));
    }
    Ok(VectorSelector {
        name: vs.name.clone(),
        matchers,
        offset: offset(&vs.offset),
        at: at(&vs.at)?,
    })
}

fn agg_op(name: &str) -> Result<AggOp, QueryError> {
    Ok(match name {
        "sum" => AggOp::Sum,
        "avg" => AggOp::Avg,
        "count" => AggOp::Count,
        "min" => AggOp::Min,
        "max" => AggOp::Max,
        "group" => AggOp::Group,
        "stddev" => AggOp::Stddev,
        "stdvar" => AggOp::Stdvar,
        "topk" => AggOp::Topk,
        "bottomk" => AggOp::Bottomk,
        "count_values" => AggOp::CountValues,
        "quantile" => AggOp::Quantile,
        "limitk" => AggOp::Limitk,
        "limit_ratio" => AggOp::LimitRatio,
        other => return Err(err(format!("unknown aggregation {other:?}"))),
    })
}

fn aggregate(a: &pp::AggregateExpr) -> Result<Expr, QueryError> {
    let op = agg_op(&a.op.to_string())?;
    let grouping = match &a.modifier {
        None => Grouping::default(),
        Some(pp::LabelModifier::Include(l)) => {
            Grouping { without: false, labels: l.labels.clone() }
        }
        Some(pp::LabelModifier::Exclude(l)) => Grouping { without: true, labels: l.labels.clone() },
    };
    let param = match &a.param {
        Some(p) => Some(Box::new(convert(p)?)),
        None => None,
    };
    let expr = convert(&a.expr)?;
    if expr.value_type() != ValueType::Vector {
        return Err(err(format!(
            "expected type instant vector in aggregation expression, got {}",
            super::type_name(expr.value_type())
        )));
    }
    Ok(Expr::Aggregate { op, expr: Box::new(expr), param, grouping })
}

fn bin_op(name: &str) -> Result<BinOp, QueryError> {
    Ok(match name {
        "+" => BinOp::Add,
        "-" => BinOp::Sub,
        "*" => BinOp::Mul,
        "/" => BinOp::Div,
        "%" => BinOp::Mod,
        "^" => BinOp::Pow,
        "atan2" => BinOp::Atan2,
        "==" => BinOp::Eql,
        "!=" => BinOp::Neq,
        ">" => BinOp::Gtr,
        "<" => BinOp::Lss,
        ">=" => BinOp::Gte,
        "<=" => BinOp::Lte,
        "and" => BinOp::And,
        "or" => BinOp::Or,
        "unless" => BinOp::Unless,
        other => return Err(err(format!("unknown binary operator {other:?}"))),
    })
}

fn binary(b: &pp::BinaryExpr) -> Result<Expr, QueryError> {
    let op = bin_op(&b.op.to_string())?;
    let lhs = convert(&b.lhs)?;
    let rhs = convert(&b.rhs)?;
    let both_vectors =
        lhs.value_type() == ValueType::Vector && rhs.value_type() == ValueType::Vector;
    let mut return_bool = false;
    let mut matching = None;
    if let Some(m) = &b.modifier {
        return_bool = m.return_bool;
        if m.fill_values.lhs.is_some() || m.fill_values.rhs.is_some() {
            return Err(err("fill modifiers are not supported"));
        }
        let (card, include) = match &m.card {
            pp::VectorMatchCardinality::OneToOne => (Cardinality::OneToOne, vec![]),
            pp::VectorMatchCardinality::ManyToOne(l) => (Cardinality::ManyToOne, l.labels.clone()),
            pp::VectorMatchCardinality::OneToMany(l) => (Cardinality::OneToMany, l.labels.clone()),
            pp::VectorMatchCardinality::ManyToMany => (Cardinality::ManyToMany, vec![]),
        };
        let (on, labels) = match &m.matching {
            None => (false, vec![]),
            Some(pp::LabelModifier::Include(l)) => (true, l.labels.clone()),
            Some(pp::LabelModifier::Exclude(l)) => (false, l.labels.clone()),
        };
        if both_vectors {
            matching = Some(VectorMatching { card, on, labels, include });
        }
    }
    if both_vectors && matching.is_none() {
        let card = if op.is_set() { Cardinality::ManyToMany } else { Cardinality::OneToOne };
        matching = Some(VectorMatching { card, on: false, labels: vec![], include: vec![] });
    }
    if let Some(m) = &mut matching
        && op.is_set()
    {
        m.card = Cardinality::ManyToMany;
    }
    Ok(Expr::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs), return_bool, matching })
}
