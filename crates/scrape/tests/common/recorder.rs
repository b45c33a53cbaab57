//! An `Appendable` that records each appender's batch, (metric name, value) per sample, and
//! how it ended: what the scrape-loop tests assert on, in append order.

use std::sync::Arc;

use model::Labels;
use parking_lot::Mutex;
use storage::{Appendable, Appender, SeriesRef, StorageError};

/// What one appender saw: (metric name, value) per sample, and how it ended.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub samples: Vec<(String, f64)>,
    pub committed: bool,
}

/// Every batch that ended (committed or rolled back), oldest first.
#[derive(Default, Clone)]
pub struct Recorder(pub Arc<Mutex<Vec<Batch>>>);

impl Recorder {
    /// The samples of the batches committed since the last take, in append order.
    pub fn take_committed(&self) -> Vec<(String, f64)> {
        let batches = std::mem::take(&mut *self.0.lock());
        batches.into_iter().filter(|b| b.committed).flat_map(|b| b.samples).collect()
    }
}

struct RecordingAppender(Recorder, Batch);

impl Appendable for Recorder {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(RecordingAppender(self.clone(), Batch::default()))
    }
}

impl Appender for RecordingAppender {
    fn append(
        &mut self,
        hint: SeriesRef,
        l: &Labels,
        _t: i64,
        v: f64,
    ) -> Result<SeriesRef, StorageError> {
        self.1.samples.push((l.metric_name().unwrap_or("").to_string(), v));
        Ok(if hint == 0 { 1 } else { hint })
    }
    fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        self.1.committed = true;
        self.0.0.lock().push(self.1.clone());
        Ok(())
    }
    fn rollback(self: Box<Self>) {
        self.0.0.lock().push(self.1.clone());
    }
}
