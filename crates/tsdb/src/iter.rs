//! Sample iterators: over a series' chunks (in memory or memory-mapped, decoded one at a time,
//! filtered by time range and tombstones) and a merge of several iterators of the same series.

use std::sync::Arc;

use model::{Sample, Timestamp};
use storage::{SampleIterator, StorageError};

use crate::chunkenc::{ENCODING_XOR, XorIterator};
use crate::chunks::{ChunkBytes, ChunkReader};
use crate::tombstones::{Interval, is_deleted};

/// Encoded chunk bytes, owned or borrowed from a mapped file.
#[derive(Debug, Clone)]
pub enum ChunkData {
    Owned(Arc<[u8]>),
    Mapped(ChunkBytes),
}

impl AsRef<[u8]> for ChunkData {
    fn as_ref(&self) -> &[u8] {
        match self {
            ChunkData::Owned(b) => b,
            ChunkData::Mapped(b) => b.as_ref(),
        }
    }
}

/// A chunk not decoded yet.
#[derive(Debug, Clone)]
pub enum PendingChunk {
    Ready(ChunkData),
    Block { reader: Arc<ChunkReader>, r: u64 },
}

/// Iterates the samples of time-ordered, non-overlapping chunks within `[mint, maxt]`.
pub struct ChunkSeriesIterator {
    /// (chunk maxt, chunk), in time order, consumed from the front.
    pending: std::collections::VecDeque<(i64, PendingChunk)>,
    cur: Option<XorIterator<ChunkData>>,
    cur_maxt: i64,
    mint: Timestamp,
    maxt: Timestamp,
    deleted: Vec<Interval>,
    at: Option<Sample>,
    started: bool,
    done: bool,
    err: Option<StorageError>,
}

impl ChunkSeriesIterator {
    pub fn new(
        chunks: Vec<(i64, PendingChunk)>,
        mint: Timestamp,
        maxt: Timestamp,
        deleted: Vec<Interval>,
    ) -> ChunkSeriesIterator {
        ChunkSeriesIterator {
            pending: chunks.into(),
            cur: None,
            cur_maxt: i64::MIN,
            mint,
            maxt,
            deleted,
            at: None,
            started: false,
            done: false,
            err: None,
        }
    }

    fn fail(&mut self, e: StorageError) -> Option<Sample> {
        self.err = Some(e);
        self.done = true;
        self.at = None;
        None
    }

    fn load_next(&mut self) -> Result<bool, StorageError> {
        let Some((maxt, c)) = self.pending.pop_front() else { return Ok(false) };
        self.cur_maxt = maxt;
        let data = match c {
            PendingChunk::Ready(d) => d,
            PendingChunk::Block { reader, r } => {
                let (enc, bytes) = reader.chunk(r).map_err(StorageError::from)?;
                if enc != ENCODING_XOR {
                    return Err(StorageError::Corrupted(format!(
                        "unsupported chunk encoding {enc}"
                    )));
                }
                ChunkData::Mapped(bytes)
            }
        };
        self.cur = Some(XorIterator::new(data));
        Ok(true)
    }

    fn advance(&mut self) -> Option<Sample> {
        if self.done {
            return None;
        }
        self.started = true;
        loop {
            if let Some(cur) = self.cur.as_mut() {
                while let Some((t, v)) = cur.next() {
                    if t < self.mint || self.at.is_some_and(|a| t <= a.t) {
                        continue;
                    }
                    if t > self.maxt {
                        self.done = true;
                        self.at = None;
                        return None;
                    }
                    if !self.deleted.is_empty() && is_deleted(&self.deleted, t) {
                        continue;
                    }
                    self.at = Some(Sample::new(t, v));
                    return self.at;
                }
                if cur.is_corrupt() {
                    return self.fail(StorageError::Corrupted("malformed xor chunk".into()));
                }
                self.cur = None;
            }
            match self.load_next() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    self.at = None;
                    return None;
                }
                Err(e) => return self.fail(e),
            }
        }
    }
}

impl SampleIterator for ChunkSeriesIterator {
    fn next(&mut self) -> Option<Sample> {
        self.advance()
    }

    fn seek(&mut self, ts: Timestamp) -> Option<Sample> {
        if let Some(a) = self.at {
            if a.t >= ts {
                return Some(a);
            }
        } else if self.started {
            return None;
        }
        if self.cur.is_some() && self.cur_maxt < ts {
            self.cur = None;
        }
        if self.cur.is_none() {
            while self.pending.front().is_some_and(|(maxt, _)| *maxt < ts) {
                self.pending.pop_front();
            }
        }
        loop {
            let s = self.advance()?;
            if s.t >= ts {
                return Some(s);
            }
        }
    }

    fn err(&self) -> Option<StorageError> {
        self.err.clone()
    }
}

/// Merges iterators of one series; on equal timestamps the earliest iterator wins.
pub struct MergeIterator {
    its: Vec<Box<dyn SampleIterator>>,
    heads: Vec<Option<Sample>>,
    started: bool,
    at: Option<Sample>,
}

impl MergeIterator {
    pub fn new(its: Vec<Box<dyn SampleIterator>>) -> MergeIterator {
        let n = its.len();
        MergeIterator { its, heads: vec![None; n], started: false, at: None }
    }

    fn pick(&mut self) -> Option<Sample> {
        let mut best: Option<Sample> = None;
        for s in self.heads.iter().flatten() {
            if best.is_none_or(|b| s.t < b.t) {
                best = Some(*s);
            }
        }
        if let Some(b) = best {
            for h in self.heads.iter_mut() {
                if h.is_some_and(|s| s.t == b.t) {
                    *h = None;
                }
            }
        }
        self.at = best;
        best
    }

    fn fill(&mut self) {
        for (h, it) in self.heads.iter_mut().zip(self.its.iter_mut()) {
            if h.is_none() {
                *h = it.next();
            }
        }
    }
}

impl SampleIterator for MergeIterator {
    fn next(&mut self) -> Option<Sample> {
        if !self.started {
            self.started = true;
        } else if self.at.is_none() {
            return None;
        }
        self.fill();
        self.pick()
    }

    fn seek(&mut self, ts: Timestamp) -> Option<Sample> {
        if let Some(a) = self.at {
            if a.t >= ts {
                return Some(a);
            }
        } else if self.started {
            return None;
        }
        self.started = true;
        for (h, it) in self.heads.iter_mut().zip(self.its.iter_mut()) {
            match h {
                Some(s) if s.t >= ts => {}
                _ => *h = it.seek(ts),
            }
        }
        self.pick()
    }

    fn err(&self) -> Option<StorageError> {
        self.its.iter().find_map(|i| i.err())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunkenc::XorChunk;

    fn chunk(samples: &[(i64, f64)]) -> (i64, PendingChunk) {
        let mut c = XorChunk::new();
        for &(t, v) in samples {
            c.append(t, v);
        }
        let maxt = samples.last().map_or(0, |s| s.0);
        (maxt, PendingChunk::Ready(ChunkData::Owned(Arc::from(c.bytes()))))
    }

    fn drain(it: &mut dyn SampleIterator) -> Vec<i64> {
        let mut out = Vec::new();
        while let Some(s) = it.next() {
            out.push(s.t);
        }
        out
    }

    #[test]
    fn range_tombstones_and_seek() {
        let c1 = chunk(&[(1, 1.0), (2, 2.0), (3, 3.0)]);
        let c2 = chunk(&[(10, 1.0), (11, 2.0), (12, 3.0)]);
        let mut it = ChunkSeriesIterator::new(
            vec![c1.clone(), c2.clone()],
            2,
            11,
            vec![Interval { mint: 3, maxt: 3 }],
        );
        assert_eq!(drain(&mut it), vec![2, 10, 11]);
        let mut it = ChunkSeriesIterator::new(vec![c1, c2], 0, 100, vec![]);
        assert_eq!(it.seek(4).map(|s| s.t), Some(10));
        assert_eq!(it.seek(4).map(|s| s.t), Some(10));
        assert_eq!(it.next().map(|s| s.t), Some(11));
        assert_eq!(it.seek(13), None);
    }

    #[test]
    fn merge_dedups() {
        let a = ChunkSeriesIterator::new(vec![chunk(&[(1, 1.0), (5, 5.0)])], 0, 99, vec![]);
        let b = ChunkSeriesIterator::new(vec![chunk(&[(1, 9.0), (3, 3.0)])], 0, 99, vec![]);
        let mut m = MergeIterator::new(vec![Box::new(a), Box::new(b)]);
        assert_eq!(m.next().map(|s| s.v), Some(1.0));
        assert_eq!(drain(&mut m), vec![3, 5]);
    }
}
