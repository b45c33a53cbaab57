//! The durable stream a [`crate::WriteQueue`] tails: committed batches of samples at
//! monotonically increasing positions. The TSDB WAL or this crate's [`crate::DiskBuffer`]
//! implements it; the queue acknowledges what the remote end accepted so the source can
//! truncate, and nothing unacknowledged is ever dropped by the queue.

use model::{Labels, Sample};

use crate::RemoteError;

/// An opaque, monotonically increasing position in a source (e.g. a byte offset).
pub type Position = u64;

/// Samples read from a source and the position right after them.
#[derive(Debug, Clone, Default)]
pub struct SourceBatch {
    /// Samples in append order (per series, in time order).
    pub samples: Vec<(Labels, Sample)>,
    /// Where the next read continues.
    pub next: Position,
}

/// A durable, ordered stream of committed samples.
pub trait SampleSource: Send + Sync {
    /// Where a reader resumes: the last acknowledged position (or the start of retained data).
    fn start(&self) -> Result<Position, RemoteError>;
    /// Reads whole committed records starting at `from` until about `max_samples` samples.
    /// Returns an empty batch with `next == from` when nothing new is available. If `from` was
    /// truncated away (retention), reading resumes at the oldest retained record.
    fn read(&self, from: Position, max_samples: usize) -> Result<SourceBatch, RemoteError>;
    /// Everything before `pos` was delivered; the source may persist this and truncate.
    fn ack(&self, pos: Position) -> Result<(), RemoteError>;
}
