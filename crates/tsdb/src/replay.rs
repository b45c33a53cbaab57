//! WAL replay on open, on both cores: a reader thread reads, checks, decompresses and decodes
//! the checkpoint and segments (the dense sample coding is per segment, so it is reset at each
//! segment start) and hands batches of decoded records to the caller's thread, which applies
//! them to the head in WAL order.

use std::path::Path;
use std::sync::mpsc;

use crate::error::Result;
use crate::head::refmap::RefMap;
use crate::head::{Head, Placement, SeriesHandle};
use crate::wal::dense::DenseDecoder;
use crate::wal::{self, record::Record};

/// Decoded records per hand-over between the threads.
const BATCH: usize = 32;
/// Batches in flight: bounds replay memory.
const IN_FLIGHT: usize = 8;

/// Replays the WAL in `dir` into `head`. Samples the head rejects (duplicates of checkpointed
/// data, data older than the blocks) are skipped.
pub(crate) fn replay_into(head: &Head, dir: &Path) -> Result<wal::ReplayStats> {
    let (tx, rx) = mpsc::sync_channel::<Vec<Record>>(IN_FLIGHT);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_records(dir, tx));
        let mut apply = Applier { head, refmap: RefMap::default(), min_valid: head.min_valid() };
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

fn read_records(dir: &Path, tx: mpsc::SyncSender<Vec<Record>>) -> Result<wal::ReplayStats> {
    let dense = std::cell::RefCell::new(DenseDecoder::default());
    let mut batch = Vec::with_capacity(BATCH);
    let mut receiver_gone = false;
    let stats = wal::replay_segments(
        dir,
        || dense.borrow_mut().reset(),
        |rec| {
            match wal::record::decode_with(rec, &mut dense.borrow_mut()) {
                Ok(r) => batch.push(r),
                Err(e) => tracing::warn!(error = %e, "skipping undecodable WAL record"),
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
    /// WAL ref -> head series (refs differ when a WAL repeats a series under a new ref).
    refmap: RefMap<SeriesHandle>,
    min_valid: i64,
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
                    let (_, s, _) = head.get_or_create(&labels, Some(r));
                    s.lock().logged = true;
                    self.refmap.insert(r, s);
                }
            }
            Record::Samples(list) => {
                let (mut lo, mut hi) = (i64::MAX, i64::MIN);
                for (r, t, v) in list {
                    let Some(s) = self.refmap.get(&r) else { continue };
                    let mut s = s.lock();
                    match s.place(None, t, v, self.min_valid, head.ooo_window.max(0)) {
                        Ok(Placement::InOrder) => {
                            s.append(t, v, head.chunk_range, head.mapper.as_ref())
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
                    if let Some(s) = self.refmap.get(&r) {
                        s.lock().delete_range(mint, maxt, head.chunk_range);
                    }
                }
            }
            Record::Other(_) => {}
        }
    }
}
