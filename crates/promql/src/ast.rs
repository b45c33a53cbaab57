//! The engine's own PromQL syntax tree, independent of the parser crate.
//!
//! [`crate::parser`] converts the parser's tree into this one, resolving durations to
//! milliseconds and matchers to [`model::Matcher`] (Go RE2 semantics).

use model::Matcher;

/// `@ start()`, `@ end()` or `@ <timestamp>`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum At {
    Start,
    End,
    /// Milliseconds since the epoch.
    Time(i64),
}

/// An instant-vector selector: `name{matchers} @ at offset o`.
#[derive(Debug, Clone)]
pub struct VectorSelector {
    pub name: Option<String>,
    /// All matchers, including the `__name__` matcher implied by `name`.
    pub matchers: Vec<Matcher>,
    /// Offset in ms (negative for `offset -5m`).
    pub offset: i64,
    pub at: Option<At>,
}

/// Aggregation operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggOp {
    Sum,
    Avg,
    Count,
    Min,
    Max,
    Group,
    Stddev,
    Stdvar,
    Topk,
    Bottomk,
    CountValues,
    Quantile,
    Limitk,
    LimitRatio,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Atan2,
    Eql,
    Neq,
    Gtr,
    Lss,
    Gte,
    Lte,
    And,
    Or,
    Unless,
}

impl BinOp {
    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eql | BinOp::Neq | BinOp::Gtr | BinOp::Lss | BinOp::Gte | BinOp::Lte)
    }

    pub fn is_set(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or | BinOp::Unless)
    }
}

/// `by (...)` or `without (...)`.
#[derive(Debug, Clone, Default)]
pub struct Grouping {
    pub without: bool,
    pub labels: Vec<String>,
}

/// Vector matching of a binary operation between two vectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cardinality {
    OneToOne,
    ManyToOne,
    OneToMany,
    ManyToMany,
}

/// `on(...)`/`ignoring(...)` and `group_left(...)`/`group_right(...)`.
#[derive(Debug, Clone)]
pub struct VectorMatching {
    pub card: Cardinality,
    /// True for `on(...)`, false for `ignoring(...)` (or no clause).
    pub on: bool,
    pub labels: Vec<String>,
    /// Extra labels from the "one" side (`group_left(a, b)`).
    pub include: Vec<String>,
}

/// The static type of an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Scalar,
    String,
    Vector,
    Matrix,
}

impl ValueType {
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Scalar => "scalar",
            ValueType::String => "string",
            ValueType::Vector => "vector",
            ValueType::Matrix => "matrix",
        }
    }
}

/// A PromQL expression.
#[derive(Debug, Clone)]
pub enum Expr {
    Number(f64),
    String(String),
    /// A string literal whose Go escapes yield bytes that are not UTF-8 (`"\xff"`): valid as a
    /// string, never as a label name.
    InvalidUtf8(Vec<u8>),
    VectorSelector(VectorSelector),
    MatrixSelector {
        vs: VectorSelector,
        range: i64,
    },
    Subquery {
        expr: Box<Expr>,
        range: i64,
        step: Option<i64>,
        offset: i64,
        at: Option<At>,
    },
    Call {
        func: String,
        args: Vec<Expr>,
    },
    Aggregate {
        op: AggOp,
        expr: Box<Expr>,
        param: Option<Box<Expr>>,
        grouping: Grouping,
    },
    /// Unary minus (unary plus is dropped by the parser).
    Neg(Box<Expr>),
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        return_bool: bool,
        matching: Option<VectorMatching>,
    },
    Paren(Box<Expr>),
}

impl Expr {
    /// The type the expression evaluates to.
    pub fn value_type(&self) -> ValueType {
        match self {
            Expr::Number(_) => ValueType::Scalar,
            Expr::String(_) | Expr::InvalidUtf8(_) => ValueType::String,
            Expr::VectorSelector(_) | Expr::Aggregate { .. } => ValueType::Vector,
            Expr::MatrixSelector { .. } | Expr::Subquery { .. } => ValueType::Matrix,
            Expr::Call { func, .. } => crate::functions::return_type(func),
            Expr::Neg(e) | Expr::Paren(e) => e.value_type(),
            Expr::Binary { lhs, rhs, .. } => {
                if lhs.value_type() == ValueType::Scalar && rhs.value_type() == ValueType::Scalar {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
        }
    }

    /// The expression without enclosing parentheses.
    pub fn unparen(&self) -> &Expr {
        let mut e = self;
        while let Expr::Paren(inner) = e {
            e = inner;
        }
        e
    }

    /// Direct children, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Number(_)
            | Expr::String(_)
            | Expr::InvalidUtf8(_)
            | Expr::VectorSelector(_)
            | Expr::MatrixSelector { .. } => vec![],
            Expr::Subquery { expr, .. } | Expr::Neg(expr) | Expr::Paren(expr) => vec![expr],
            Expr::Call { args, .. } => args.iter().collect(),
            Expr::Aggregate { expr, param, .. } => {
                let mut v: Vec<&Expr> = param.iter().map(|p| &**p).collect();
                v.push(expr);
                v
            }
            Expr::Binary { lhs, rhs, .. } => vec![lhs, rhs],
        }
    }
}
