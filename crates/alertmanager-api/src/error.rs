//! The alertmanager-api crate's error type.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ApiError {
    #[error(transparent)]
    Alertmanager(#[from] alertmanager::Error),
    #[error("listening on {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
    #[error("invalid flag {flag}: {message}")]
    Flag { flag: String, message: String },
    #[error("serving http: {0}")]
    Serve(std::io::Error),
}
