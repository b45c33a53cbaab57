//! The crate's error type: everything wrong with a web config file.

/// Why a web config file cannot be used. Messages name the file (and line when known).
#[derive(Debug, thiserror::Error)]
pub enum WebConfigError {
    #[error("cannot read web config file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}:{line}: {msg}")]
    Yaml { path: String, line: usize, msg: String },
    #[error("{path}: {msg}")]
    Invalid { path: String, msg: String },
}
