//! Pharos' time-series database.
//!
//! - [`Db`]: opens a data directory, implements [`storage::Appendable`] and
//!   [`storage::Queryable`], and runs maintenance ([`Db::maintain`]).
//! - The head ([`head`]) holds recent data in Prometheus' XOR chunks ([`chunkenc`]) with an
//!   inverted index; the WAL ([`wal`]) makes every commit durable.
//! - Blocks ([`block`], [`index`], [`chunks`], [`tombstones`], [`meta`]) are Prometheus' on-disk
//!   layout, so data moves both ways between Pharos and Prometheus.
//! - [`BlockWriter`] backfills blocks; [`cli`] prints what `promtool tsdb list/analyze` print.
//!
//! Architecture invariant: synchronous, no async runtime, no network.

mod appender;
pub mod block;
pub mod blockwriter;
pub mod chunkenc;
pub mod chunks;
pub mod cli;
mod compact;
mod db;
mod decimal;
pub mod encoding;
mod error;
pub mod head;
pub mod index;
pub mod iter;
pub mod meta;
pub mod metrics;
mod options;
pub mod postings;
mod querier;
mod replay;
mod snapshot;
mod stats;
pub mod tombstones;
pub mod wal;

pub use blockwriter::BlockWriter;
pub use compact::MaintainReport;
pub use db::{Db, HEAD_CHUNKS_DIR};
pub use error::{Result, TsdbError};
pub use options::{Options, WalCompression, WalSync};
pub use stats::{HeadStats, NameValue, TsdbStats};
