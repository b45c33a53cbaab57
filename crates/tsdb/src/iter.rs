//! Sample iterators: over a series' chunks (in memory or memory-mapped, decoded one at a time,
//! filtered by time range and tombstones) and a merge of several iterators of the same series.

use std::sync::Arc;

use model::{Sample, Timestamp};
use storage::{SampleIterator, StorageError};

use crate::chunkenc::dense::{DenseIterator, ENCODING_DENSE};
use crate::chunkenc::{ENCODING_XOR, XorIterator};
use crate::chunks::{ChunkBytes, ChunkReader};
use crate::tombstones::{Interval, is_deleted};

/// Encoded chunk bytes, owned or borrowed from a mapped file.
///
/// Owned bytes are behind a thin pointer (an `Arc` of a boxed slice, not an `Arc<[u8]>`), so
/// that the enum takes 16 bytes, as a mapped chunk's reference does, and not 24: every closed
/// chunk of the head holds one (BENCHMARKS.md, a head that has run for hours). Owned closed
/// chunks are rare (the head chunk cache could not take them); queries pay one allocation more
/// for the copy of an open chunk.
#[derive(Debug, Clone)]
pub enum ChunkData {
    Owned(Arc<Box<[u8]>>),
    Mapped(ChunkBytes),
}

impl ChunkData {
    /// A copy of `bytes`, owned.
    pub fn owned(bytes: &[u8]) -> ChunkData {
        ChunkData::Owned(Arc::new(Box::from(bytes)))
    }
}

impl AsRef<[u8]> for ChunkData {
    fn as_ref(&self) -> &[u8] {
        match self {
            ChunkData::Owned(b) => b,
            ChunkData::Mapped(b) => b.as_ref(),
        }
    }
}

/// A chunk being decoded: Prometheus' XOR, or Pharos' dense encoding of compacted blocks.
#[derive(Debug, Clone)]
pub enum ChunkDecoder {
    Xor(XorIterator<ChunkData>),
    Dense(DenseIterator),
}

impl ChunkDecoder {
    /// A decoder for `data` of encoding `enc`, or an error for an encoding Pharos cannot read.
    pub fn new(enc: u8, data: ChunkData) -> Result<ChunkDecoder, StorageError> {
        match enc {
            ENCODING_XOR => Ok(ChunkDecoder::Xor(XorIterator::new(data))),
            ENCODING_DENSE => {
                let segment = match &data {
                    ChunkData::Mapped(b) => Some(b.segment()),
                    ChunkData::Owned(_) => None,
                };
                Ok(ChunkDecoder::Dense(DenseIterator::new_in(data.as_ref(), segment)))
            }
            _ => Err(StorageError::Corrupted(format!("unsupported chunk encoding {enc}"))),
        }
    }

    #[inline]
    fn next(&mut self) -> Option<(i64, f64)> {
        match self {
            ChunkDecoder::Xor(it) => it.next(),
            ChunkDecoder::Dense(it) => it.next(),
        }
    }

    #[inline]
    fn decode_while(&mut self, f: impl FnMut(i64, f64) -> bool) {
        match self {
            ChunkDecoder::Xor(it) => it.decode_while(f),
            ChunkDecoder::Dense(it) => it.decode_while(f),
        }
    }

    fn is_corrupt(&self) -> bool {
        match self {
            ChunkDecoder::Xor(it) => it.is_corrupt(),
            ChunkDecoder::Dense(it) => it.is_corrupt(),
        }
    }

    fn corruption(&self) -> StorageError {
        let what = match self {
            ChunkDecoder::Xor(_) => "xor",
            ChunkDecoder::Dense(_) => "dense",
        };
        StorageError::Corrupted(format!("malformed {what} chunk"))
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
    cur: Option<ChunkDecoder>,
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
        let dec = match c {
            PendingChunk::Ready(d) => ChunkDecoder::Xor(XorIterator::new(d)),
            PendingChunk::Block { reader, r } => {
                let (enc, bytes) = reader.chunk(r).map_err(StorageError::from)?;
                ChunkDecoder::new(enc, ChunkData::Mapped(bytes))?
            }
        };
        self.cur = Some(dec);
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
                    let e = cur.corruption();
                    return self.fail(e);
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

    /// Decodes each chunk in one loop straight into `out`, with the same filtering as `next`.
    fn next_batch(&mut self, out: &mut Vec<Sample>, max: usize) -> usize {
        if max == 0 || self.done {
            return 0;
        }
        self.started = true;
        out.reserve(max.min(MERGE_BATCH));
        let mut n = 0;
        while n < max {
            let Some(cur) = self.cur.as_mut() else {
                match self.load_next() {
                    Ok(true) => continue,
                    Ok(false) => {
                        self.done = true;
                        self.at = None;
                    }
                    Err(e) => {
                        self.fail(e);
                    }
                }
                return n;
            };
            // Samples at or before the last one returned, or before mint, are skipped.
            let mut after = self.at.map(|a| a.t);
            let (mint, maxt, deleted) = (self.mint, self.maxt, &self.deleted);
            let mut past_maxt = false;
            let mut last = None;
            cur.decode_while(|t, v| {
                if t < mint || after.is_some_and(|a| t <= a) {
                    return true;
                }
                if t > maxt {
                    past_maxt = true;
                    return false;
                }
                if !deleted.is_empty() && is_deleted(deleted, t) {
                    return true;
                }
                let s = Sample::new(t, v);
                out.push(s);
                last = Some(s);
                after = Some(t);
                n += 1;
                n < max
            });
            if last.is_some() {
                self.at = last;
            }
            if past_maxt {
                self.done = true;
                self.at = None;
                return n;
            }
            if n == max {
                return n;
            }
            if cur.is_corrupt() {
                let e = cur.corruption();
                self.fail(e);
                return n;
            }
            self.cur = None;
        }
        n
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

/// How many samples a merge reads ahead from each of its iterators.
const MERGE_BATCH: usize = 128;

/// One iterator of a merge with the samples read ahead from it; `buf[pos]` is its head.
struct MergeSource {
    it: Box<dyn SampleIterator>,
    buf: Vec<Sample>,
    pos: usize,
    /// The iterator returned nothing on the last read.
    exhausted: bool,
}

impl MergeSource {
    /// The next sample of this iterator, reading ahead a batch when the buffer is used up.
    #[inline]
    fn head(&mut self) -> Option<Sample> {
        if self.pos >= self.buf.len() && !self.exhausted {
            self.buf.clear();
            self.pos = 0;
            if self.it.next_batch(&mut self.buf, MERGE_BATCH) == 0 {
                self.exhausted = true;
            }
        }
        self.buf.get(self.pos).copied()
    }

    /// Drops samples before `ts`; the head is then the first sample at or after `ts`.
    fn seek(&mut self, ts: Timestamp) {
        if self.pos < self.buf.len() {
            if self.buf[self.pos].t >= ts {
                return;
            }
            let rest = &self.buf[self.pos..];
            self.pos += rest.partition_point(|s| s.t < ts);
            if self.pos < self.buf.len() {
                return;
            }
        }
        self.buf.clear();
        self.pos = 0;
        match self.it.seek(ts) {
            Some(s) => {
                self.buf.push(s);
                self.exhausted = false;
            }
            None => self.exhausted = true,
        }
    }
}

/// Merges iterators of one series; on equal timestamps the earliest iterator wins and the
/// others' samples at that timestamp are dropped. Iterators are read in batches, and a run of
/// samples from one iterator that come before every other iterator's head is copied as a whole,
/// so iterators that do not overlap in time (blocks, then the head) are simply chained.
pub struct MergeIterator {
    sources: Vec<MergeSource>,
    /// `sources[ready_src].buf[pos..ready_end]` are the next merged samples, not returned yet
    /// (a run `next` returns one at a time).
    ready_src: usize,
    ready_end: usize,
    started: bool,
    at: Option<Sample>,
}

impl MergeIterator {
    pub fn new(its: Vec<Box<dyn SampleIterator>>) -> MergeIterator {
        let sources = its
            .into_iter()
            .map(|it| MergeSource { it, buf: Vec::new(), pos: 0, exhausted: false })
            .collect();
        MergeIterator { sources, ready_src: 0, ready_end: 0, started: false, at: None }
    }

    /// Takes the next run of at most `limit` (>= 1) merged samples, all from one source: the
    /// smallest head (the earliest source on ties, dropping the others' equal heads) and the
    /// samples after it that are smaller than every other head. Returns (source, start, len)
    /// into that source's buffer, or `None` at the end.
    fn run(&mut self, limit: usize) -> Option<(usize, usize, usize)> {
        self.ready_end = 0;
        let mut best: Option<(usize, i64)> = None;
        for (j, s) in self.sources.iter_mut().enumerate() {
            if let Some(h) = s.head()
                && best.is_none_or(|(_, t)| h.t < t)
            {
                best = Some((j, h.t));
            }
        }
        let Some((i, bt)) = best else {
            self.at = None;
            return None;
        };
        let mut bound: Option<i64> = None;
        for (j, s) in self.sources.iter_mut().enumerate() {
            if j == i {
                continue;
            }
            if s.head().is_some_and(|h| h.t == bt) {
                s.pos += 1;
            }
            if let Some(h) = s.head() {
                bound = Some(bound.map_or(h.t, |b| b.min(h.t)));
            }
        }
        let s = &mut self.sources[i];
        let start = s.pos;
        let avail = &s.buf[start..];
        let cap = avail.len().min(limit);
        let len = match bound {
            None => cap,
            Some(b) => 1 + avail[1..cap].iter().take_while(|x| x.t < b).count(),
        };
        s.pos += len;
        self.at = Some(s.buf[start + len - 1]);
        Some((i, start, len))
    }
}

impl SampleIterator for MergeIterator {
    fn next(&mut self) -> Option<Sample> {
        if !self.started {
            self.started = true;
        } else if self.at.is_none() {
            return None;
        }
        if let Some(s) = self.sources.get_mut(self.ready_src)
            && s.pos < self.ready_end
        {
            let x = s.buf[s.pos];
            s.pos += 1;
            self.at = Some(x);
            return self.at;
        }
        let (i, start, len) = self.run(usize::MAX)?;
        // Return the run's first sample now and keep the rest ready for the next calls.
        self.sources[i].pos = start + 1;
        self.ready_src = i;
        self.ready_end = start + len;
        self.at = Some(self.sources[i].buf[start]);
        self.at
    }

    fn next_batch(&mut self, out: &mut Vec<Sample>, max: usize) -> usize {
        if max == 0 {
            return 0;
        }
        if !self.started {
            self.started = true;
        } else if self.at.is_none() {
            return 0;
        }
        let mut n = 0;
        if let Some(s) = self.sources.get_mut(self.ready_src)
            && s.pos < self.ready_end
        {
            let end = self.ready_end.min(s.pos + max);
            out.extend_from_slice(&s.buf[s.pos..end]);
            n = end - s.pos;
            s.pos = end;
            self.at = out.last().copied();
        }
        while n < max {
            let Some((i, start, len)) = self.run(max - n) else { break };
            out.extend_from_slice(&self.sources[i].buf[start..start + len]);
            n += len;
        }
        n
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
        self.ready_end = 0;
        for s in &mut self.sources {
            s.seek(ts);
        }
        self.run(1)?;
        self.at
    }

    fn err(&self) -> Option<StorageError> {
        self.sources.iter().find_map(|s| s.it.err())
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
        (maxt, PendingChunk::Ready(ChunkData::owned(c.bytes())))
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
