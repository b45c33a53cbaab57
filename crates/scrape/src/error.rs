//! The scrape crate's error type.

/// Errors from building scrape pools or discovery from a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScrapeError {
    /// A scrape or discovery config could not be turned into a running pool.
    #[error("invalid scrape config for job {job:?}: {msg}")]
    InvalidConfig { job: String, msg: String },
    /// The HTTP client could not be built (bad TLS files and the like).
    #[error("error creating HTTP client for job {job:?}: {msg}")]
    HttpClient { job: String, msg: String },
    /// No tokio runtime was available to run scrape loops on.
    #[error("no tokio runtime: {0}")]
    NoRuntime(String),
}
