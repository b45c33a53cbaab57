//! The model crate's error type.

/// Errors raised while building model values from outside input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// A regular expression failed to compile or uses syntax Go's RE2 does not accept.
    #[error("invalid regular expression {pattern:?}: {reason}")]
    InvalidRegex { pattern: String, reason: String },
    /// A label name is not valid.
    #[error("invalid label name {0:?}")]
    InvalidLabelName(String),
    /// A metric name is not valid.
    #[error("invalid metric name {0:?}")]
    InvalidMetricName(String),
    /// A duration is not in Prometheus' notation.
    #[error("not a valid duration string: {0:?}")]
    InvalidDuration(String),
    /// The same label name appears twice in one label set.
    #[error("duplicate label name {0:?}")]
    DuplicateLabel(String),
}
