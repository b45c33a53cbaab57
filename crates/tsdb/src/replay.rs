//! WAL replay on open, on both cores: a reader thread reads, checks, decompresses and decodes
//! the checkpoint and segments (the dense sample coding is per segment, so it is reset at each
//! segment start) and hands batches of decoded records to the caller's thread, which applies
//! them to the head in WAL order.
//!
//! Full chunks that the previous run left in the head chunk cache are attached to their series
//! as they are created, and (without an out-of-order window) the reader drops every sample of
//! such a series up to the end of its last cached chunk, so only the open chunks' samples are
//! appended again.

use std::path::Path;
use std::sync::mpsc;

use crate::error::Result;
use crate::head::mapper::LoadedChunk;
use crate::head::refmap::RefMap;
use crate::head::series::ClosedChunk;
use crate::head::{Head, Placement, SeriesHandle};
use crate::iter::ChunkData;
use crate::snapshot;
use crate::wal::dense::{DENSE_SAMPLES, DenseDecoder};
use crate::wal::{self, record::Record};

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
    let mut skip_upto: RefMap<i64> = RefMap::default();
    if head.ooo_window <= 0 {
        for (r, list) in chunks.iter() {
            if let Some(last) = list.last() {
                skip_upto.insert(r, last.maxt);
            }
        }
    }
    let (tx, rx) = mpsc::sync_channel::<Vec<Record>>(IN_FLIGHT);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_records(dir, tx, skip_upto));
        let mut apply = Applier { head, refmap: RefMap::default(), min_valid, chunks };
        for batch in rx {
            for rec in batch {
                apply.record(rec);
            }
        }
        reader.join().unwrap_or_else(|_| {
            Err(crate::TsdbError::corrupted("wal", "the WAL reader thread panicked"))
        })
    })
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

fn read_records(
    dir: &Path,
    tx: mpsc::SyncSender<Vec<Record>>,
    skip_upto: RefMap<i64>,
) -> Result<wal::ReplayStats> {
    let dense = std::cell::RefCell::new(DenseDecoder::default());
    let mut batch = Vec::with_capacity(BATCH);
    let mut receiver_gone = false;
    let stats = wal::replay_segments(
        dir,
        || dense.borrow_mut().reset(),
        |rec| {
            if rec.first() == Some(&DENSE_SAMPLES) && !skip_upto.is_empty() {
                // Samples inside cached chunks are dropped while decoding (they still set
                // their series' bases).
                let mut list = Vec::new();
                let keep = |r: u64, t: i64| skip_upto.get(&r).is_none_or(|&upto| t > upto);
                match dense.borrow_mut().decode_into(rec, keep, &mut list) {
                    Ok(()) => batch.push(Record::Samples(list)),
                    Err(e) => tracing::warn!(error = %e, "skipping undecodable WAL record"),
                }
            } else {
                match wal::record::decode_with(rec, &mut dense.borrow_mut()) {
                    Ok(Record::Samples(mut list)) if !skip_upto.is_empty() => {
                        list.retain(|(r, t, _)| skip_upto.get(r).is_none_or(|&upto| *t > upto));
                        batch.push(Record::Samples(list));
                    }
                    Ok(r) => batch.push(r),
                    Err(e) => tracing::warn!(error = %e, "skipping undecodable WAL record"),
                }
            }
            if batch.len() >= BATCH && !receiver_gone {
                receiver_gone =
                    tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_err();
            }
            Ok(())
        },
    )?;
    if !batch.is_empty() {
        let _ = tx.send(batch);
    }
    Ok(stats)
}

struct Applier<'a> {
    head: &'a Head,
    /// WAL ref -> head ref and series (refs differ when a WAL repeats a series under a new ref).
    refmap: RefMap<(u64, SeriesHandle)>,
    min_valid: i64,
    /// Cached chunks not yet attached, by head ref.
    chunks: RefMap<Vec<LoadedChunk>>,
}

impl Applier<'_> {
    fn record(&mut self, rec: Record) {
        let head = self.head;
        match rec {
            Record::Series(list) => {
                for (r, labels) in list {
                    if labels.is_empty() {
                        continue;
                    }
                    let (hr, s, _) = head.get_or_create(&labels, Some(r));
                    {
                        let mut g = s.lock();
                        g.logged = true;
                        if let Some(list) = self.chunks.remove(&hr)
                            && g.closed.is_empty()
                            && g.open.is_none()
                            && let (Some(first), Some(last)) = (list.first(), list.last())
                        {
                            head.note_times(first.mint, last.maxt);
                            g.set_last(Some((last.maxt, last.last_v)));
                            g.closed.extend(list.into_iter().map(|c| ClosedChunk {
                                mint: c.mint,
                                maxt: c.maxt,
                                data: ChunkData::Mapped(c.data),
                            }));
                        }
                    }
                    self.refmap.insert(r, (hr, s));
                }
            }
            Record::Samples(list) => {
                let (mut lo, mut hi) = (i64::MAX, i64::MIN);
                for (r, t, v) in list {
                    let Some((hr, s)) = self.refmap.get(&r) else { continue };
                    let mut s = s.lock();
                    match s.place(None, t, v, self.min_valid, head.ooo_window.max(0)) {
                        Ok(Placement::InOrder) => {
                            s.append(t, v, head.chunk_range, head.mapper.as_ref().map(|m| (m, *hr)))
                        }
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
            Record::Tombstones(list) => {
                for (r, mint, maxt) in list {
                    if let Some((hr, s)) = self.refmap.get(&r) {
                        let mapper = head.mapper.as_ref().map(|m| (m, *hr));
                        s.lock().delete_range(mint, maxt, head.chunk_range, mapper);
                    }
                }
            }
            Record::Other(_) => {}
        }
    }
}
