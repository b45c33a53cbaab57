//! `QueryError`: every way a query can fail, mapped to the API's error types.

/// Errors from parsing or evaluating a query.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    /// The query text is invalid; the message says where, as Prometheus words it.
    #[error("{0}")]
    Parse(String),
    /// The query ran longer than its timeout.
    #[error("query timed out in {0}")]
    Timeout(String),
    /// The query was canceled by its caller.
    #[error("query was canceled in {0}")]
    Canceled(String),
    /// The query would have loaded more samples than `max_samples`.
    #[error("query processing would load too many samples into memory in query execution")]
    TooManySamples,
    /// Evaluation failed (e.g. duplicate series after dropping labels).
    #[error("{0}")]
    Execution(String),
    /// The storage failed while reading.
    #[error("{0}")]
    Storage(#[from] storage::StorageError),
}

impl QueryError {
    /// The Prometheus HTTP API `errorType` for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            QueryError::Parse(_) => "bad_data",
            QueryError::Timeout(_) => "timeout",
            QueryError::Canceled(_) => "canceled",
            QueryError::TooManySamples | QueryError::Execution(_) => "execution",
            QueryError::Storage(_) => "internal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_and_messages() {
        assert_eq!(QueryError::Parse("x".into()).error_type(), "bad_data");
        assert_eq!(QueryError::TooManySamples.error_type(), "execution");
        assert_eq!(
            QueryError::TooManySamples.to_string(),
            "query processing would load too many samples into memory in query execution"
        );
        assert_eq!(QueryError::Timeout("query execution".into()).error_type(), "timeout");
        assert_eq!(
            QueryError::Storage(storage::StorageError::Io("x".into())).error_type(),
            "internal"
        );
    }
}
