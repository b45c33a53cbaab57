//! WAL replay on open, on both cores: a reader thread reads, checks, decompresses and decodes
//! the checkpoint and segments (the dense sample coding is per segment, so it is reset at each
//! segment start) and hands batches of decoded records to the caller's thread, which applies
//! them to the head in WAL order.
//!
//! Full chunks that the previous run left in the head chunk cache are attached to their series
//! as they are created, and (without an out-of-order window) the reader drops every sample of
//! such a series up to the end of its last cached chunk, mostly without decoding its value, so
//! only the open chunks' samples are appended again.
//!
//! Series are built apart from the head and reached without locking (applying a sample takes
//! no lock and no atomic operation), and handed to the head with their postings in one pass at the end
//! ([`crate::head::restore::Building`], [`Head::install`]); label strings are interned through a
//! table local to the reader.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::head::mapper::LoadedChunk;
use crate::head::refmap::RefMap;
use crate::head::restore::Building;
use crate::head::series::ClosedChunk;
use crate::head::{Head, Placement};
use crate::iter::ChunkData;
use crate::snapshot;
use crate::wal::dense::{CachedEnds, DENSE_SAMPLES, DenseDecoder};
use crate::wal::{self, record, record::Record};

/// How many samples ahead the applying thread pulls the end of a series' open chunk into the
/// CPU cache.
const LOAD_AHEAD: usize = 8;

/// Asks the CPU to start loading the cache line of `p` (a hint, never a fault).
#[inline]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: prefetching is a hint that never faults, whatever the address.
        unsafe {
            _mm_prefetch(p.cast(), _MM_HINT_T0);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

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
    replay_into(head, wal_dir, chunks)
}

/// Replays the WAL in `dir` into `head`. Samples the head rejects (duplicates of checkpointed
/// data, data older than the blocks) are skipped.
fn replay_into(
    head: &Head,
    dir: &Path,
    chunks: RefMap<Vec<LoadedChunk>>,
) -> Result<wal::ReplayStats> {
    let min_valid = head.min_valid();
    // Per series with cached chunks: the end of the last one and the value there.
    let mut ends = Vec::new();
    if head.ooo_window <= 0 {
        for (r, list) in chunks.iter() {
            if let Some(last) = list.last() {
                ends.push((r, last.maxt, last.last_v));
            }
        }
    }
    let cached = CachedEnds::new(&ends);
    drop(ends);
    let (tx, rx) = mpsc::sync_channel::<Vec<Record>>(IN_FLIGHT);
    // Sample lists go back to the reader once applied, to be filled again.
    let (spare, spares) = mpsc::channel::<Samples>();
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_records(dir, tx, spares, cached));
        let mut apply = Applier {
            head,
            spare,
            refmap: RefMap::default(),
            min_valid,
            built: Building::with_capacity(chunks.len()),
            chunks,
            series_time: Duration::ZERO,
            samples_time: Duration::ZERO,
        };
        let started = Instant::now();
        for batch in rx {
            for rec in batch {
                apply.record(rec);
            }
        }
        let applied = started.elapsed();
        let postings = Instant::now();
        head.install(std::mem::take(&mut apply.built));
        let postings = postings.elapsed();
        let read = reader.join().unwrap_or_else(|_| {
            Err(crate::TsdbError::corrupted("wal", "the WAL reader thread panicked"))
        });
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
        read.map(|(stats, _)| stats)
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
struct Strings(HashSet<Arc<str>, ahash::RandomState>);

impl Strings {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a = model::intern(s);
        self.0.insert(a.clone());
        a
    }
}

fn read_records(
    dir: &Path,
    tx: mpsc::SyncSender<Vec<Record>>,
    spares: mpsc::Receiver<Samples>,
    cached: CachedEnds,
) -> Result<(wal::ReplayStats, ReadPhases)> {
    let dense = std::cell::RefCell::new(DenseDecoder::default());
    let mut unused: Option<Samples> = None;
    let mut strings = Strings::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut receiver_gone = false;
    let mut p = ReadPhases::default();
    let started = Instant::now();
    let stats = wal::replay_segments(
        dir,
        || dense.borrow_mut().reset(),
        |rec| {
            let t0 = Instant::now();
            let series = rec.first() == Some(&record::SERIES);
            let decoded = match rec.first() {
                Some(&record::SERIES) => record::decode_series(rec, |s| strings.get(s)).map(Some),
                Some(&DENSE_SAMPLES) => {
                    let mut list =
                        unused.take().or_else(|| spares.try_recv().ok()).unwrap_or_default();
                    let mut dense = dense.borrow_mut();
                    // Samples inside cached chunks are skipped while decoding.
                    let done = if cached.is_empty() {
                        dense.decode_into(rec, |_, _| true, &mut list)
                    } else {
                        dense.decode_skipping(rec, &cached, &mut list)
                    };
                    done.map(|()| {
                        if list.is_empty() {
                            unused = Some(list);
                            None
                        } else {
                            Some(Record::Samples(list))
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
                        Ok(Record::Samples(mut list)) if !cached.is_empty() => {
                            list.retain(|&(r, t, _)| cached.keeps(r, t));
                            Ok((!list.is_empty()).then_some(Record::Samples(list)))
                        }
                        other => other.map(Some),
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
            Ok(())
        },
    )?;
    if !batch.is_empty() {
        let _ = tx.send(batch);
    }
    p.read = started.elapsed().saturating_sub(p.series + p.samples + p.wait);
    Ok((stats, p))
}

/// Decoded samples: (ref, t, v).
type Samples = Vec<(u64, i64, f64)>;

struct Applier<'a> {
    head: &'a Head,
    /// Where applied sample lists go back to the reader.
    spare: mpsc::Sender<Samples>,
    /// The series replayed so far, owned here until the end.
    built: Building,
    /// WAL ref -> index in `built` (refs differ when a WAL repeats a series under a new ref).
    refmap: RefMap<u32>,
    min_valid: i64,
    /// Cached chunks not yet attached, by head ref.
    chunks: RefMap<Vec<LoadedChunk>>,
    series_time: Duration,
    samples_time: Duration,
}

impl Applier<'_> {
    fn record(&mut self, rec: Record) {
        let started = Instant::now();
        let series = matches!(rec, Record::Series(_));
        self.apply(rec);
        *(if series { &mut self.series_time } else { &mut self.samples_time }) += started.elapsed();
    }

    fn apply(&mut self, rec: Record) {
        let head = self.head;
        match rec {
            Record::Series(list) => {
                for (r, labels) in list {
                    if labels.is_empty() {
                        continue;
                    }
                    let (i, _) = self.built.get_or_create(&labels, r);
                    let Some((hr, s)) = self.built.get_mut(i) else { continue };
                    s.logged = true;
                    if let Some(list) = self.chunks.remove(&hr)
                        && s.closed.is_empty()
                        && s.open.is_none()
                        && let (Some(first), Some(last)) = (list.first(), list.last())
                    {
                        head.note_times(first.mint, last.maxt);
                        s.set_last(Some((last.maxt, last.last_v)));
                        s.closed = list
                            .into_iter()
                            .map(|c| ClosedChunk {
                                mint: c.mint,
                                maxt: c.maxt,
                                data: ChunkData::Mapped(c.data),
                            })
                            .collect();
                    }
                    self.refmap.insert(r, i as u32);
                }
            }
            Record::Samples(mut list) => {
                self.samples(&list);
                list.clear();
                let _ = self.spare.send(list);
            }
            Record::Tombstones(list) => {
                for (r, mint, maxt) in list {
                    if let Some(&i) = self.refmap.get(&r)
                        && let Some((hr, s)) = self.built.get_mut(i as usize)
                    {
                        let mapper = head.mapper.as_ref().map(|m| (m, hr));
                        s.delete_range(mint, maxt, head.chunk_range, mapper);
                    }
                }
            }
            Record::Other(_) => {}
        }
    }

    /// Appends samples to their series. Samples of one record mostly go to different series,
    /// in the order the series were created: the series [`LOAD_AHEAD`] samples on is pulled
    /// into the cache, and then, once there, the end of its open chunk.
    fn samples(&mut self, list: &[(u64, i64, f64)]) {
        let head = self.head;
        let (min_valid, ooo_window) = (self.min_valid, head.ooo_window.max(0));
        let mapper = head.mapper.as_ref();
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for (i, &(r, t, v)) in list.iter().enumerate() {
            if let Some(ahead) = list.get(i + 2 * LOAD_AHEAD)
                && let Some(&j) = self.refmap.get(&ahead.0)
            {
                self.built.prefetch(j as usize);
            }
            if let Some(ahead) = list.get(i + LOAD_AHEAD)
                && let Some(&j) = self.refmap.get(&ahead.0)
                && let Some(o) = self.built.get(j as usize).and_then(|s| s.open.as_ref())
            {
                let b = o.chunk.bytes();
                let end = b.as_ptr().wrapping_add(b.len().saturating_sub(1));
                prefetch(end);
                prefetch(end.wrapping_add(15));
            }
            let Some(&j) = self.refmap.get(&r) else { continue };
            let Some((hr, s)) = self.built.get_mut(j as usize) else { continue };
            match s.place(None, t, v, min_valid, ooo_window) {
                Ok(Placement::InOrder) => s.append(t, v, head.chunk_range, mapper.map(|m| (m, hr))),
                Ok(Placement::OutOfOrder) => s.insert_ooo(t, v),
                Ok(Placement::Duplicate) | Err(_) => continue,
            }
            lo = lo.min(t);
            hi = hi.max(t);
        }
        if lo <= hi {
            head.note_times(lo, hi);
        }
    }
}
