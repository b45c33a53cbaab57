//! Maintenance: cutting the head into blocks (and checkpointing the WAL), merging blocks into
//! larger ranges as Prometheus' leveled compactor does, retention by time and size, deletion
//! through tombstones, and snapshots.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use model::{Labels, Matcher};

use crate::block::Block;
use crate::blockwriter::{ChunkFormat, SortedBlockWriter, align_down, sync_dir};
use crate::db::Db;
use crate::encoding::Encbuf;
use crate::error::{Result, TsdbError};
use crate::meta::{BlockDesc, BlockMeta, Compaction};
use crate::metrics::Metrics;
use crate::tombstones::{Interval, is_deleted};
use crate::wal::{self, record};

pub mod plan;

/// What one maintenance pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaintainReport {
    pub head_blocks_written: usize,
    pub blocks_compacted: usize,
    pub blocks_deleted: usize,
}

impl Db {
    /// One maintenance pass, for the server to call periodically (Prometheus runs it every
    /// minute): cut the head into blocks once it spans 1.5 block ranges, compact blocks, apply
    /// retention, and sync the WAL. `now_ms` is accepted for an injected clock; retention is
    /// measured from the newest data, as Prometheus does.
    pub fn maintain(&self, now_ms: i64) -> Result<MaintainReport> {
        let _ = now_ms;
        let _m = self.inner.maint.lock();
        let metrics = &self.inner.metrics;
        // Prometheus triggers a compaction and reloads its blocks once a minute.
        Metrics::inc(&metrics.compactions_triggered);
        Metrics::inc(&metrics.reloads);
        let mut rep = MaintainReport::default();
        let range = self.inner.opts.block_range_ms;
        loop {
            let (lo, hi) = (self.inner.head.min_time(), self.inner.head.max_time());
            if lo > hi || hi.saturating_sub(lo) <= range / 2 * 3 {
                break;
            }
            let mint = align_down(lo, range);
            self.persist_head_range(mint, mint.saturating_add(range))?;
            rep.head_blocks_written += 1;
        }
        while let Some(n) = self.compact_blocks_once()? {
            rep.blocks_compacted += n;
        }
        rep.blocks_deleted = self.apply_retention()?;
        if rep.head_blocks_written > 0 {
            // Label strings of series that left the head can now be freed.
            model::collect_garbage();
        }
        self.sync_wal()?;
        drop(_m);
        // Heap pages freed since the last pass (request buffers, chunk buffers outgrown by
        // their samples, series that left the head) go back to the kernel: glibc returns on
        // its own only the free memory at the top of the heap.
        crate::head::trim::release();
        Ok(rep)
    }

    /// Writes everything in the head into blocks (one per aligned range) and empties it.
    /// Afterwards samples older than the newest persisted time are rejected as out of bounds.
    pub fn compact_head(&self) -> Result<usize> {
        let _m = self.inner.maint.lock();
        let range = self.inner.opts.block_range_ms;
        let mut n = 0;
        loop {
            let (lo, hi) = (self.inner.head.min_time(), self.inner.head.max_time());
            if lo > hi {
                break;
            }
            let mint = align_down(lo, range);
            self.persist_head_range(mint, mint.saturating_add(range))?;
            n += 1;
        }
        Ok(n)
    }

    /// Writes head data in `[mint, maxt)` to a block, truncates the head and checkpoints the WAL.
    fn persist_head_range(&self, mint: i64, maxt: i64) -> Result<()> {
        let started = Instant::now();
        let written = self.write_head_block(mint, maxt);
        self.inner.metrics.compaction(started.elapsed(), written.is_ok());
        written?;
        let metrics = &self.inner.metrics;
        let removed = self.inner.head.truncate(maxt);
        Metrics::add(&metrics.series_removed, removed as u64);
        Metrics::inc(&metrics.head_truncations);
        let had_checkpoint = wal::last_checkpoint(&self.inner.dir.join("wal")).is_some();
        let started = Instant::now();
        let checkpointed = self.checkpoint_wal();
        let ok = checkpointed.is_ok();
        metrics.wal_truncation(started.elapsed(), ok);
        Metrics::inc(&metrics.checkpoint_creations);
        if !ok {
            Metrics::inc(&metrics.checkpoint_creations_failed);
        } else if had_checkpoint {
            // Writing a checkpoint deletes the one before it.
            Metrics::inc(&metrics.checkpoint_deletions);
        }
        checkpointed
    }

    /// Writes head data in `[mint, maxt)` to a block and adds it to the open blocks.
    fn write_head_block(&self, mint: i64, maxt: i64) -> Result<()> {
        let head = &self.inner.head;
        {
            // Under the commit lock, so no batch validated against the old bound is in flight.
            let _commit = self.inner.wal.lock();
            head.set_min_valid(maxt);
        }
        let mut w = SortedBlockWriter::new(&self.inner.dir, mint, maxt)?;
        let all = head.select_sorted(&[])?;
        for (labels, _, s) in all {
            let samples = s.lock().samples_in(mint, maxt.saturating_sub(1));
            if let Err(e) = w.add_series(labels, &samples) {
                w.abort();
                return Err(e);
            }
        }
        if let Some(meta) = w.finish(Compaction { level: 1, ..Compaction::default() })? {
            let b = Block::open(&self.inner.dir.join(&meta.ulid))?;
            self.add_block(Arc::new(b));
        }
        Ok(())
    }

    fn add_block(&self, b: Arc<Block>) {
        let mut blocks = self.inner.blocks.write();
        blocks.push(b);
        blocks.sort_by_key(|b| (b.meta.min_time, b.meta.max_time));
    }

    /// Cuts a new WAL segment and replaces all older segments by a checkpoint of the head.
    fn checkpoint_wal(&self) -> Result<()> {
        let (wal_dir, upto) = {
            let mut st = self.inner.wal.lock();
            let Some(w) = st.wal.as_mut() else { return Ok(()) };
            let next = w.cut()?;
            (w.dir().to_path_buf(), next - 1)
        };
        let head = &self.inner.head;
        let from = head.query_min();
        let mut recs: Vec<Vec<u8>> = Vec::new();
        let series = head.all_series();
        for part in series.chunks(1000) {
            let mut e = Encbuf::new();
            let guards: Vec<(u64, Labels)> =
                part.iter().map(|(r, s)| (*r, s.lock().labels.clone())).collect();
            let refs: Vec<(u64, &Labels)> = guards.iter().map(|(r, l)| (*r, l)).collect();
            record::encode_series(&refs, &mut e);
            recs.push(e.b);
            let mut samples: Vec<(u64, i64, f64)> = Vec::new();
            for (r, s) in part {
                for (t, v) in s.lock().samples_in(from, i64::MAX) {
                    samples.push((*r, t, v));
                }
            }
            for chunk in samples.chunks(10_000) {
                let mut e = Encbuf::new();
                record::encode_samples(chunk, &mut e);
                recs.push(e.b);
            }
        }
        wal::write_checkpoint(&wal_dir, upto, &recs)
    }

    /// Merges the blocks Prometheus' leveled compactor would pick next ([`plan::plan`]);
    /// returns how many were merged (one: a block rewritten without its tombstones).
    fn compact_blocks_once(&self) -> Result<Option<usize>> {
        let blocks: Vec<Arc<Block>> = self.inner.blocks.read().clone();
        let metas: Vec<plan::PlanBlock> = blocks
            .iter()
            .map(|b| plan::PlanBlock {
                min_time: b.meta.min_time,
                max_time: b.meta.max_time,
                num_series: b.meta.stats.num_series,
                num_tombstones: b.tombstones.read().num_intervals() as u64,
                failed: b.meta.compaction.failed,
            })
            .collect();
        let picked = plan::plan(&metas, &self.inner.opts.compaction_ranges());
        if picked.is_empty() {
            return Ok(None);
        }
        let group: Vec<Arc<Block>> = picked.iter().map(|&i| blocks[i].clone()).collect();
        let started = Instant::now();
        let merged = self.merge_blocks(&group);
        self.inner.metrics.compaction(started.elapsed(), merged.is_ok());
        merged?;
        Ok(Some(group.len()))
    }

    /// Writes the union of `group` (tombstones applied) as one block and deletes the inputs.
    fn merge_blocks(&self, group: &[Arc<Block>]) -> Result<()> {
        let mint = group.iter().map(|b| b.meta.min_time).min().unwrap_or(0);
        let maxt = group.iter().map(|b| b.meta.max_time).max().unwrap_or(0);
        // A head block rewritten alone (tombstones) stays XOR, as `clean_tombstones` keeps it.
        let format = match group {
            [b] if b.meta.compaction.level <= 1 => ChunkFormat::Xor,
            _ => self.compacted_format(),
        };
        let meta = write_merged(&self.inner.dir, group, mint, maxt, format)?;
        if let Some(meta) = meta {
            let b = Block::open(&self.inner.dir.join(&meta.ulid))?;
            self.add_block(Arc::new(b));
        }
        self.remove_blocks(group);
        Ok(())
    }

    /// The chunk encoding of blocks compaction writes.
    fn compacted_format(&self) -> ChunkFormat {
        if self.inner.opts.dense_compaction { ChunkFormat::DENSE } else { ChunkFormat::Xor }
    }

    fn remove_blocks(&self, group: &[Arc<Block>]) {
        let ids: Vec<&str> = group.iter().map(|b| b.meta.ulid.as_str()).collect();
        self.inner.blocks.write().retain(|b| !ids.contains(&b.meta.ulid.as_str()));
        for b in group {
            let tmp = b.dir.with_extension("tmp-for-deletion");
            if std::fs::rename(&b.dir, &tmp).is_ok() {
                let _ = std::fs::remove_dir_all(&tmp);
            }
        }
        sync_dir(&self.inner.dir);
    }

    /// Deletes blocks outside time or size retention. Returns how many were deleted.
    fn apply_retention(&self) -> Result<usize> {
        let opts = &self.inner.opts;
        let blocks: Vec<Arc<Block>> = self.inner.blocks.read().clone();
        let mut doomed: Vec<Arc<Block>> = Vec::new();
        if opts.retention_ms > 0
            && let Some(newest) = blocks.iter().map(|b| b.meta.max_time).max()
        {
            let cutoff = newest.saturating_sub(opts.retention_ms);
            doomed.extend(blocks.iter().filter(|b| b.meta.max_time <= cutoff).cloned());
        }
        let by_time = doomed.len();
        if opts.retention_bytes > 0 {
            let wal = wal::dir_size(&self.inner.dir.join("wal"))
                + wal::dir_size(&self.inner.dir.join(crate::db::HEAD_CHUNKS_DIR));
            let mut total: u64 = wal + blocks.iter().map(|b| b.size()).sum::<u64>();
            for b in &blocks {
                if total <= opts.retention_bytes {
                    break;
                }
                total = total.saturating_sub(b.size());
                if !doomed.iter().any(|d| d.meta.ulid == b.meta.ulid) {
                    doomed.push(b.clone());
                }
            }
        }
        let n = doomed.len();
        let metrics = &self.inner.metrics;
        if by_time > 0 {
            Metrics::inc(&metrics.time_retentions);
        }
        if n > by_time {
            Metrics::inc(&metrics.size_retentions);
        }
        if n > 0 {
            self.remove_blocks(&doomed);
        }
        Ok(n)
    }

    /// Deletes samples of matching series in `[mint, maxt]`: tombstones in blocks, rewritten
    /// chunks in the head (logged to the WAL first).
    pub fn delete_series(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<()> {
        if mint > maxt {
            return Err(TsdbError::InvalidArgument("mint after maxt".into()));
        }
        let _m = self.inner.maint.lock();
        let blocks: Vec<Arc<Block>> = self.inner.blocks.read().clone();
        for b in blocks.iter().filter(|b| b.overlaps(mint, maxt)) {
            let ids = b.select_ids(matchers)?;
            if ids.is_empty() {
                continue;
            }
            let mut t = b.tombstones.read().clone();
            for id in ids {
                let (_, chunks) = b.series(id)?;
                if let (Some(first), Some(last)) = (chunks.first(), chunks.last())
                    && chunks.iter().any(|c| c.maxt >= mint && c.mint <= maxt)
                {
                    // As Prometheus' Block.Delete: only over the series' data, not beyond.
                    t.add(id, Interval { mint: mint.max(first.mint), maxt: maxt.min(last.maxt) });
                }
            }
            t.write(&b.dir)?;
            *b.tombstones.write() = t;
        }
        let head = &self.inner.head;
        let matched = head.select_sorted(matchers)?;
        if matched.is_empty() {
            return Ok(());
        }
        // Under the commit lock: no sample is appended to these series, and no chunk of theirs
        // cut, between their intervals, drop entries and rewrite.
        let mut st = self.inner.wal.lock();
        // Each series' interval is clamped to the data it holds now, as in Prometheus ("delete
        // only until the current values and not beyond"). Replayed after a crash, the record
        // applies to the series' cached chunks, which also hold the samples appended after the
        // deletion: an interval reaching past the newest sample (the API's default end is the
        // end of time) would delete those too.
        let stones: Vec<_> = matched
            .into_iter()
            .filter_map(|(_, r, s)| {
                let (lo, hi) = s.lock().time_range()?;
                let (a, b) = (mint.max(lo), maxt.min(hi));
                (a <= b).then_some((r, a, b, s))
            })
            .collect();
        // The cached chunks of the series are voided first, so that a deletion that could not
        // say so there (a full disk) fails before anything is deleted: the chunks would come
        // back on a restart once a checkpoint dropped the tombstone record. Voided chunks of
        // a deletion that fails later come back from the WAL, which holds all head data.
        if let Some(m) = head.mapper.as_ref() {
            for (r, ..) in &stones {
                m.drop_series(*r).map_err(|e| {
                    TsdbError::io(
                        format!("record the deletion of series {r} in the head chunk cache"),
                        e,
                    )
                })?;
            }
        }
        if let Some(w) = st.wal.as_mut()
            && !stones.is_empty()
        {
            let list: Vec<(u64, i64, i64)> =
                stones.iter().map(|(r, a, b, _)| (*r, *a, *b)).collect();
            let mut e = Encbuf::new();
            record::encode_tombstones(&list, &mut e);
            w.log(&[&e.b])?;
            w.sync()?;
        }
        for (r, a, b, s) in stones {
            s.lock().delete_range(a, b, head.chunk_range, head.mapper.as_ref().map(|m| (m, r)));
        }
        Ok(())
    }

    /// Rewrites blocks that have tombstones without the deleted data.
    pub fn clean_tombstones(&self) -> Result<usize> {
        let _m = self.inner.maint.lock();
        let blocks: Vec<Arc<Block>> = self.inner.blocks.read().clone();
        let mut n = 0;
        for b in blocks.iter().filter(|b| !b.tombstones.read().is_empty()) {
            // A head block stays XOR; a compacted one keeps the compacted encoding.
            let format = if b.meta.compaction.level > 1 {
                self.compacted_format()
            } else {
                ChunkFormat::Xor
            };
            let meta = write_merged(
                &self.inner.dir,
                std::slice::from_ref(b),
                b.meta.min_time,
                b.meta.max_time,
                format,
            )?;
            if let Some(meta) = meta {
                let nb = Block::open(&self.inner.dir.join(&meta.ulid))?;
                self.add_block(Arc::new(nb));
            }
            self.remove_blocks(std::slice::from_ref(b));
            n += 1;
        }
        Ok(n)
    }

    /// Writes every block and the head as pure Prometheus blocks into `out`
    /// (`pharos tsdb export`): blocks holding dense chunks are rewritten with XOR chunks (same
    /// samples, bit for bit; deleted samples left out), the others are linked or copied.
    pub fn export(&self, out: &Path) -> Result<()> {
        self.copy_out(out, true, true)
    }

    /// Writes a consistent copy of the database into `dir`: hard links (or copies) of every
    /// block, plus the head as blocks when `with_head`.
    pub fn snapshot(&self, dir: &Path, with_head: bool) -> Result<()> {
        self.copy_out(dir, with_head, false)
    }

    fn copy_out(&self, dir: &Path, with_head: bool, pure: bool) -> Result<()> {
        let _m = self.inner.maint.lock();
        std::fs::create_dir_all(dir).map_err(|e| TsdbError::io(format!("create {dir:?}"), e))?;
        let blocks: Vec<Arc<Block>> = self.inner.blocks.read().clone();
        for b in &blocks {
            if pure && !is_pure_xor(b)? {
                let group = std::slice::from_ref(b);
                let (mint, maxt) = (b.meta.min_time, b.meta.max_time);
                write_merged(dir, group, mint, maxt, ChunkFormat::Xor)?;
            } else {
                copy_tree(&b.dir, &dir.join(&b.meta.ulid))?;
            }
        }
        if with_head {
            let head = &self.inner.head;
            let (lo, hi) = (head.min_time().max(head.query_min()), head.max_time());
            let range = self.inner.opts.block_range_ms;
            let mut start = if lo <= hi { align_down(lo, range) } else { i64::MAX };
            while start <= hi {
                let end = start.saturating_add(range);
                let mut w = SortedBlockWriter::new(dir, start, end)?;
                for (labels, _, s) in head.select_sorted(&[])? {
                    let samples = s.lock().samples_in(start.max(lo), end - 1);
                    w.add_series(labels, &samples)?;
                }
                w.finish(Compaction { level: 1, ..Compaction::default() })?;
                if end == i64::MAX {
                    break;
                }
                start = end;
            }
        }
        Ok(())
    }
}

/// True if every chunk of `b` is Prometheus' XOR (no dense chunks), so Prometheus reads it.
fn is_pure_xor(b: &Block) -> Result<bool> {
    for id in b.index.all_postings()? {
        let (_, chunks) = b.index.series(id)?;
        for c in chunks {
            if b.chunks.encoding(c.r)? != crate::chunkenc::ENCODING_XOR {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Hard-links `from` into `to` recursively, copying where linking fails.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| TsdbError::io(format!("create {to:?}"), e))?;
    let rd = std::fs::read_dir(from).map_err(|e| TsdbError::io(format!("read {from:?}"), e))?;
    for ent in rd.flatten() {
        let src = ent.path();
        let dst = to.join(ent.file_name());
        if src.is_dir() {
            copy_tree(&src, &dst)?;
        } else if std::fs::hard_link(&src, &dst).is_err() {
            std::fs::copy(&src, &dst).map_err(|e| TsdbError::io(format!("copy {src:?}"), e))?;
        }
    }
    Ok(())
}

/// Writes the merged contents of `group` within `[mint, maxt)` as a new block.
pub(crate) fn write_merged(
    parent: &Path,
    group: &[Arc<Block>],
    mint: i64,
    maxt: i64,
    format: ChunkFormat,
) -> Result<Option<BlockMeta>> {
    let mut all: Vec<(Labels, usize, u64)> = Vec::new();
    for (bi, b) in group.iter().enumerate() {
        for id in b.index.all_postings()? {
            let (labels, _) = b.series(u64::from(id))?;
            all.push((labels, bi, u64::from(id)));
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut w = SortedBlockWriter::new(parent, mint, maxt)?.with_format(format);
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        let mut samples: Vec<(i64, f64)> = Vec::new();
        while j < all.len() && all[j].0 == all[i].0 {
            let (_, bi, id) = &all[j];
            let b = &group[*bi];
            let (_, chunks) = b.series(*id)?;
            let stones: Vec<Interval> = b.tombstones.read().get(*id).to_vec();
            for c in chunks {
                let (enc, data) = b.chunks.chunk(c.r)?;
                let decoded = if enc == crate::chunkenc::dense::ENCODING_DENSE {
                    crate::chunkenc::dense::decode_all_in(data.as_ref(), Some(data.segment()))
                } else {
                    crate::chunkenc::decode_any(enc, data.as_ref())
                };
                let decoded = decoded.ok_or_else(|| {
                    TsdbError::corrupted("chunk", format!("malformed chunk (encoding {enc})"))
                })?;
                samples.extend(decoded.into_iter().filter(|s| !is_deleted(&stones, s.0)));
            }
            j += 1;
        }
        samples.sort_by_key(|s| s.0);
        samples.dedup_by_key(|s| s.0);
        if let Err(e) = w.add_series(all[i].0.clone(), &samples) {
            w.abort();
            return Err(e);
        }
        i = j;
    }
    let level = group.iter().map(|b| b.meta.compaction.level).max().unwrap_or(0) + 1;
    let mut sources: Vec<String> =
        group.iter().flat_map(|b| b.meta.compaction.sources.clone()).collect();
    sources.sort();
    sources.dedup();
    let parents = group
        .iter()
        .map(|b| BlockDesc {
            ulid: b.meta.ulid.clone(),
            min_time: b.meta.min_time,
            max_time: b.meta.max_time,
        })
        .collect();
    let level = if group.len() == 1 { group[0].meta.compaction.level.max(1) } else { level };
    w.finish(Compaction { level, sources, parents, ..Compaction::default() })
}
