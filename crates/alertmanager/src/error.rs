//! The alertmanager crate's error type.

use thiserror::Error;

/// Every error the Alertmanager core reports.
#[derive(Debug, Error)]
pub enum Error {
    /// A configuration file could not be read.
    #[error("reading {path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// A configuration file is not valid YAML or has unknown/mistyped fields.
    #[error("{path}:{message}")]
    Yaml { path: String, message: String },
    /// A configuration is well-formed YAML but semantically invalid.
    #[error("{0}")]
    Config(String),
    /// A matcher string or matcher value is invalid (worded as Alertmanager's API answers).
    #[error("{0}")]
    Matcher(String),
    /// An alert failed validation.
    #[error("{0}")]
    InvalidAlert(String),
    /// A silence failed validation or does not exist.
    #[error("{0}")]
    Silence(String),
    /// The silence id does not exist (worded as Alertmanager's API answers).
    #[error("silence not found")]
    SilenceNotFound(String),
    /// A template failed to parse or execute.
    #[error("template: {0}")]
    Template(String),
    /// The durable state could not be read or written.
    #[error("state {path}: {message}")]
    State { path: String, message: String },
}

impl Error {
    pub(crate) fn config(msg: impl Into<String>) -> Error {
        Error::Config(msg.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
