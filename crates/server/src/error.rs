//! The server's error type.

/// Errors that stop the server from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {address}: {source}")]
    Listen { address: String, source: std::io::Error },
    #[error("cannot open storage at {path}: {reason}")]
    Storage { path: String, reason: String },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("http server failed: {0}")]
    Http(std::io::Error),
}
