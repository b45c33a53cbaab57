//! `Db`: the database. Opens blocks and replays the WAL into the head on start, implements the
//! storage traits (appends go WAL first, then head, under one commit lock so every batch is
//! all-or-nothing), and exposes maintenance, deletion, snapshots and stats.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use model::{Labels, Timestamp};
use parking_lot::{Mutex, RwLock};
use storage::{Appendable, Appender, Querier, Queryable, SeriesRef, StorageError};

use crate::block::Block;
use crate::encoding::Encbuf;
use crate::error::{Result, TsdbError};
use crate::head::series::NO_WAL_SEGMENT;
use crate::head::{Head, MemSeries, MixHash, Placement, SeriesHandle};
use crate::options::{Options, WalSync};
use crate::wal::dense::DenseSample;
use crate::wal::{self, Wal, record};

/// Most bytes one sample takes in a dense WAL record (ref and time varints, tag, raw value).
const DENSE_SAMPLE_MAX_BYTES: usize = 10 + 10 + 1 + 8;

/// The head chunk cache directory (Prometheus' own `chunks_head/` is left alone).
pub const HEAD_CHUNKS_DIR: &str = "pharos_head_chunks";

pub(crate) struct WalState {
    pub wal: Option<Wal>,
    pub last_sync: Instant,
}

pub(crate) struct Inner {
    pub dir: PathBuf,
    pub opts: Options,
    pub head: Head,
    /// The commit lock: every batch is validated, logged and applied while holding it.
    pub wal: Mutex<WalState>,
    /// Open blocks sorted by min time.
    pub blocks: RwLock<Vec<Arc<Block>>>,
    pub closed: AtomicBool,
    /// Serializes maintenance (compaction, retention, deletion rewrites).
    pub maint: Mutex<()>,
    /// Samples in the last committed batch: appenders size their per-series map for it.
    pub batch_hint: std::sync::atomic::AtomicUsize,
    /// WAL corruptions repaired (tail truncated) when the database was opened.
    pub wal_corruptions: u64,
    /// The head was restored from the snapshot of a clean close instead of the WAL.
    pub restored_from_snapshot: bool,
    /// The flock on `dir/lock` (as Prometheus takes it), held while the database is open.
    _lock: std::fs::File,
}

/// The time-series database. Cheap to clone; clones share one database.
#[derive(Clone)]
pub struct Db {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("dir", &self.inner.dir).finish_non_exhaustive()
    }
}

/// Opens every block under `dir`, skipping (with a warning) blocks that fail to open and
/// removing leftovers of interrupted block writes.
pub(crate) fn load_blocks(dir: &Path) -> Result<Vec<Arc<Block>>> {
    let mut blocks = Vec::new();
    let rd = std::fs::read_dir(dir).map_err(|e| TsdbError::io(format!("read {dir:?}"), e))?;
    for ent in rd.flatten() {
        let path = ent.path();
        let name = ent.file_name().to_string_lossy().to_string();
        if !path.is_dir() {
            continue;
        }
        if name.ends_with(".tmp-for-creation") || name.ends_with(".tmp-for-deletion") {
            let _ = std::fs::remove_dir_all(&path);
            continue;
        }
        if ulid::Ulid::from_string(&name).is_err() {
            continue;
        }
        match Block::open(&path) {
            Ok(b) if b.meta.compaction.deletable => {
                let _ = std::fs::remove_dir_all(&path);
            }
            Ok(b) => blocks.push(Arc::new(b)),
            Err(e) => tracing::warn!(block = %name, error = %e, "skipping unreadable block"),
        }
    }
    blocks.sort_by_key(|b| (b.meta.min_time, b.meta.max_time));
    Ok(blocks)
}

impl Db {
    /// Opens (or creates) the database in `dir`: loads blocks, replays the WAL into the head and
    /// starts a new WAL segment.
    pub fn open(dir: &Path, opts: Options) -> Result<Db> {
        if opts.block_range_ms <= 0 {
            return Err(TsdbError::InvalidArgument("block range must be positive".into()));
        }
        std::fs::create_dir_all(dir).map_err(|e| TsdbError::io(format!("create {dir:?}"), e))?;
        let lock_path = dir.join("lock");
        let lock = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| TsdbError::io(format!("open {lock_path:?}"), e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(TsdbError::InvalidArgument(format!(
                    "{dir:?} is in use by another process (Prometheus or Pharos)"
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(TsdbError::io(format!("lock {lock_path:?}"), e));
            }
        }
        let blocks = load_blocks(dir)?;
        let (mapper, cached) = crate::head::mapper::ChunkMapper::open(&dir.join(HEAD_CHUNKS_DIR));
        let head = Head::new(opts.block_range_ms, opts.out_of_order_time_window_ms, Some(mapper))
            .with_max_series(opts.max_series);
        if let Some(maxt) = blocks.iter().map(|b| b.meta.max_time).max() {
            head.set_persisted(maxt);
        }
        let wal_dir = dir.join("wal");
        let started = Instant::now();
        let stats = crate::replay::restore_head(&head, dir, &wal_dir, cached)?;
        tracing::info!(
            series = head.num_series(),
            from_snapshot = stats.from_snapshot,
            segments = stats.segments,
            bytes = stats.bytes,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "WAL replay completed"
        );
        // Replay frees its decoded batches and every re-appended chunk buffer it cut.
        crate::head::trim::release();
        let wal = Wal::open(&wal_dir, opts.wal_segment_size)?;
        let inner = Inner {
            dir: dir.to_path_buf(),
            opts,
            head,
            wal: Mutex::new(WalState { wal: Some(wal), last_sync: Instant::now() }),
            blocks: RwLock::new(blocks),
            closed: AtomicBool::new(false),
            maint: Mutex::new(()),
            batch_hint: std::sync::atomic::AtomicUsize::new(0),
            wal_corruptions: u64::from(stats.repaired),
            restored_from_snapshot: stats.from_snapshot,
            _lock: lock,
        };
        Ok(Db { inner: Arc::new(inner) })
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub fn options(&self) -> &Options {
        &self.inner.opts
    }

    /// Series in the head now (`prometheus_tsdb_head_series`).
    pub fn head_series(&self) -> usize {
        self.inner.head.num_series()
    }

    /// Appends refused by the series limit since start
    /// (`pharos_tsdb_head_series_limit_reached_total`).
    pub fn series_limit_reached_total(&self) -> u64 {
        self.inner.head.series_limit_reached_total()
    }

    /// WAL corruptions found and repaired since the database was opened
    /// (`prometheus_tsdb_wal_corruptions_total`).
    pub fn wal_corruptions_total(&self) -> u64 {
        self.inner.wal_corruptions
    }

    /// The open blocks' metadata, oldest first.
    pub fn blocks(&self) -> Vec<crate::meta::BlockMeta> {
        self.inner.blocks.read().iter().map(|b| b.meta.clone()).collect()
    }

    /// True if the head was restored from the snapshot a clean close left, not from the WAL.
    pub fn restored_from_snapshot(&self) -> bool {
        self.inner.restored_from_snapshot
    }

    /// Syncs the WAL, refuses further appends and queries, and writes the head snapshot the
    /// next open restores the head from (without it, the next open replays the WAL).
    pub fn close(&self) -> Result<()> {
        let _m = self.inner.maint.lock();
        let mut w = self.inner.wal.lock();
        self.inner.closed.store(true, Ordering::Release);
        if let Some(mut wal) = w.wal.take() {
            wal.sync()?;
            drop(wal);
            let dir = &self.inner.dir;
            let written = match crate::snapshot::wal_end(&dir.join("wal")) {
                Some(end) => crate::snapshot::write(dir, &self.inner.head, end),
                None => Ok(()),
            };
            if let Err(e) = written {
                tracing::warn!(error = %e, "could not write the head snapshot; the next start replays the WAL");
                crate::snapshot::remove(dir);
            }
        }
        Ok(())
    }

    pub(crate) fn check_open(&self) -> Result<(), StorageError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(StorageError::Unavailable("database is closed".into()));
        }
        Ok(())
    }
}

struct Pending {
    r: u64,
    series: SeriesHandle,
    t: i64,
    v: f64,
}

struct DbAppender {
    db: Db,
    generation: u64,
    pending: Vec<Pending>,
    /// Newest in-order pending sample per series ref.
    lasts: HashMap<u64, (i64, f64), MixHash>,
}

impl Appendable for Db {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(DbAppender {
            db: self.clone(),
            generation: self.inner.head.generation(),
            pending: Vec::new(),
            lasts: HashMap::with_capacity_and_hasher(
                self.inner.batch_hint.load(Ordering::Relaxed).min(1 << 14),
                MixHash,
            ),
        })
    }
}

impl DbAppender {
    fn place(&self, r: u64, s: &MemSeries, t: i64, v: f64) -> Result<Placement, StorageError> {
        let head = &self.db.inner.head;
        s.place(self.lasts.get(&r).copied(), t, v, head.min_valid(), head.ooo_window)
    }
}

impl Appender for DbAppender {
    fn append(
        &mut self,
        hint: SeriesRef,
        labels: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, StorageError> {
        self.db.check_open()?;
        Head::check_labels(labels)?;
        let head = &self.db.inner.head;
        let mut found = None;
        if let Some(s) = (hint != 0).then(|| head.get(hint)).flatten() {
            let g = s.lock();
            if g.labels == *labels {
                let placement = self.place(hint, &g, t, v)?;
                drop(g);
                found = Some((hint, s, placement));
            }
        }
        let (r, series, placement) = match found {
            Some(x) => x,
            None => {
                let (r, s) = head.create_limited(labels)?;
                let placement = self.place(r, &s.lock(), t, v)?;
                (r, s, placement)
            }
        };
        match placement {
            Placement::Duplicate => return Ok(r),
            Placement::InOrder => {
                self.lasts.insert(r, (t, v));
            }
            Placement::OutOfOrder => {}
        }
        self.pending.push(Pending { r, series, t, v });
        Ok(r)
    }

    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        self.db.inner.batch_hint.store(self.lasts.len(), Ordering::Relaxed);
        self.db.commit(self.pending, self.generation)
    }

    fn rollback(self: Box<Self>) {}
}

impl Db {
    fn commit(&self, pending: Vec<Pending>, generation: u64) -> Result<(), StorageError> {
        if pending.is_empty() {
            return Ok(());
        }
        let inner = &self.inner;
        let head = &inner.head;
        let mut w = inner.wal.lock();
        self.check_open()?;
        let min_valid = head.min_valid();
        // Resolve handles first: series may have been dropped by truncation since append. No
        // head-wide lock is taken after this point, so holding many series locks is safe.
        let resolved: Vec<(u64, SeriesHandle, i64, f64)> = if head.generation() == generation {
            pending.into_iter().map(|p| (p.r, p.series, p.t, p.v)).collect()
        } else {
            pending
                .into_iter()
                .map(|p| match head.get(p.r) {
                    Some(s) if Arc::ptr_eq(&s, &p.series) => (p.r, s, p.t, p.v),
                    _ => {
                        let labels = p.series.lock().labels.clone();
                        let (r, s, _) = head.get_or_create(&labels, None);
                        (r, s, p.t, p.v)
                    }
                })
                .collect()
        };
        // Lock every series once (a series repeated in the batch reuses its guard), validate
        // the whole batch, log it, then apply it under the same guards.
        let mut guards: Vec<parking_lot::MutexGuard<'_, MemSeries>> = Vec::new();
        let mut guard_last: Vec<Option<(i64, f64)>> = Vec::new();
        let mut slot: Vec<usize> = Vec::with_capacity(resolved.len());
        let mut index_of: Option<HashMap<*const parking_lot::Mutex<MemSeries>, usize>> = None;
        let mut places: Vec<Placement> = Vec::with_capacity(resolved.len());
        for (i, (_, s, t, v)) in resolved.iter().enumerate() {
            let ptr = Arc::as_ptr(s);
            let existing = match s.try_lock() {
                Some(g) => {
                    guards.push(g);
                    None
                }
                None => {
                    let map = index_of.get_or_insert_with(|| {
                        (0..i).map(|j| (Arc::as_ptr(&resolved[j].1), slot[j])).collect()
                    });
                    match map.get(&ptr) {
                        Some(&gi) => Some(gi),
                        None => {
                            guards.push(s.lock());
                            None
                        }
                    }
                }
            };
            let gi = match existing {
                Some(gi) => gi,
                None => {
                    guard_last.push(None);
                    let gi = guards.len() - 1;
                    if let Some(map) = index_of.as_mut() {
                        map.insert(ptr, gi);
                    }
                    gi
                }
            };
            slot.push(gi);
            let place = guards[gi].place(guard_last[gi], *t, *v, min_valid, head.ooo_window)?;
            if place == Placement::InOrder {
                guard_last[gi] = Some((*t, *v));
            }
            places.push(place);
        }
        let mut new_series: Vec<(u64, Labels)> = Vec::new();
        let mut seen_new = vec![false; guards.len()];
        for (i, (r, _, _, _)) in resolved.iter().enumerate() {
            let gi = slot[i];
            if !guards[gi].logged && !seen_new[gi] {
                seen_new[gi] = true;
                new_series.push((*r, guards[gi].labels.clone()));
            }
        }
        // The segment the samples are logged to; series whose newest sample is a base there
        // code their values against it.
        let mut logged_seg = None;
        if let Some(wal) = w.wal.as_mut() {
            let mut series_rec = Encbuf::new();
            let mut samples_rec = Encbuf::new();
            let mut recs: Vec<&[u8]> = Vec::with_capacity(2);
            if !new_series.is_empty() {
                let refs: Vec<(u64, &Labels)> = new_series.iter().map(|(r, l)| (*r, l)).collect();
                record::encode_series(&refs, &mut series_rec);
                recs.push(&series_rec.b);
            }
            let seg = wal
                .reserve(series_rec.len() + 32 + resolved.len() * DENSE_SAMPLE_MAX_BYTES)
                .map_err(StorageError::from)?;
            logged_seg = Some(seg);
            let mut base: Vec<Option<f64>> = guards
                .iter()
                .map(|g| if g.wal_seg == seg { g.last().map(|l| l.1) } else { None })
                .collect();
            let mut samples: Vec<DenseSample> = Vec::with_capacity(resolved.len());
            for (i, (r, _, t, v)) in resolved.iter().enumerate() {
                if places[i] == Placement::Duplicate {
                    continue;
                }
                let gi = slot[i];
                let sets_base = places[i] == Placement::InOrder;
                samples.push(DenseSample { r: *r, t: *t, v: *v, base: base[gi], sets_base });
                if sets_base {
                    base[gi] = Some(*v);
                }
            }
            if !samples.is_empty() {
                wal::dense::encode(&samples, &mut samples_rec);
                recs.push(&samples_rec.b);
            }
            if !recs.is_empty() {
                wal.log(&recs).map_err(StorageError::from)?;
                let due = match inner.opts.wal_sync {
                    WalSync::Always => true,
                    WalSync::Batched { ms } => w.last_sync.elapsed().as_millis() as u64 >= ms,
                };
                if due {
                    if let Some(wal) = w.wal.as_mut() {
                        wal.sync().map_err(StorageError::from)?;
                    }
                    w.last_sync = Instant::now();
                }
            }
        }
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for (i, (r, _, t, v)) in resolved.iter().enumerate() {
            let g = &mut guards[slot[i]];
            g.logged = true;
            match places[i] {
                Placement::InOrder => {
                    g.append(*t, *v, head.chunk_range, head.mapper.as_ref().map(|m| (m, *r)));
                    g.wal_seg = logged_seg.unwrap_or(NO_WAL_SEGMENT);
                }
                Placement::OutOfOrder => g.insert_ooo(*t, *v),
                Placement::Duplicate => continue,
            }
            lo = lo.min(*t);
            hi = hi.max(*t);
        }
        drop(guards);
        if lo <= hi {
            head.note_times(lo, hi);
        }
        drop(w);
        crate::head::trim::maybe_release();
        Ok(())
    }

    /// Syncs the WAL now.
    pub fn sync_wal(&self) -> Result<()> {
        let mut w = self.inner.wal.lock();
        if let Some(wal) = w.wal.as_mut() {
            wal.sync()?;
        }
        w.last_sync = Instant::now();
        Ok(())
    }
}

impl Queryable for Db {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        self.check_open()?;
        Ok(Box::new(crate::querier::DbQuerier::new(self, mint, maxt)))
    }
}
