//! Remote write: every committed batch is recorded in an on-disk buffer that the queues of
//! `remote_write` tail, so an outage of the remote end loses nothing the buffer still holds.
//!
//! In the full server the buffer sits beside the TSDB (a `TeeAppendable` commits to the TSDB
//! first, then records the batch); in agent mode it is the only storage.

use std::path::Path;
use std::sync::Arc;

use crate::ServerError;

/// The buffer and the queues reading it.
pub struct RemoteWrite {
    pub buffer: Arc<remote::DiskBuffer>,
    pub manager: Arc<remote::WriteManager>,
}

/// Opens the buffer in `dir`.
pub fn open(dir: &Path) -> Result<RemoteWrite, ServerError> {
    let buffer =
        remote::DiskBuffer::open(dir, remote::DiskBufferOptions::default()).map_err(|e| {
            ServerError::Storage { path: dir.display().to_string(), reason: e.to_string() }
        })?;
    let buffer = Arc::new(buffer);
    let manager = Arc::new(remote::WriteManager::new(buffer.clone()));
    Ok(RemoteWrite { buffer, manager })
}

/// Applies `remote_write` on every (re)load. Runs on a blocking thread of the runtime.
pub struct RemoteWriteReload(pub Arc<remote::WriteManager>);

impl crate::Reloadable for RemoteWriteReload {
    fn apply(&self, cfg: &config::Config) -> Result<(), String> {
        let labels = cfg.global.external_labels();
        let handle = tokio::runtime::Handle::try_current().map_err(|e| e.to_string())?;
        handle.block_on(self.0.apply(&cfg.remote_write, &labels)).map_err(|e| e.to_string())
    }
}

/// Warns when `remote_write` appears on reload in a server started without it: the buffer is
/// only fed when remote write was configured at start.
pub struct RemoteWriteNotBuffered;

impl crate::Reloadable for RemoteWriteNotBuffered {
    fn apply(&self, cfg: &config::Config) -> Result<(), String> {
        if !cfg.remote_write.is_empty() {
            tracing::warn!("remote_write was added by a reload; restart Pharos to start sending");
        }
        Ok(())
    }
}
