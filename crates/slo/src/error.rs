//! The SLO crate's error type.

/// Errors in an SLO file.
#[derive(Debug, thiserror::Error)]
pub enum SloError {
    /// The YAML is malformed or has unknown fields (the message names file, line and field).
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    /// An SLO is syntactically fine but cannot be used.
    #[error("{file}: slo {slo:?}: {message}")]
    Invalid { file: String, slo: String, message: String },
}
