//! `DiskBuffer`: a bounded, segmented on-disk log of committed sample batches. It is an
//! `Appendable` (agent mode writes scrapes into it; [`TeeAppendable`] mirrors commits of the
//! TSDB into it) and, through named [`BufferReader`]s, the [`SampleSource`] of write queues.
//!
//! Layout: `<dir>/<start offset, 20 digits>` segment files of records
//! `[u32 len LE][u32 crc32 LE][payload]`, payload = one `WriteRequest` protobuf per commit;
//! `<dir>/acks/<reader>` holds each reader's acknowledged position. A position is a global
//! byte offset. Segments fully acknowledged by every reader are deleted; beyond `max_bytes`
//! the oldest segments are deleted even if unread (the buffer is bounded).

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use model::Timestamp;
use model::{Labels, Sample};
use parking_lot::Mutex;
use prost::Message;
use storage::{Appendable, Appender, SeriesRef, StorageError};

use crate::RemoteError;
use crate::codec::{labels_from_proto, labels_to_proto};
use crate::proto::{self, TimeSeries, WriteRequest};
use crate::source::{Position, SampleSource, SourceBatch};

/// Sizes of a [`DiskBuffer`].
#[derive(Debug, Clone)]
pub struct DiskBufferOptions {
    /// A segment is closed (and fsynced) once it exceeds this size.
    pub segment_bytes: u64,
    /// Oldest segments are deleted beyond this total, read or not.
    pub max_bytes: u64,
}

impl Default for DiskBufferOptions {
    fn default() -> Self {
        DiskBufferOptions { segment_bytes: 32 << 20, max_bytes: 2 << 30 }
    }
}

struct Writer {
    /// Start offsets of every segment on disk, ascending; the last one is open for writing.
    segments: Vec<u64>,
    file: File,
    /// End of the last complete record (global offset).
    end: u64,
    acks: BTreeMap<String, Position>,
}

/// The on-disk buffer; share it in an `Arc`.
pub struct DiskBuffer {
    dir: PathBuf,
    opts: DiskBufferOptions,
    w: Mutex<Writer>,
    /// Highest sample timestamp written (ms; 0 before the first).
    highest_timestamp: AtomicI64,
    /// Samples written.
    samples_in: AtomicU64,
}

impl std::fmt::Debug for DiskBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskBuffer").field("dir", &self.dir).finish_non_exhaustive()
    }
}

fn seg_path(dir: &Path, start: u64) -> PathBuf {
    dir.join(format!("{start:020}"))
}

/// A reader name usable as a file name.
fn safe_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
}

/// Reads the next record at the file's position; `None` at a clean or torn end.
fn read_record(f: &mut impl Read) -> Option<Vec<u8>> {
    let mut hdr = [0u8; 8];
    f.read_exact(&mut hdr).ok()?;
    let len = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]) as usize;
    let crc = u32::from_le_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]);
    if len > 1 << 30 {
        return None;
    }
    let mut payload = vec![0u8; len];
    f.read_exact(&mut payload).ok()?;
    (crc32fast::hash(&payload) == crc).then_some(payload)
}

impl DiskBuffer {
    /// Opens (or creates) a buffer in `dir`, cutting a torn last record left by a crash.
    pub fn open(
        dir: impl Into<PathBuf>,
        opts: DiskBufferOptions,
    ) -> Result<DiskBuffer, RemoteError> {
        let dir = dir.into();
        fs::create_dir_all(dir.join("acks"))?;
        let mut segments: Vec<u64> = fs::read_dir(&dir)?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        segments.sort_unstable();
        if segments.is_empty() {
            segments.push(0);
            File::create(seg_path(&dir, 0))?;
        }
        let last = *segments.last().unwrap_or(&0);
        let mut f = File::open(seg_path(&dir, last))?;
        let mut valid = 0u64;
        while let Some(p) = read_record(&mut f) {
            valid += 8 + p.len() as u64;
        }
        let file = OpenOptions::new().write(true).open(seg_path(&dir, last))?;
        file.set_len(valid)?;
        let mut acks = BTreeMap::new();
        for e in fs::read_dir(dir.join("acks"))?.flatten() {
            let (Some(name), Ok(text)) =
                (e.file_name().to_str().map(String::from), fs::read_to_string(e.path()))
            else {
                continue;
            };
            if let Ok(pos) = text.trim().parse() {
                acks.insert(name, pos);
            }
        }
        let w = Writer { segments, file, end: last + valid, acks };
        Ok(DiskBuffer {
            dir,
            opts,
            w: Mutex::new(w),
            highest_timestamp: AtomicI64::new(0),
            samples_in: AtomicU64::new(0),
        })
    }

    /// A named reader (one per remote-write queue); its acknowledgements persist across restarts.
    /// A reader seen for the first time starts at the current end (a newly configured endpoint
    /// gets new data, not the buffer's history); its position is persisted at once so a restart
    /// before its first acknowledgement loses nothing.
    pub fn reader(self: &Arc<Self>, name: &str) -> Result<BufferReader, RemoteError> {
        let safe = safe_name(name);
        let end = {
            let w = self.w.lock();
            if w.acks.contains_key(&safe) { None } else { Some(w.end) }
        };
        if let Some(end) = end {
            self.ack(&safe, end)?;
        }
        Ok(BufferReader { buf: self.clone(), name: safe })
    }

    /// Forgets a reader (its queue was removed from the configuration) so it no longer holds
    /// back truncation.
    pub fn remove_reader(&self, name: &str) -> Result<(), RemoteError> {
        let name = safe_name(name);
        let name = name.as_str();
        let mut w = self.w.lock();
        w.acks.remove(name);
        match fs::remove_file(self.dir.join("acks").join(name)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Names of the readers with persisted positions.
    pub fn reader_names(&self) -> Vec<String> {
        self.w.lock().acks.keys().cloned().collect()
    }

    /// Global offset after the last committed record.
    pub fn end(&self) -> Position {
        self.w.lock().end
    }

    /// Appends one committed batch as a record.
    pub fn write_batch(&self, samples: &[(Labels, Sample)]) -> Result<(), RemoteError> {
        if samples.is_empty() {
            return Ok(());
        }
        let payload = encode_batch(samples).encode_to_vec();
        let mut w = self.w.lock();
        let mut rec = Vec::with_capacity(8 + payload.len());
        rec.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        rec.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        rec.extend_from_slice(&payload);
        w.file.seek(SeekFrom::End(0))?;
        w.file.write_all(&rec)?;
        w.end += rec.len() as u64;
        let cur = *w.segments.last().unwrap_or(&0);
        if w.end - cur >= self.opts.segment_bytes {
            self.roll(&mut w)?;
        }
        drop(w);
        let max_t = samples.iter().map(|(_, s)| s.t).max().unwrap_or(0);
        self.highest_timestamp.fetch_max(max_t, Ordering::Relaxed);
        self.samples_in.fetch_add(samples.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Highest sample timestamp written (ms; 0 before the first) and samples written, for
    /// `prometheus_remote_storage_highest_timestamp_in_seconds` and `_samples_in_total`.
    pub fn ingest_stats(&self) -> (i64, u64) {
        (self.highest_timestamp.load(Ordering::Relaxed), self.samples_in.load(Ordering::Relaxed))
    }

    fn roll(&self, w: &mut Writer) -> Result<(), RemoteError> {
        w.file.sync_all()?;
        let start = w.end;
        w.file = OpenOptions::new().create(true).append(true).open(seg_path(&self.dir, start))?;
        w.segments.push(start);
        let total = w.end - w.segments[0];
        if total > self.opts.max_bytes {
            // Bounded: drop the oldest closed segments, read or not.
            while w.segments.len() > 1 && w.end - w.segments[0] > self.opts.max_bytes {
                let old = w.segments.remove(0);
                tracing::warn!(segment = old, "remote-write buffer full, dropping oldest segment");
                let _ = fs::remove_file(seg_path(&self.dir, old));
            }
        }
        Ok(())
    }

    fn ack(&self, name: &str, pos: Position) -> Result<(), RemoteError> {
        let mut w = self.w.lock();
        w.acks.insert(name.to_string(), pos);
        let tmp = self.dir.join("acks").join(format!(".{name}.tmp"));
        fs::write(&tmp, pos.to_string())?;
        fs::rename(&tmp, self.dir.join("acks").join(name))?;
        let min = w.acks.values().copied().min().unwrap_or(0);
        // Delete closed segments whose successor starts at or before every reader's position.
        while w.segments.len() > 1 && w.segments[1] <= min {
            let old = w.segments.remove(0);
            let _ = fs::remove_file(seg_path(&self.dir, old));
        }
        Ok(())
    }

    fn read_from(&self, from: Position, max: usize) -> Result<SourceBatch, RemoteError> {
        let (segments, end) = {
            let w = self.w.lock();
            (w.segments.clone(), w.end)
        };
        let mut pos = from.max(segments[0]);
        let mut out = SourceBatch { samples: Vec::new(), next: pos };
        while pos < end && out.samples.len() < max {
            let idx = segments.partition_point(|&s| s <= pos).saturating_sub(1);
            let seg_start = segments[idx];
            let seg_end = segments.get(idx + 1).copied().unwrap_or(end);
            let mut f = match File::open(seg_path(&self.dir, seg_start)) {
                Ok(f) => f,
                // Deleted by retention meanwhile: continue at the next segment.
                Err(_) => {
                    pos = seg_end;
                    out.next = pos;
                    continue;
                }
            };
            f.seek(SeekFrom::Start(pos - seg_start))?;
            let mut r = std::io::BufReader::new(f);
            while pos < seg_end && out.samples.len() < max {
                let Some(payload) = read_record(&mut r) else {
                    // Corrupt or torn: skip the rest of this segment.
                    pos = seg_end;
                    break;
                };
                pos += 8 + payload.len() as u64;
                decode_batch(&payload, &mut out.samples)?;
            }
            out.next = pos;
        }
        Ok(out)
    }
}

fn encode_batch(samples: &[(Labels, Sample)]) -> WriteRequest {
    let mut timeseries: Vec<TimeSeries> = Vec::new();
    let mut last: Option<&Labels> = None;
    for (l, s) in samples {
        let sample = proto::Sample { value: s.v, timestamp: s.t };
        match (last, timeseries.last_mut()) {
            (Some(prev), Some(ts)) if prev == l => ts.samples.push(sample),
            _ => timeseries.push(TimeSeries {
                labels: labels_to_proto(l),
                samples: vec![sample],
                exemplars: vec![],
            }),
        }
        last = Some(l);
    }
    WriteRequest { timeseries, metadata: vec![] }
}

fn decode_batch(payload: &[u8], out: &mut Vec<(Labels, Sample)>) -> Result<(), RemoteError> {
    let req = WriteRequest::decode(payload).map_err(|e| RemoteError::Decode(e.to_string()))?;
    for ts in req.timeseries {
        let labels = labels_from_proto(&ts.labels)?;
        out.extend(ts.samples.iter().map(|s| (labels.clone(), Sample::new(s.timestamp, s.value))));
    }
    Ok(())
}

/// One queue's view of a [`DiskBuffer`].
#[derive(Debug, Clone)]
pub struct BufferReader {
    buf: Arc<DiskBuffer>,
    name: String,
}

impl SampleSource for BufferReader {
    fn start(&self) -> Result<Position, RemoteError> {
        let w = self.buf.w.lock();
        let first = w.segments.first().copied().unwrap_or(0);
        Ok(w.acks.get(&self.name).copied().unwrap_or(first).max(first))
    }

    fn read(&self, from: Position, max_samples: usize) -> Result<SourceBatch, RemoteError> {
        self.buf.read_from(from, max_samples)
    }

    fn ack(&self, pos: Position) -> Result<(), RemoteError> {
        self.buf.ack(&self.name, pos)
    }
}

/// `Appendable` over a shared [`DiskBuffer`] (agent mode's storage).
#[derive(Debug, Clone)]
pub struct BufferAppendable(pub Arc<DiskBuffer>);

impl Appendable for BufferAppendable {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(PendingAppender { sink: self.0.clone(), pending: Vec::new() })
    }
}

struct PendingAppender {
    sink: Arc<DiskBuffer>,
    pending: Vec<(Labels, Sample)>,
}

impl Appender for PendingAppender {
    fn append(
        &mut self,
        _h: SeriesRef,
        l: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, StorageError> {
        if l.is_empty() {
            return Err(StorageError::InvalidLabels("empty label set".into()));
        }
        self.pending.push((l.clone(), Sample::new(t, v)));
        Ok(0)
    }

    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        self.sink.write_batch(&self.pending).map_err(|e| StorageError::Io(e.to_string()))
    }

    fn rollback(self: Box<Self>) {}
}

/// Commits to `primary` (the TSDB), then records the same batch in the buffer, so remote
/// write sees exactly what was stored.
#[derive(Clone)]
pub struct TeeAppendable {
    pub primary: Arc<dyn Appendable>,
    pub buffer: Arc<DiskBuffer>,
}

impl std::fmt::Debug for TeeAppendable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeeAppendable").finish_non_exhaustive()
    }
}

impl Appendable for TeeAppendable {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(TeeAppender {
            primary: self.primary.appender(),
            buffer: self.buffer.clone(),
            pending: Vec::new(),
        })
    }
}

struct TeeAppender {
    primary: Box<dyn Appender>,
    buffer: Arc<DiskBuffer>,
    pending: Vec<(Labels, Sample)>,
}

impl Appender for TeeAppender {
    fn append(
        &mut self,
        h: SeriesRef,
        l: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, StorageError> {
        let r = self.primary.append(h, l, t, v)?;
        self.pending.push((l.clone(), Sample::new(t, v)));
        Ok(r)
    }

    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        self.primary.commit()?;
        // The batch is stored locally; a buffer failure must not report the commit as failed.
        if let Err(e) = self.buffer.write_batch(&self.pending) {
            tracing::error!(err = %e, samples = self.pending.len(), "remote-write buffer append failed; samples will not be sent");
        }
        Ok(())
    }

    fn rollback(self: Box<Self>) {
        self.primary.rollback();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(name: &str, ts: std::ops::Range<i64>) -> Vec<(Labels, Sample)> {
        ts.map(|t| (Labels::new([("__name__", name)]), Sample::new(t, t as f64))).collect()
    }

    #[test]
    fn reads_back_in_order_across_segments_and_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let opts = DiskBufferOptions { segment_bytes: 200, max_bytes: 1 << 20 };
        {
            let b = Arc::new(DiskBuffer::open(dir.path(), opts.clone()).unwrap());
            let _r = b.reader("q").unwrap();
            for i in 0..10 {
                b.write_batch(&batch("a", i * 10..i * 10 + 10)).unwrap();
            }
        }
        let b = Arc::new(DiskBuffer::open(dir.path(), opts).unwrap());
        let r = b.reader("q").unwrap();
        let mut pos = r.start().unwrap();
        let mut all = Vec::new();
        loop {
            let got = r.read(pos, 25).unwrap();
            if got.samples.is_empty() {
                break;
            }
            pos = got.next;
            all.extend(got.samples.into_iter().map(|(_, s)| s.t));
        }
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        r.ack(pos).unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2, "one segment plus acks");
        assert_eq!(r.start().unwrap(), pos);
    }

    #[test]
    fn unacked_data_survives_and_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        {
            let b = Arc::new(DiskBuffer::open(dir.path(), DiskBufferOptions::default()).unwrap());
            b.reader("q").unwrap();
            b.write_batch(&batch("a", 0..3)).unwrap();
        }
        let seg = seg_path(dir.path(), 0);
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(&[9, 0, 0, 0, 1, 2]).unwrap();
        let b = Arc::new(DiskBuffer::open(dir.path(), DiskBufferOptions::default()).unwrap());
        let r = b.reader("q").unwrap();
        let got = r.read(r.start().unwrap(), 100).unwrap();
        assert_eq!(got.samples.len(), 3);
        b.write_batch(&batch("a", 3..4)).unwrap();
        assert_eq!(r.read(got.next, 100).unwrap().samples.len(), 1);
        let late = b.reader("late").unwrap();
        assert!(
            late.read(late.start().unwrap(), 100).unwrap().samples.is_empty(),
            "new readers start at the end"
        );
    }

    #[test]
    fn tee_records_exactly_what_the_primary_stored() {
        let dir = tempfile::tempdir().unwrap();
        let b = Arc::new(DiskBuffer::open(dir.path(), DiskBufferOptions::default()).unwrap());
        let r = b.reader("q").unwrap();
        let primary = Arc::new(storage::MemStorage::new());
        let tee = TeeAppendable { primary: primary.clone(), buffer: b.clone() };
        let l = Labels::new([("__name__", "m")]);
        let mut app = tee.appender();
        app.append(0, &l, 10, 1.0).unwrap();
        app.commit().unwrap();
        let mut app = tee.appender();
        assert!(app.append(0, &l, 5, 1.0).is_err(), "out of order in the primary");
        app.rollback();
        assert_eq!(primary.num_samples(), 1);
        let got = r.read(r.start().unwrap(), 100).unwrap();
        assert_eq!(got.samples, vec![(l, Sample::new(10, 1.0))]);
    }
}
