//! The rules crate's error type. Messages match Prometheus' wording where users see them
//! (`lastError` in `/api/v1/rules`, `promtool check rules`).

/// Errors from loading or evaluating rules.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    /// The query function failed (parse, execution, timeout, storage).
    #[error("{0}")]
    Query(String),
    /// A query returned something other than an instant vector or a scalar.
    #[error("rule result is not a vector or scalar")]
    NotAVector,
    #[error("vector contains metrics with the same labelset after applying alert labels")]
    DuplicateAlertLabelSet,
    #[error("vector contains metrics with the same labelset after applying rule labels")]
    DuplicateRecordingLabelSet,
    /// The group's `limit` was exceeded (`what` is "alerts" or "series").
    #[error("exceeded limit of {limit} with {count} {what}")]
    LimitExceeded { limit: usize, count: usize, what: &'static str },
    /// Writing results failed.
    #[error("{0}")]
    Storage(#[from] storage::StorageError),
    /// A rule file could not be read or is invalid (each entry is one message).
    #[error("{}", .0.join("\n"))]
    Load(Vec<String>),
    /// A unit-test file could not be read or run.
    #[error("{0}")]
    UnitTest(String),
}
