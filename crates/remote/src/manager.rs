//! `WriteManager`: the set of running write queues for the `remote_write` section, all tailing
//! one [`DiskBuffer`]. Applying a new configuration validates every entry first, then stops
//! queues that were removed or changed and starts new ones; an unchanged entry keeps running.
//! A removed queue's reader is dropped from the buffer so it no longer holds back truncation.

use std::collections::BTreeMap;
use std::sync::Arc;

use config::RemoteWriteConfig;
use model::Labels;
use parking_lot::Mutex;

use crate::RemoteError;
use crate::disk_buffer::DiskBuffer;
use crate::from_config::write_options;
use crate::metrics::RemoteWriteMetrics;
use crate::queue::{QueueOptions, QueueStats, WriteQueue};

struct Running {
    cfg: RemoteWriteConfig,
    external: Labels,
    queue: WriteQueue,
    url: String,
    queue_options: QueueOptions,
}

/// The remote-write side of a server or agent.
pub struct WriteManager {
    buffer: Arc<DiskBuffer>,
    queues: Mutex<BTreeMap<String, Running>>,
}

impl std::fmt::Debug for WriteManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteManager").field("queues", &self.queues.lock().len()).finish()
    }
}

impl WriteManager {
    pub fn new(buffer: Arc<DiskBuffer>) -> WriteManager {
        WriteManager { buffer, queues: Mutex::new(BTreeMap::new()) }
    }

    /// The buffer every queue reads (append to it with `BufferAppendable` or `TeeAppendable`).
    pub fn buffer(&self) -> Arc<DiskBuffer> {
        self.buffer.clone()
    }

    /// Applies a `remote_write` section. Nothing changes if any entry is invalid. Must be
    /// called on a tokio runtime.
    pub async fn apply(
        &self,
        cfgs: &[RemoteWriteConfig],
        external_labels: &Labels,
    ) -> Result<(), RemoteError> {
        let mut wanted = BTreeMap::new();
        for cfg in cfgs {
            let opts = write_options(cfg, external_labels)?;
            if wanted.insert(opts.name.clone(), (cfg.clone(), opts)).is_some() {
                return Err(RemoteError::Config(format!(
                    "duplicate remote write configs are not allowed, found duplicate for URL: {}",
                    cfg.url
                )));
            }
        }
        let mut to_stop = Vec::new();
        {
            let mut queues = self.queues.lock();
            let names: Vec<String> = queues.keys().cloned().collect();
            for name in names {
                let keep = wanted.get(&name).is_some_and(|(cfg, _)| {
                    queues
                        .get(&name)
                        .is_some_and(|r| &r.cfg == cfg && &r.external == external_labels)
                });
                if !keep && let Some(r) = queues.remove(&name) {
                    to_stop.push((name, r));
                }
            }
        }
        for (name, r) in to_stop {
            r.queue.stop().await;
            if !wanted.contains_key(&name) {
                self.buffer.remove_reader(&name)?;
            }
        }
        let mut queues = self.queues.lock();
        for (name, (cfg, opts)) in wanted {
            if queues.contains_key(&name) {
                continue;
            }
            let reader = Arc::new(self.buffer.reader(&name)?);
            let (url, queue_options) = (opts.url.clone(), opts.queue.clone());
            let queue = WriteQueue::start(opts, reader)?;
            let external = external_labels.clone();
            queues.insert(name, Running { cfg, external, queue, url, queue_options });
        }
        Ok(())
    }

    /// Live counters per queue name.
    pub fn stats(&self) -> Vec<(String, Arc<QueueStats>)> {
        self.queues.lock().iter().map(|(n, r)| (n.clone(), r.queue.stats())).collect()
    }

    /// The values of `prometheus_remote_storage_*`: the buffer's intake and every queue.
    pub fn metrics(&self) -> RemoteWriteMetrics {
        let (highest_ms, samples_in) = self.buffer.ingest_stats();
        let queues = self
            .queues
            .lock()
            .iter()
            .map(|(name, r)| r.queue.stats().metrics(name, &r.url, &r.queue_options))
            .collect();
        RemoteWriteMetrics {
            highest_timestamp_in_seconds: highest_ms / 1000,
            samples_in_total: samples_in,
            queues,
        }
    }

    /// Stops every queue (unsent data stays in the buffer for the next start).
    pub async fn stop(&self) {
        let all: Vec<Running> = std::mem::take(&mut *self.queues.lock()).into_values().collect();
        for r in all {
            r.queue.stop().await;
        }
    }
}
