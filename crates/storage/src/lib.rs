//! The storage seam: the only contract between ingestion (scrape, rules, remote write),
//! storage (the TSDB, or [`MemStorage`] in tests) and queries (PromQL, the API).
//!
//! - Writing: [`Appendable::appender`] → [`Appender::append`] per sample (with a series-ref
//!   hint) → [`Appender::commit`] or [`Appender::rollback`]. A commit is all or nothing.
//! - Reading: [`Queryable::querier`] over `[mint, maxt]` → [`Querier::select`] by matchers →
//!   a [`SeriesSet`] of series sorted by labels, each with a pull [`SampleIterator`].
//!
//! Architecture invariant: this crate knows no concrete storage engine; every type is `'static`
//! and `Send` so callers can move queriers onto blocking threads.

mod error;
mod iter;
mod mem;
mod traits;

pub use error::StorageError;
pub use iter::{SliceIterator, collect_samples};
pub use mem::MemStorage;
pub use traits::{
    Appendable, Appender, BatchSample, Querier, Queryable, SampleIterator, SelectHints, Series,
    SeriesRef, SeriesSet, Storage,
};
