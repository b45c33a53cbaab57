//! Pharos' data model, shared by every other crate.
//!
//! - [`Labels`]: a sorted, interned, cheaply cloned label set with a precomputed hash.
//! - [`Matcher`]: `=`, `!=`, `=~`, `!~` with Prometheus' (Go RE2) regex semantics.
//! - [`Sample`], millisecond [`Timestamp`]s and the staleness marker ([`value`]).
//! - Prometheus' duration notation ([`duration`]).
//! - Go's `strconv` for floats: reading ([`go_atof`]) and shortest digits ([`go_float`]).
//! - Name validity rules for metric and label names ([`names`]).
//! - Relabeling with every Prometheus action ([`relabel`]).
//!
//! Architecture invariant: this crate depends on nothing internal and does no I/O.

pub mod duration;
mod error;
pub mod go_atof;
pub mod go_float;
mod intern;
mod istr;
mod labels;
mod matcher;
pub mod names;
pub mod regex_compat;
pub mod relabel;
mod sample;
pub mod value;

pub use error::ModelError;
pub use intern::{collect_garbage, intern};
pub use istr::IStr;
pub use labels::{Label, Labels, LabelsBuilder, METRIC_NAME, go_quote};
pub use matcher::{MatchType, Matcher};
pub use sample::{Sample, Timestamp};
