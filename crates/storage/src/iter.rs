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

    fn next_batch(&mut self, out: &mut Vec<Sample>, max: usize) -> usize {
        if max == 0 {
            return 0;
        }
        // The samples next() would return: from pos + 1 (pos wraps to 0 before the first call).
        let from = self.pos.wrapping_add(1).min(self.end);
        let to = from.saturating_add(max).min(self.end);
        out.extend_from_slice(&self.samples[from..to]);
        if to > from {
            self.pos = to - 1;
        } else {
            // At the end: leave the position where a failing next() would.
            self.pos = self.end;
        }
        to - from
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

    /// `next_batch` returns exactly what repeated `next()` calls would, from any position.
    #[test]
    fn next_batch_equals_next_calls() {
        for start_seek in [None, Some(0), Some(15), Some(40), Some(100)] {
            for max in [0usize, 1, 2, 3, 10] {
                let (mut a, mut b) = (it(), it());
                if let Some(ts) = start_seek {
                    assert_eq!(a.seek(ts), b.seek(ts));
                }
                loop {
                    let mut got = Vec::new();
                    let n = a.next_batch(&mut got, max);
                    assert_eq!(n, got.len());
                    let want: Vec<Sample> = (0..max).map_while(|_| b.next()).collect();
                    assert_eq!(got, want, "seek {start_seek:?} max {max}");
                    assert_eq!(a.next(), b.next());
                    if n < max || max == 0 {
                        break;
                    }
                }
                assert_eq!(a.next(), b.next());
            }
        }
    }
}
