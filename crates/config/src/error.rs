//! The config crate's error type.

/// Errors from loading or validating a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("open {file}: {reason}")]
    Io { file: String, reason: String },
    /// The YAML is malformed, has an unknown field or a value of the wrong type.
    #[error("parsing YAML file {file}: {}{msg}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    Parse { file: String, line: Option<u64>, msg: String },
    /// The YAML is well-formed but the configuration is not valid.
    #[error("parsing YAML file {file}: {msg}")]
    Invalid { file: String, msg: String },
    /// A file the configuration names (rule file, credentials) is missing or broken.
    #[error("{0}")]
    Check(String),
}
