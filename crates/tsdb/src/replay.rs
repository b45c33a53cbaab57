//! WAL replay on open: a reader thread reads, checks, decompresses and decodes the checkpoint
//! and segments (the dense sample coding is per segment, so it is reset at each segment start;
//! with a second core, a read-ahead thread checks and decompresses ahead of decoding) and hands
//! batches of decoded records to the caller's thread. That thread files series in WAL order
//! and queues samples, then applies them series by series: each flush (at 16 samples a series,
//! before a tombstone record, and at the end) sorts the queue by series so that a series and
//! its open chunk's end are loaded once per flush; with a second core, half of each flush's
//! series are appended on another thread. Neither appending thread should wait on the other
//! in malloc (the server runs on one arena): the chunks replay starts are made at the size
//! their series' cached chunks predict, so they seldom grow, and the second thread takes
//! its buffers from a pool the first filled; series are made on the reading thread.
//!
//! Full chunks that the previous run left in the head chunk cache are attached to their series
//! as they are created, and the reader drops every in-order sample of such a series up to the
//! end of its last cached chunk (without an out-of-order window mostly without decoding its
//! value), so only the open chunks' samples are appended again. With a window, dense records
//! say which samples their commit placed out of order: those go to their series' out-of-order
//! buffer whatever their age (the commit checked the window against the newest sample then,
//! which the replay does not know); samples of plain records (a checkpoint's) older than their
//! series' newest are looked up in its chunks and are out-of-order samples if not there.
//!
//! A chunk goes to the cache when the sample after it is appended, so after a WAL repair (a
//! torn or corrupt tail cut off) a cached chunk may hold samples of commits the WAL lost, and
//! other series' chunks not: such a replay is abandoned, the cache discarded and the head
//! rebuilt from the WAL alone, which holds all of it. Commits stay whole.
//!
//! Series are built apart from the head and reached without locking (applying a sample takes
//! no lock and no atomic operation), and handed to the head with their postings in one pass at the end
//! ([`crate::head::restore::Building`], [`Head::install`]); label strings are interned through a
//! table local to the reader.

use std::collections::HashSet;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::chunkenc::{XorChunk, XorIterator};
use crate::error::Result;
use crate::head::cachefiles;
use crate::head::mapper::LoadedChunk;
use crate::head::refmap::RefMap;
use crate::head::restore::{Building, NewSeries, Part};
use crate::head::series::{ClosedChunk, MemSeries};
use crate::head::{Head, Placement};
use crate::snapshot;
use crate::wal::dense::{CachedEnds, DENSE_SAMPLES, DenseDecoder};
use crate::wal::{self, record, record::Record};

/// How many samples ahead the applying thread pulls the end of a series' open chunk into the
/// CPU cache.
const LOAD_AHEAD: usize = 8;

/// Decoded records per hand-over between the threads.
const BATCH: usize = 32;
/// Batches in flight: bounds replay memory.
const IN_FLIGHT: usize = 8;

/// Fills `head` on open: from the head snapshot in `dir` that a clean close left, if it still
/// matches the WAL and the head chunk cache, else by replaying the WAL in `wal_dir`. The
/// snapshot is removed either way (the WAL written from now on makes it stale).
pub(crate) fn restore_head(
    head: &Head,
    dir: &Path,
    wal_dir: &Path,
    cached: Vec<LoadedChunk>,
) -> Result<wal::ReplayStats> {
    let chunks = group_cached(cached, head.min_valid());
    let snap = snapshot::read(dir);
    snapshot::remove(dir);
    if let Some(snap) = snap {
        if snapshot::wal_end(wal_dir) == Some(snap.end)
            && snap.matches_cache(&chunks, head.min_valid())
        {
            snap.restore(head, chunks);
            return Ok(wal::ReplayStats { from_snapshot: true, ..Default::default() });
        }
        tracing::warn!(
            "the head snapshot does not match the WAL or the head chunk cache; replaying the WAL"
        );
    }
    let with_cache = !chunks.is_empty();
    if let Some(stats) = replay_into(head, wal_dir, chunks, with_cache)? {
        return Ok(stats);
    }
    // The WAL was repaired, and the cached chunks may hold samples of the commits its damaged
    // tail lost: a chunk is written to the cache when the sample after it is appended, so one
    // cut after the damage holds samples of commits that are gone, while other series' chunks
    // do not, and those commits would come back in part. The WAL holds every sample of the
    // head (a checkpoint keeps all the head's samples), so the head is rebuilt from it alone.
    tracing::warn!(
        "the WAL was repaired: discarding the head chunk cache, which may hold samples of \
         lost commits, and replaying the WAL alone"
    );
    if let Some(m) = &head.mapper {
        m.discard();
    }
    head.reset_times();
    let stats = replay_into(head, wal_dir, RefMap::default(), false)?;
    Ok(wal::ReplayStats { repaired: true, ..stats.unwrap_or_default() })
}

/// Replays the WAL in `dir` into `head`. Samples the head rejects (duplicates of checkpointed
/// data, data older than the blocks) are skipped. `None` (and nothing installed in the head)
/// if the WAL had to be repaired and `abandon_if_repaired`.
fn replay_into(
    head: &Head,
    dir: &Path,
    chunks: RefMap<Vec<LoadedChunk>>,
    abandon_if_repaired: bool,
) -> Result<Option<wal::ReplayStats>> {
    let min_valid = head.min_valid();
    // Per series with cached chunks: the end of the last one and the value there.
    let mut ends = Vec::new();
    for (r, list) in chunks.iter() {
        if let Some(last) = list.last() {
            ends.push((r, last.maxt, last.last_v));
        }
    }
    let cached = CachedEnds::new(&ends);
    drop(ends);
    let ooo = head.ooo_window > 0;
    let (tx, rx) = mpsc::sync_channel::<Vec<Item>>(IN_FLIGHT);
    // Sample lists go back to the reader once applied, to be filled again.
    let (spare, spares) = mpsc::channel::<Samples>();
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_records(dir, tx, spares, cached, ooo));
        let mut apply = Applier {
            head,
            spare,
            refmap: RefMap::default(),
            min_valid,
            built: Building::with_capacity(chunks.len()),
            sizes: Vec::new(),
            pool: ChunkPool::default(),
            pending: Pending::default(),
            plain: false,
            parallel: parallel(),
            chunks,
            series_time: Duration::ZERO,
            samples_time: Duration::ZERO,
        };
        let started = Instant::now();
        for batch in rx {
            for item in batch {
                apply.item(item);
            }
        }
        let last = Instant::now();
        apply.flush();
        apply.samples_time += last.elapsed();
        let applied = started.elapsed();
        let read = reader.join().unwrap_or_else(|_| {
            Err(crate::TsdbError::corrupted("wal", "the WAL reader thread panicked"))
        });
        if abandon_if_repaired && read.as_ref().is_ok_and(|(stats, _)| stats.repaired) {
            return Ok(None);
        }
        let postings = Instant::now();
        head.install(std::mem::take(&mut apply.built));
        let postings = postings.elapsed();
        if let Ok((_, p)) = &read {
            tracing::info!(
                read_ms = ms(p.read),
                decode_series_ms = ms(p.series),
                decode_samples_ms = ms(p.samples),
                reader_wait_ms = ms(p.wait),
                apply_series_ms = ms(apply.series_time),
                apply_samples_ms = ms(apply.samples_time),
                apply_wait_ms = ms(applied.saturating_sub(apply.series_time + apply.samples_time)),
                postings_ms = ms(postings),
                "WAL replay phases"
            );
        }
        read.map(|(stats, _)| Some(stats))
    })
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// Cached chunks per series ref, in time order, without chunks already in blocks or
/// overlapping an earlier one.
fn group_cached(cached: Vec<LoadedChunk>, min_valid: i64) -> RefMap<Vec<LoadedChunk>> {
    let mut by_ref: RefMap<Vec<LoadedChunk>> = RefMap::default();
    for c in cached.into_iter().filter(|c| c.maxt >= min_valid && c.mint <= c.maxt) {
        match by_ref.get_mut(&c.r) {
            Some(list) => list.push(c),
            None => by_ref.insert(c.r, vec![c]),
        }
    }
    for (_, list) in by_ref.iter_mut() {
        list.sort_by_key(|c| c.mint);
        let mut end = i64::MIN;
        list.retain(|c| {
            let keep = c.mint > end;
            if keep {
                end = c.maxt;
            }
            keep
        });
    }
    by_ref
}

/// Where the reader thread's time went: reading, checking and decompressing segments
/// (`read`), decoding series and sample records, and waiting for the applying thread.
#[derive(Default)]
struct ReadPhases {
    read: Duration,
    series: Duration,
    samples: Duration,
    wait: Duration,
}

/// Label strings seen by the reader, each interned process-wide once.
#[derive(Default)]
struct Strings(HashSet<model::IStr, ahash::RandomState>);

impl Strings {
    fn get(&mut self, s: &str) -> model::IStr {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a = model::intern(s);
        self.0.insert(a.clone());
        a
    }
}

/// A decoded record as the reader hands it over.
enum Item {
    /// The series of a series record, made ready for the head (those with labels).
    Series(Vec<NewSeries>),
    /// Series and tombstones, and plain sample records (a checkpoint's, or a WAL Prometheus
    /// wrote), whose samples say nothing of how their commit placed them.
    Record(Record),
    /// Samples of dense records: without an out-of-order window all of them, with one only
    /// those their commit placed in order.
    Dense(Samples),
    /// Samples of dense records that their commit placed out of order (with a window).
    OutOfOrder(Samples),
}

/// Reads, checks and decodes the WAL in `dir`, handing batches of records over `tx`. Samples
/// inside their series' cached chunks (`cached`) are dropped; with an out-of-order window
/// (`ooo`), only those of dense records that their commit placed in order (the chunk cache
/// holds no other), and those of plain records are all kept.
fn read_records(
    dir: &Path,
    tx: mpsc::SyncSender<Vec<Item>>,
    spares: mpsc::Receiver<Samples>,
    cached: CachedEnds,
    ooo: bool,
) -> Result<(wal::ReplayStats, ReadPhases)> {
    let dense = std::cell::RefCell::new(DenseDecoder::default());
    let mut unused: Option<Samples> = None;
    let mut strings = Strings::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut late = Vec::new();
    let mut receiver_gone = false;
    let mut p = ReadPhases::default();
    let started = Instant::now();
    let segment_start = || dense.borrow_mut().reset();
    let on_record = |rec: &[u8]| {
        let t0 = Instant::now();
        let series = rec.first() == Some(&record::SERIES);
        let decoded = match rec.first() {
            Some(&record::SERIES) => {
                record::decode_series(rec, |s| strings.get(s)).map(|r| match r {
                    // Made here, so the applying thread neither hashes nor allocates them.
                    Record::Series(list) => Some(Item::Series(new_series(list))),
                    other => Some(Item::Record(other)),
                })
            }
            Some(&DENSE_SAMPLES) => {
                let mut list = unused.take().or_else(|| spares.try_recv().ok()).unwrap_or_default();
                let mut dense = dense.borrow_mut();
                let done = if ooo {
                    let n = late.len();
                    dense.decode_split(rec, &cached, &mut list, &mut late).map(|()| {
                        if late.len() > n {
                            // Handed over ahead of the in-order samples of the same record:
                            // the two never share a timestamp.
                            batch.push(Item::OutOfOrder(std::mem::take(&mut late)));
                        }
                    })
                } else if cached.is_empty() {
                    dense.decode_into(rec, |_, _| true, &mut list)
                } else {
                    // Samples inside cached chunks are skipped while decoding.
                    dense.decode_skipping(rec, &cached, &mut list)
                };
                done.map(|()| {
                    if list.is_empty() {
                        unused = Some(list);
                        None
                    } else {
                        Some(Item::Dense(list))
                    }
                })
            }
            _ => {
                // One list handed back is taken per record here too, so they never pile
                // up in the channel.
                let spare = spares.try_recv().ok();
                if unused.is_none() {
                    unused = spare;
                }
                match record::decode_with(rec, &mut dense.borrow_mut()) {
                    // With an out-of-order window, a sample of a plain record inside its
                    // series' cached chunks may be one that the chunks do not hold: the
                    // applier looks.
                    Ok(Record::Samples(mut list)) if !cached.is_empty() && !ooo => {
                        list.retain(|&(r, t, _)| cached.keeps(r, t));
                        Ok((!list.is_empty()).then_some(Item::Record(Record::Samples(list))))
                    }
                    other => other.map(|r| Some(Item::Record(r))),
                }
            }
        };
        match decoded {
            Ok(Some(r)) => batch.push(r),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "skipping undecodable WAL record"),
        }
        let t1 = Instant::now();
        *(if series { &mut p.series } else { &mut p.samples }) += t1 - t0;
        if batch.len() >= BATCH && !receiver_gone {
            receiver_gone =
                tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_err();
            p.wait += t1.elapsed();
        }
    };
    // Reading ahead on a thread of its own pays only with a core for it.
    let (stats, read) = if parallel() {
        read_ahead(dir, segment_start, on_record)
    } else {
        let mut on_record = on_record;
        let stats = wal::replay_segments(dir, segment_start, |rec| {
            on_record(rec);
            Ok(())
        });
        (stats, Duration::ZERO)
    };
    if !batch.is_empty() {
        let _ = tx.send(batch);
    }
    let busy = p.series + p.samples + p.wait;
    if read.is_zero() {
        p.read = started.elapsed().saturating_sub(busy);
    } else {
        // The time this thread waited for the reading thread.
        p.read = read;
        p.wait += started.elapsed().saturating_sub(busy);
    }
    Ok((stats?, p))
}

/// Checked and decompressed records, back to back, read ahead of their decoding.
#[derive(Default)]
struct Plain {
    data: Vec<u8>,
    /// Where each record ends in `data`; [`SEGMENT_START`] where a segment file starts.
    ends: Vec<usize>,
}

const SEGMENT_START: usize = usize::MAX;

/// Plain record bytes per hand-over from the reading thread.
const PLAIN_BYTES: usize = 1 << 20;

/// [`wal::replay_segments`] with the segments read, checked and decompressed on a thread of
/// its own, a few records ahead of `f`. Returns the replay's result and the time the reading
/// thread spent apart from waiting for `f`.
fn read_ahead(
    dir: &Path,
    mut segment_start: impl FnMut(),
    mut f: impl FnMut(&[u8]),
) -> (Result<wal::ReplayStats>, Duration) {
    let (tx, rx) = mpsc::sync_channel::<Plain>(4);
    let (back, empties) = mpsc::channel::<Plain>();
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let started = Instant::now();
            let mut wait = Duration::ZERO;
            let cur = std::cell::RefCell::new(Plain::default());
            let send = |wait: &mut Duration| {
                let mut next = empties.try_recv().unwrap_or_default();
                next.data.clear();
                next.ends.clear();
                let full = std::mem::replace(&mut *cur.borrow_mut(), next);
                let t = Instant::now();
                // A decoder that is gone has stopped on an error of its own: nothing to do.
                let _ = tx.send(full);
                *wait += t.elapsed();
            };
            let stats = wal::replay_segments(
                dir,
                || cur.borrow_mut().ends.push(SEGMENT_START),
                |rec| {
                    let len = {
                        let mut c = cur.borrow_mut();
                        c.data.extend_from_slice(rec);
                        let end = c.data.len();
                        c.ends.push(end);
                        end
                    };
                    if len >= PLAIN_BYTES {
                        send(&mut wait);
                    }
                    Ok(())
                },
            );
            if !cur.borrow().ends.is_empty() {
                send(&mut wait);
            }
            (stats, started.elapsed().saturating_sub(wait))
        });
        for plain in rx {
            let mut start = 0;
            for &end in &plain.ends {
                if end == SEGMENT_START {
                    segment_start();
                } else if let Some(rec) = plain.data.get(start..end) {
                    f(rec);
                    start = end;
                }
            }
            let _ = back.send(plain);
        }
        reader.join().unwrap_or_else(|_| {
            (
                Err(crate::TsdbError::corrupted("wal", "the WAL reader thread panicked")),
                Duration::ZERO,
            )
        })
    })
}

/// The series of a decoded series record with labels, made for [`Building::get_or_insert`].
fn new_series(list: Vec<(u64, model::Labels)>) -> Vec<NewSeries> {
    list.into_iter().filter(|(_, l)| !l.is_empty()).map(|(r, l)| NewSeries::new(r, l)).collect()
}

/// Decoded samples: (ref, t, v).
type Samples = Vec<(u64, i64, f64)>;

struct Applier<'a> {
    head: &'a Head,
    /// Where applied sample lists go back to the reader.
    spare: mpsc::Sender<Samples>,
    /// Samples decoded but not yet appended, grouped by series before they are.
    pending: Pending,
    /// Whether the pending samples are of plain records (see [`Item::Record`]).
    plain: bool,
    /// Whether a second thread may append (see [`parallel`]).
    parallel: bool,
    /// The series replayed so far, owned here until the end.
    built: Building,
    /// Per series index: the buffer size for the chunks replay starts, predicted from the
    /// series' last cached chunk (0: none, [`OPEN_CHUNK_BYTES`]).
    sizes: Vec<u16>,
    /// Buffers for the first chunks the second appending thread of a flush starts.
    pool: ChunkPool,
    /// WAL ref -> index in `built` (refs differ when a WAL repeats a series under a new ref).
    refmap: RefMap<u32>,
    min_valid: i64,
    /// Cached chunks not yet attached, by head ref.
    chunks: RefMap<Vec<LoadedChunk>>,
    series_time: Duration,
    samples_time: Duration,
}

impl Applier<'_> {
    fn item(&mut self, item: Item) {
        let started = Instant::now();
        let series = matches!(item, Item::Series(_) | Item::Record(Record::Series(_)));
        match item {
            Item::Series(list) => self.series(list),
            Item::Record(rec) => self.apply(rec),
            Item::Dense(list) => self.queue(list, false),
            Item::OutOfOrder(list) => self.out_of_order(list),
        }
        *(if series { &mut self.series_time } else { &mut self.samples_time }) += started.elapsed();
    }

    /// Queues samples of dense (`plain` false) or plain records, appending those of the other
    /// kind queued before first.
    fn queue(&mut self, mut list: Samples, plain: bool) {
        if plain != self.plain {
            self.flush();
            self.plain = plain;
        }
        self.samples(&list);
        list.clear();
        let _ = self.spare.send(list);
    }

    /// Puts samples that their commit placed out of order in their series' out-of-order
    /// buffers, whatever the series' newest sample is now: each passed the window at its
    /// commit, against the series' newest sample then, which a replay does not know (its
    /// series' newest sample starts at the end of the cached chunks). The order of these
    /// and of queued in-order samples does not matter: a commit never places a sample out
    /// of order at a time that has a sample, and a later in-order one is newer.
    fn out_of_order(&mut self, list: Samples) {
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for &(r, t, v) in &list {
            if t < self.min_valid {
                continue;
            }
            if let Some(&j) = self.refmap.get(&r)
                && let Some((_, s)) = self.built.get_mut(j as usize)
            {
                s.insert_ooo(t, v);
                lo = lo.min(t);
                hi = hi.max(t);
            }
        }
        if lo <= hi {
            self.head.note_times(lo, hi);
        }
    }

    /// Files the series of a series record (made on the reading thread), attaching the
    /// cached chunks of each one new.
    fn series(&mut self, list: Vec<NewSeries>) {
        let head = self.head;
        for new in list {
            let r = new.r;
            let (i, _) = self.built.get_or_insert(new);
            let Some((hr, s)) = self.built.get_mut(i) else { continue };
            s.logged = true;
            if let Some(list) = self.chunks.remove(&hr)
                && s.closed.is_empty()
                && s.open.is_none()
                && let (Some(first), Some(last)) = (list.first(), list.last())
            {
                head.note_times(first.mint, last.maxt);
                if self.sizes.len() <= i {
                    self.sizes.resize(i + 1, 0);
                }
                self.sizes[i] = predicted_chunk_bytes(last.data.as_ref());
                s.set_last(Some((last.maxt, last.last_v)));
                // Not collected in place: that would keep the loaded list's buffer, grown
                // by doubling and sized for the larger loaded chunks.
                s.closed = Vec::with_capacity(list.len());
                s.closed.extend(
                    list.into_iter().map(|c| ClosedChunk::Cached { at: c.at, mint: c.mint }),
                );
            }
            self.refmap.insert(r, i as u32);
        }
    }

    fn apply(&mut self, rec: Record) {
        let head = self.head;
        match rec {
            Record::Series(list) => self.series(new_series(list)),
            Record::Samples(list) => self.queue(list, true),
            Record::Tombstones(list) => {
                // Deletion applies to the samples logged before it.
                self.flush();
                for (r, mint, maxt) in list {
                    if let Some(&i) = self.refmap.get(&r)
                        && let Some((hr, s)) = self.built.get_mut(i as usize)
                    {
                        // Without a drop entry (a full disk), the series' cached chunks stay
                        // valid: all were cut after the deletion's own drop entry, written
                        // before its record was logged. The rewritten chunks then stay in
                        // memory rather than come back next to them.
                        let voided = head.mapper.as_ref().filter(|m| m.drop_series(hr).is_ok());
                        s.delete_range(mint, maxt, head.chunk_range, voided.map(|m| (m, hr)));
                    }
                }
            }
            Record::Other(_) => {}
        }
    }

    /// Queues samples for their series (dropping those of unknown refs); appends the queue
    /// once it is full.
    fn samples(&mut self, list: &[(u64, i64, f64)]) {
        let p = &mut self.pending;
        for &(r, t, v) in list {
            if let Some(&j) = self.refmap.get(&r) {
                p.series.push(j);
                p.samples.push((t, v));
            }
        }
        // Sixteen samples a series at most, so few series are appended in long runs too.
        if p.series.len() >= self.built.len().saturating_mul(16).clamp(4096, PENDING) {
            self.flush();
        }
    }

    /// Appends the queued samples series by series, in series order (each series' samples in
    /// WAL order): a series and the end of its open chunk are loaded once per flush instead of
    /// once per sample, and the series are visited in the order they were allocated. With
    /// more than one core, the series are split in two halves of about as many samples, the
    /// second appended on a thread of its own.
    fn flush(&mut self) {
        if self.pending.series.is_empty() {
            return;
        }
        let (head, min_valid) = (self.head, self.min_valid);
        let plain = self.plain;
        let n = self.built.len();
        let p = &mut self.pending;
        p.group(n);
        let total = p.samples.len();
        // `ends` is sorted: the first series whose samples end past the middle.
        let mid = if self.parallel {
            p.ends.get(..n).map_or(n, |e| e.partition_point(|&e| (e as usize) < total / 2))
        } else {
            n
        };
        let (ends, sorted, sizes) = (&p.ends[..], &p.sorted[..], &self.sizes[..]);
        let (mut low, high) = self.built.split_at_mut(mid);
        let (lo, hi) = if mid < n {
            let pool = self.pool.fill(n, mid, ends, sizes);
            std::thread::scope(|scope| {
                let other = scope.spawn(|| {
                    let (mut high, chunks) = (high, NewChunks { sizes, pool: Some(pool) });
                    append_grouped(head, min_valid, plain, &mut high, mid..n, ends, sorted, chunks)
                });
                let chunks = NewChunks { sizes, pool: None };
                let a =
                    append_grouped(head, min_valid, plain, &mut low, 0..mid, ends, sorted, chunks);
                let b = other.join().unwrap_or((i64::MAX, i64::MIN));
                (a.0.min(b.0), a.1.max(b.1))
            })
        } else {
            let chunks = NewChunks { sizes, pool: None };
            append_grouped(head, min_valid, plain, &mut low, 0..n, ends, sorted, chunks)
        };
        p.series.clear();
        p.samples.clear();
        if lo <= hi {
            head.note_times(lo, hi);
        }
    }
}

/// Whether this process may run on more than one core (a server pinned to one core gains
/// nothing from a second applying thread).
fn parallel() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

/// Appends the grouped samples of the series with indices in `range` (all in `part`):
/// series `j`'s are `sorted[ends[j - 1]..ends[j]]`. Returns the least and greatest time
/// appended. Samples of `plain` records older than their series' newest sample are, with an
/// out-of-order window, out-of-order samples unless their series holds them already (a
/// checkpoint holds the samples of the cached chunks, and the out-of-order samples of its
/// time merged with them): they are looked up in the series' chunks, not checked against
/// the window (their commit did that, against the newest sample then). Chunks are started
/// as `chunks` says.
#[allow(clippy::too_many_arguments)]
fn append_grouped(
    head: &Head,
    min_valid: i64,
    plain: bool,
    part: &mut Part<'_>,
    range: std::ops::Range<usize>,
    ends: &[u32],
    sorted: &[(i64, f64)],
    mut chunks: NewChunks<'_>,
) -> (i64, i64) {
    let ooo_window = head.ooo_window.max(0);
    let resolve = plain && ooo_window > 0;
    let mut times = ChunkTimes::default();
    let mapper = head.mapper.as_ref();
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    let mut start = range.start.checked_sub(1).and_then(|k| ends.get(k)).map_or(0, |&e| e as usize);
    for j in range {
        let end = ends.get(j).map_or(start, |&e| e as usize);
        let samples = sorted.get(start..end).unwrap_or_default();
        start = end;
        if samples.is_empty() {
            continue;
        }
        part.prefetch(j + 2 * LOAD_AHEAD, false);
        part.prefetch(j + LOAD_AHEAD, true);
        let Some((hr, s)) = part.get_mut(j) else { continue };
        for &(t, v) in samples {
            if resolve && s.last().is_some_and(|(lt, _)| t < lt) {
                if t >= min_valid && !times.holds(j, s, t) {
                    s.insert_ooo(t, v);
                    lo = lo.min(t);
                    hi = hi.max(t);
                }
                continue;
            }
            match s.place(None, t, v, min_valid, ooo_window, i64::MIN) {
                Ok(Placement::InOrder) => {
                    let range = head.chunk_range.max(1);
                    let start = crate::blockwriter::align_down(t, range);
                    let mapper = mapper.map(|m| (m, hr));
                    s.append_with(t, v, range, start, mapper, |_| chunks.make(j));
                }
                Ok(Placement::OutOfOrder) => s.insert_ooo(t, v),
                Ok(Placement::Duplicate) | Err(_) => continue,
            }
            lo = lo.min(t);
            hi = hi.max(t);
        }
    }
    (lo, hi)
}

/// The timestamps of one chunk of a series, decoded once for all the samples looked up in it
/// while the series' samples of a flush are appended (a checkpoint's are in time order).
#[derive(Default)]
struct ChunkTimes {
    /// Series index and mint of the closed chunk decoded in `ts`.
    chunk: Option<(usize, i64)>,
    ts: Vec<i64>,
}

impl ChunkTimes {
    /// Whether series `s` (index `j`) has a sample at `t`, in a chunk or out of order.
    fn holds(&mut self, j: usize, s: &MemSeries, t: i64) -> bool {
        if s.ooo().binary_search_by_key(&t, |x| x.0).is_ok() {
            return true;
        }
        let in_open = s.open.as_ref().is_some_and(|o| o.mint <= t);
        // Else the last closed chunk that starts at or before `t` is the only one that can
        // hold it.
        let i = s.closed.partition_point(|c| c.mint() <= t);
        if let Some(c) = i.checked_sub(1).and_then(|i| s.closed.get(i)).filter(|_| !in_open) {
            let key = Some((j, c.mint()));
            if self.chunk != key {
                self.ts.clear();
                let ts = &mut self.ts;
                if let Some(data) = c.data(&cachefiles::files()) {
                    XorIterator::new(data.as_ref()).decode_while(|t, _| {
                        ts.push(t);
                        true
                    });
                }
                self.chunk = key;
            }
            return self.ts.binary_search(&t).is_ok();
        }
        let Some(o) = s.open.as_ref().filter(|o| o.mint <= t && t <= o.maxt()) else {
            return false;
        };
        let mut found = false;
        o.chunk.iter().decode_while(|st, _| {
            found = st == t;
            st < t
        });
        found
    }
}

/// The buffer a chunk started by replay gets at once where its series has no cached chunk to
/// predict it from ([`predicted_chunk_bytes`]): what the encoder's growth (by half,
/// from 24 bytes, on glibc's 16-byte granules) reaches at 70–100 samples of node-like data,
/// and the chunk reaches anyway once appends resume. A crash leaves each series' open chunk
/// to be appended again from the WAL (61 samples a series on average when the WAL holds a
/// 2 h chunk boundary); growing it from 24 bytes took four reallocations a series, which on
/// the two appending threads, with the one malloc arena the server binary sets, serialized
/// on the arena's lock. The chunk is made at this size (one allocation), not made small and
/// moved. The cost: up to about 90 bytes more per series right after a restart whose open
/// chunks are short, until they fill or are cut.
const OPEN_CHUNK_BYTES: usize = 136;

/// The buffer for the chunks replay starts for a series whose last cached chunk is `last`
/// (its encoded bytes): what a full chunk of the same data needs (its bytes per sample times
/// [`crate::head::series::SAMPLES_PER_CHUNK`], a sixteenth more for the variation between
/// chunks, on glibc's 16-byte granules), so that the chunk is rarely grown while the WAL is
/// replayed into it. Growing it (from [`OPEN_CHUNK_BYTES`], the same for all series) meant
/// reallocations on the two appending threads at once, which with the server's one malloc
/// arena queue on its lock (a futex sleep and wake each); glibc fixes the arena limit when a
/// thread first needs an arena, so it cannot be raised for the restore alone. The chunk holds
/// this much from the restart on instead of reaching it as it fills; series of constants
/// (a few bytes a chunk) get a smaller buffer than before.
fn predicted_chunk_bytes(last: &[u8]) -> u16 {
    let samples = match last {
        [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b])),
        _ => 0,
    };
    if samples < 8 {
        return 0;
    }
    let full = last.len() * usize::from(crate::head::series::SAMPLES_PER_CHUNK) / samples;
    let want = full + full / 16 + 8;
    // 8 short of a multiple of 16: a glibc chunk's usable size.
    let cap = want.div_ceil(16) * 16 + 8;
    u16::try_from(cap.clamp(24, 4096)).unwrap_or(4096)
}

/// How an appending thread starts the chunks of a flush: in a buffer of `sizes[j]` bytes for
/// series `j` ([`predicted_chunk_bytes`]; [`OPEN_CHUNK_BYTES`] where 0 or unknown), taken
/// from `pool` where it holds one for the series.
struct NewChunks<'a> {
    sizes: &'a [u16],
    pool: Option<&'a mut Vec<(usize, Vec<u8>)>>,
}

impl NewChunks<'_> {
    fn make(&mut self, j: usize) -> XorChunk {
        if let Some(pool) = self.pool.as_deref_mut() {
            // The pool is in descending series order and the series are appended in
            // ascending order: buffers of series passed by (their samples all dropped) go.
            while pool.last().is_some_and(|(k, _)| *k < j) {
                pool.pop();
            }
            if pool.last().is_some_and(|(k, _)| *k == j)
                && let Some((_, buf)) = pool.pop()
            {
                return XorChunk::in_buffer(buf);
            }
        }
        XorChunk::with_capacity(chunk_bytes(self.sizes, j))
    }
}

/// The buffer size for a chunk replay starts for series `j`: `sizes[j]`, or
/// [`OPEN_CHUNK_BYTES`] where that is 0 or unknown.
fn chunk_bytes(sizes: &[u16], j: usize) -> usize {
    match sizes.get(j) {
        Some(&c) if c > 0 => usize::from(c),
        _ => OPEN_CHUNK_BYTES,
    }
}

/// Buffers for the first chunk the replay starts for each series appended by the second
/// thread of a flush, allocated by the first thread before it spawns the second. The server
/// runs with one malloc arena (`crates/pharos/src/malloc.rs`), and two threads each
/// allocating a buffer for hundreds of thousands of new chunks at once (after a crash every
/// series starts its open chunk again) queue on its lock, a futex sleep and wake each time;
/// glibc fixes the arena limit when a thread first needs an arena, so it cannot be raised
/// for the restore alone. With the pool only the first thread allocates while both append.
#[derive(Default)]
struct ChunkPool {
    /// Per series index: whether a flush has had samples for it (its first chunk is started,
    /// or its samples were dropped).
    seen: Vec<bool>,
    /// (series index, buffer), in descending series order.
    free: Vec<(usize, Vec<u8>)>,
}

impl ChunkPool {
    /// Marks the series with samples in this flush (`ends`, see [`Pending::group`]; `n`
    /// series) as seen and fills the pool with a buffer (of `sizes`, as [`NewChunks`]) for
    /// each one from `mid` on seen for the first time.
    fn fill(
        &mut self,
        n: usize,
        mid: usize,
        ends: &[u32],
        sizes: &[u16],
    ) -> &mut Vec<(usize, Vec<u8>)> {
        self.free.clear();
        if self.seen.len() < n {
            self.seen.resize(n, false);
        }
        let mut start = 0;
        for (j, (&end, seen)) in ends.iter().zip(self.seen.iter_mut()).take(n).enumerate() {
            if end as usize > start && !*seen {
                *seen = true;
                if j >= mid {
                    self.free.push((j, Vec::with_capacity(chunk_bytes(sizes, j))));
                }
            }
            start = end as usize;
        }
        self.free.reverse();
        &mut self.free
    }
}

/// Samples queued before they are appended: about 72 MB at most (36 bytes a sample).
const PENDING: usize = 1 << 21;

/// Queued samples: each one's series index, and its time and value; scratch for grouping them.
#[derive(Default)]
struct Pending {
    series: Vec<u32>,
    samples: Vec<(i64, f64)>,
    ends: Vec<u32>,
    sorted: Vec<(i64, f64)>,
}

impl Pending {
    /// Groups the queued samples by series (a stable counting sort over `n` series): series
    /// `j`'s samples become `sorted[ends[j - 1]..ends[j]]` (from 0 for the first).
    fn group(&mut self, n: usize) {
        self.ends.clear();
        self.ends.resize(n + 1, 0);
        for &j in &self.series {
            if let Some(c) = self.ends.get_mut(j as usize + 1) {
                *c += 1;
            }
        }
        let mut sum = 0;
        for c in self.ends.iter_mut() {
            sum += *c;
            *c = sum;
        }
        // `ends[j]` is where series j's samples start; it moves to where they end.
        self.sorted.clear();
        self.sorted.resize(self.samples.len(), (0, 0.0));
        for (&j, &tv) in self.series.iter().zip(&self.samples) {
            if let Some(at) = self.ends.get_mut(j as usize)
                && let Some(slot) = self.sorted.get_mut(*at as usize)
            {
                *slot = tv;
                *at += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a replay callback sees: records, and `None` where a segment file starts.
    fn events(dir: &Path, ahead: bool) -> (Vec<Option<Vec<u8>>>, u32) {
        let ev = std::cell::RefCell::new(Vec::new());
        let stats = if ahead {
            read_ahead(
                dir,
                || ev.borrow_mut().push(None),
                |r| ev.borrow_mut().push(Some(r.to_vec())),
            )
            .0
        } else {
            wal::replay_segments(
                dir,
                || ev.borrow_mut().push(None),
                |r| {
                    ev.borrow_mut().push(Some(r.to_vec()));
                    Ok(())
                },
            )
        };
        (ev.into_inner(), stats.unwrap().segments)
    }

    fn xor(samples: &[(i64, f64)]) -> Vec<u8> {
        let mut c = XorChunk::new();
        for &(t, v) in samples {
            c.append(t, v);
        }
        c.bytes().to_vec()
    }

    #[test]
    fn a_chunk_started_by_replay_is_sized_for_a_full_chunk_of_its_series_data() {
        // A counter of hundredths: bytes grow with the samples.
        let counter: Vec<_> = (0..120).map(|i| (i * 15_000, (i * i) as f64 * 0.37)).collect();
        let full = xor(&counter).len();
        let predicted = usize::from(predicted_chunk_bytes(&xor(&counter[..83])));
        assert!(predicted >= full && predicted <= full + full / 8 + 24, "{predicted} {full}");
        assert_eq!(predicted % 16, 8, "a glibc chunk's usable size");
        // A constant needs a few bytes: less than the default.
        let constant: Vec<_> = (0..83).map(|i| (i * 15_000, 42.0)).collect();
        let small = usize::from(predicted_chunk_bytes(&xor(&constant)));
        assert!((24..OPEN_CHUNK_BYTES).contains(&small), "{small}");
        // Too few samples to tell, or no chunk: the default (0).
        assert_eq!(predicted_chunk_bytes(&xor(&counter[..3])), 0);
        assert_eq!(predicted_chunk_bytes(&[]), 0);
        assert_eq!(predicted_chunk_bytes(&[0xff, 0xff, 1]), 24);
    }

    #[test]
    fn the_second_thread_takes_a_pooled_buffer_for_each_series_first_started() {
        let sizes = [0u16, 56, 200, 0, 1000];
        let mut pool = ChunkPool::default();
        // Samples for series 1, 2 and 4 (`ends` as Pending::group leaves it); the second
        // thread appends from series 2 on.
        let free = pool.fill(5, 2, &[0, 3, 5, 5, 9], &sizes);
        let got: Vec<_> = free.iter().map(|(j, b)| (*j, b.capacity())).collect();
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].0, got[1].0), (4, 2), "descending: popped in series order");
        assert!(got[0].1 >= 1000 && got[1].1 >= 200);
        let mut chunks = NewChunks { sizes: &sizes, pool: Some(free) };
        let mut c2 = chunks.make(2);
        assert!(c2.bytes() == [0, 0]);
        // Series 3 has no pooled buffer (it had no samples): allocated at the default size.
        let _ = chunks.make(3);
        assert_eq!(chunks.pool.as_ref().map(|p| p.len()), Some(1));
        // Series 4's samples were all dropped: passing it by drops its buffer.
        let _ = chunks.make(5);
        assert_eq!(chunks.pool.as_ref().map(|p| p.len()), Some(0));
        // A later flush pools only series seen for the first time.
        let free = pool.fill(6, 0, &[1, 2, 3, 4, 5, 6], &[0; 6]);
        assert_eq!(free.iter().map(|x| x.0).collect::<Vec<_>>(), vec![5, 3, 0]);
        // The chunks made append as ever.
        let mut c = chunks_from(free);
        c.append(1, 2.0);
        assert_eq!(c.bytes(), xor(&[(1, 2.0)]).as_slice());
    }

    fn chunks_from(free: &mut Vec<(usize, Vec<u8>)>) -> XorChunk {
        NewChunks { sizes: &[], pool: Some(free) }.make(0)
    }

    #[test]
    fn records_read_ahead_arrive_as_read_in_place() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut w = wal::Wal::open(dir.path(), 256 * 1024).unwrap();
            // Several hand-overs' worth of records of all sizes, across segment files, a
            // checkpoint among them.
            for i in 0..900u32 {
                let len = (i as usize * 7919) % 20_000 + 1;
                let rec: Vec<u8> = (0..len as u64)
                    .map(|k| ((k ^ u64::from(i)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
                    .collect();
                w.log(&[&rec]).unwrap();
                if i % 150 == 149 {
                    w.cut().unwrap();
                }
                if i == 300 {
                    let upto = w.cut().unwrap() - 1;
                    wal::write_checkpoint(dir.path(), upto, &[vec![9; 100], vec![8; 3_000_000]])
                        .unwrap();
                }
            }
            w.sync().unwrap();
        }
        let (want, segs) = events(dir.path(), false);
        assert!(segs > 3, "{segs} segments");
        assert!(want.iter().flatten().map(Vec::len).sum::<usize>() > 4 * PLAIN_BYTES);
        let (got, got_segs) = events(dir.path(), true);
        assert_eq!(got_segs, segs);
        assert_eq!(got.len(), want.len());
        assert!(got == want);
    }
}
