//! A sample iterator over an owned slice, and helpers shared by implementations and tests.

use std::sync::Arc;

use model::{Sample, Timestamp};

use crate::{SampleIterator, StorageError};

/// Iterates a shared, time-sorted slice of samples.
#[derive(Debug, Clone)]
pub struct SliceIterator {
    samples: Arc<[Sample]>,
    /// Index of the sample the last call returned (`usize::MAX` before the first call).
    pos: usize,
    end: usize,
}

impl SliceIterator {
    /// Iterates `samples[start..end]`.
    pub fn new(samples: Arc<[Sample]>, start: usize, end: usize) -> SliceIterator {
        let end = end.min(samples.len());
        SliceIterator { samples, pos: start.wrapping_sub(1), end }
    }

    fn current(&self) -> Option<Sample> {
        (self.pos < self.end).then(|| self.samples[self.pos])
    }
}

impl SampleIterator for SliceIterator {
    fn next(&mut self) -> Option<Sample> {
        if self.pos == usize::MAX || self.pos < self.end {
            self.pos = self.pos.wrapping_add(1);
        }
        self.current()
    }

    fn seek(&mut self, ts: Timestamp) -> Option<Sample> {
        if self.pos == usize::MAX {
            self.pos = 0;
        }
        if self.pos >= self.end {
            return None;
        }
        if self.samples[self.pos].t < ts {
            let rest = &self.samples[self.pos..self.end];
            self.pos += rest.partition_point(|s| s.t < ts);
        }
        self.current()
    }
}

/// Drains an iterator into a vector, surfacing a storage error if iteration ended on one.
pub fn collect_samples(it: &mut dyn SampleIterator) -> Result<Vec<Sample>, StorageError> {
    let mut out = Vec::new();
    while let Some(s) = it.next() {
        out.push(s);
    }
    match it.err() {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn it() -> SliceIterator {
        let s: Arc<[Sample]> = (0..5).map(|i| Sample::new(i * 10, i as f64)).collect();
        SliceIterator::new(s, 0, 5)
    }

    #[test]
    fn next_and_seek() {
        let mut i = it();
        assert_eq!(i.seek(15).map(|s| s.t), Some(20));
        assert_eq!(i.seek(5).map(|s| s.t), Some(20), "seek never moves backwards");
        assert_eq!(i.next().map(|s| s.t), Some(30));
        assert_eq!(i.seek(100), None);
        assert_eq!(i.next(), None);
    }
}
