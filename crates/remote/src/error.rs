//! The remote crate's error type.

/// Errors from encoding, decoding, receiving or sending remote write/read messages.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The body is not valid snappy block-format data.
    #[error("snappy: {0}")]
    Snappy(String),
    /// The decompressed body is not a valid protobuf message.
    #[error("proto: {0}")]
    Decode(String),
    /// The request is well-formed but not acceptable (content type, labels, limits).
    #[error("{0}")]
    BadRequest(String),
    /// The storage refused the data or failed.
    #[error("{0}")]
    Storage(#[from] storage::StorageError),
    /// An HTTP request to a remote endpoint failed; `status` is 0 for transport errors.
    #[error("server returned HTTP status {status}: {message}")]
    Http { status: u16, message: String },
    /// A transport-level failure (connect, timeout, body).
    #[error("{0}")]
    Transport(String),
    /// Local I/O (the on-disk buffer).
    #[error("i/o error: {0}")]
    Io(String),
    /// Invalid configuration of a queue or client.
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl From<std::io::Error> for RemoteError {
    fn from(e: std::io::Error) -> Self {
        RemoteError::Io(e.to_string())
    }
}
