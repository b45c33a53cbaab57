//! `Db`: the database. Opens blocks and replays the WAL into the head on start, implements the
//! storage traits (appends, in `appender.rs`, go WAL first, then head, under one commit lock so
//! every batch is all-or-nothing), and exposes maintenance, deletion, snapshots and stats.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use model::Timestamp;
use parking_lot::{Mutex, RwLock};
use storage::{Querier, Queryable, StorageError};

use crate::block::Block;
use crate::error::{Result, TsdbError};
use crate::head::Head;
use crate::options::Options;
use crate::wal::Wal;

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
    /// Buffers of finished batches, reused by the next appenders.
    pub scratch: Mutex<Vec<crate::appender::Scratch>>,
    /// WAL corruptions repaired (tail truncated) when the database was opened.
    pub wal_corruptions: u64,
    /// The head was restored from the snapshot of a clean close instead of the WAL.
    pub restored_from_snapshot: bool,
    /// Counters of maintenance, WAL and replay events.
    pub metrics: crate::metrics::Metrics,
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
        if let Some(m) = &head.mapper {
            m.release_loaded();
        }
        let metrics = crate::metrics::Metrics::new();
        metrics.replay_nanos.store(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        // Opening loaded the blocks: Prometheus counts that as the first reload.
        crate::metrics::Metrics::inc(&metrics.reloads);
        let mut wal = Wal::open(&wal_dir, opts.wal_segment_size)?;
        wal.set_compression(opts.wal_compression);
        let inner = Inner {
            dir: dir.to_path_buf(),
            opts,
            head,
            wal: Mutex::new(WalState { wal: Some(wal), last_sync: Instant::now() }),
            blocks: RwLock::new(blocks),
            closed: AtomicBool::new(false),
            maint: Mutex::new(()),
            batch_hint: std::sync::atomic::AtomicUsize::new(0),
            scratch: Mutex::new(Vec::new()),
            wal_corruptions: u64::from(stats.repaired),
            restored_from_snapshot: stats.from_snapshot,
            metrics,
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

    /// The database's own metrics now (`prometheus_tsdb_*`).
    pub fn metrics(&self) -> crate::metrics::DbMetrics {
        let inner = &self.inner;
        let mut m = crate::metrics::DbMetrics::default();
        inner.metrics.read_into(&mut m);
        m.head_series = inner.head.num_series() as u64;
        // Every series the head ever held was created (replayed ones too) and is either still
        // there or was removed by a truncation.
        m.head_series_created_total = m.head_series + m.head_series_removed_total;
        m.head_min_time = inner.head.min_time();
        m.head_max_time = inner.head.max_time();
        {
            let blocks = inner.blocks.read();
            m.blocks_loaded = blocks.len() as u64;
            m.storage_blocks_bytes = blocks.iter().map(|b| b.size()).sum();
            m.lowest_timestamp = blocks.first().map_or(m.head_min_time, |b| b.meta.min_time);
        }
        m.retention_limit_bytes = inner.opts.retention_bytes;
        // The WAL's lock is the commit lock: a busy commit is not waited for, the segment
        // last seen is reported instead.
        if let Some(w) = inner.wal.try_lock() {
            let seg = w.wal.as_ref().map_or(0, |w| u64::from(w.current_segment()));
            inner.metrics.wal_segment.store(seg, Ordering::Relaxed);
        }
        m.wal_segment_current = inner.metrics.wal_segment.load(Ordering::Relaxed);
        m.wal_corruptions_total = inner.wal_corruptions;
        m
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

impl Db {
    /// Syncs the WAL now.
    pub fn sync_wal(&self) -> Result<()> {
        let mut w = self.inner.wal.lock();
        if let Some(wal) = w.wal.as_mut() {
            let started = Instant::now();
            wal.sync()?;
            self.inner.metrics.wal_fsync(started.elapsed());
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
