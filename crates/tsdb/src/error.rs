//! The TSDB's error type.

use storage::StorageError;

/// Errors from opening, writing or reading the TSDB's files.
#[derive(Debug, thiserror::Error)]
pub enum TsdbError {
    /// An I/O failure, with what was being done.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// On-disk data failed a check (checksum, magic number, bounds).
    #[error("corrupted {what}: {reason}")]
    Corrupted { what: String, reason: String },
    /// A caller passed something the TSDB cannot accept.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A storage-level error (append semantics).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The database is closed.
    #[error("database is closed")]
    Closed,
}

impl TsdbError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> TsdbError {
        TsdbError::Io { context: context.into(), source }
    }

    pub fn corrupted(what: impl Into<String>, reason: impl Into<String>) -> TsdbError {
        TsdbError::Corrupted { what: what.into(), reason: reason.into() }
    }
}

impl From<TsdbError> for StorageError {
    fn from(e: TsdbError) -> StorageError {
        match e {
            TsdbError::Storage(s) => s,
            TsdbError::Io { .. } => StorageError::Io(e.to_string()),
            TsdbError::Corrupted { .. } => StorageError::Corrupted(e.to_string()),
            TsdbError::InvalidArgument(m) => StorageError::InvalidLabels(m),
            TsdbError::Closed => StorageError::Unavailable("database is closed".into()),
        }
    }
}

/// Shorthand used across the crate.
pub type Result<T, E = TsdbError> = std::result::Result<T, E>;
