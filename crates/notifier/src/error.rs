//! The notifier's error type.

/// Errors from configuring the notifier or sending alerts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NotifierError {
    /// The `alerting` configuration is invalid.
    #[error("invalid alerting config: {0}")]
    Config(String),
    /// A relabel rule is invalid.
    #[error("invalid relabel config: {0}")]
    Relabel(String),
    /// A service-discovery file could not be read or parsed.
    #[error("discovery file {path}: {reason}")]
    Discovery { path: String, reason: String },
    /// An Alertmanager did not accept a batch.
    #[error("sending alerts to {url}: {reason}")]
    Send { url: String, reason: String },
}
