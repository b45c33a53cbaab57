//! The storage error type, shared by every implementation of the traits.

/// Errors from appending to or querying a storage.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StorageError {
    /// A sample is older than the newest sample of its series (and outside any out-of-order window).
    #[error("out of order sample")]
    OutOfOrderSample,
    /// A sample repeats the newest timestamp of its series with a different value.
    #[error("duplicate sample for timestamp")]
    DuplicateSampleForTimestamp,
    /// A sample is older than what the storage still accepts (e.g. before the head's range).
    #[error("out of bounds")]
    OutOfBounds,
    /// A sample is too old for the out-of-order window.
    #[error("too old sample")]
    TooOldSample,
    /// A label set is not acceptable (empty, duplicate names, invalid names).
    #[error("invalid labels: {0}")]
    InvalidLabels(String),
    /// A configured limit (series, samples) was reached.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// The storage is closed or read-only (e.g. agent mode has no querier).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read or decoded.
    #[error("corrupted data: {0}")]
    Corrupted(String),
    /// An I/O failure, with what was being done.
    #[error("i/o error: {0}")]
    Io(String),
}
