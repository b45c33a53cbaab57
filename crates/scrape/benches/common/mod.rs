//! What the scrape benches share: an appendable that keeps nothing, and the calling thread's
//! CPU time.

use model::Labels;
use storage::{Appendable, Appender, SeriesRef, StorageError};

/// An appendable whose appenders count and drop every sample, handing out a new ref for each
/// series seen without one.
pub struct Discard;
pub struct DiscardAppender(u64);

impl Appendable for Discard {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(DiscardAppender(0))
    }
}

impl Appender for DiscardAppender {
    fn append(
        &mut self,
        hint: SeriesRef,
        _l: &Labels,
        _t: i64,
        _v: f64,
    ) -> Result<SeriesRef, StorageError> {
        self.0 += 1;
        Ok(if hint == 0 { self.0 } else { hint })
    }
    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        Ok(())
    }
    fn rollback(self: Box<Self>) {}
}

/// CPU time of the current thread so far (nanoseconds on the CPU, from the scheduler).
pub fn thread_cpu() -> std::time::Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0);
    std::time::Duration::from_nanos(ns)
}
