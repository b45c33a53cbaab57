//! Writing blocks: a low-level writer for series already sorted by labels (used by head
//! compaction and block compaction), and [`BlockWriter`], which buffers samples in any order
//! (for backfilling, e.g. `create-blocks-from openmetrics`) and cuts aligned blocks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use model::Labels;

use crate::chunkenc::dense::{DenseEncoder, ENCODING_DENSE};
use crate::chunkenc::{ENCODING_XOR, encode_chunks};
use crate::chunks::ChunkWriter;
use crate::error::{Result, TsdbError};
use crate::index::{ChunkMeta, write_index};
use crate::meta::{BlockMeta, BlockStats, Compaction};

/// Samples per chunk, as Prometheus' head aims for.
pub const SAMPLES_PER_CHUNK: usize = 120;

/// Most samples in one dense chunk: a day at 15 s fits in two, and a query reading a short range
/// of a long block decodes at most this many samples per series.
pub const DENSE_SAMPLES_PER_CHUNK: usize = 4096;

/// The zstd level of dense chunks: compaction runs in the background, and decompression
/// speed hardly depends on the level.
pub const DENSE_ZSTD_LEVEL: i32 = 16;

/// How a block's chunks are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkFormat {
    /// Prometheus' XOR chunks of 120 samples: what Prometheus and promtool read.
    Xor,
    /// Pharos' dense chunks of up to `per_chunk` samples, zstd at `level` (compacted blocks).
    Dense { per_chunk: usize, level: i32 },
}

impl ChunkFormat {
    /// Dense chunks with the default size and level.
    pub const DENSE: ChunkFormat =
        ChunkFormat::Dense { per_chunk: DENSE_SAMPLES_PER_CHUNK, level: DENSE_ZSTD_LEVEL };
}

/// Splits `n` samples into the fewest runs of at most `max`, of nearly equal length.
fn even_runs(n: usize, max: usize) -> usize {
    let parts = n.div_ceil(max.max(1)).max(1);
    n.div_ceil(parts)
}

/// Streams sorted series into a new block directory under `parent`.
pub struct SortedBlockWriter {
    parent: PathBuf,
    tmp: PathBuf,
    ulid: String,
    chunks: ChunkWriter,
    series: Vec<(Labels, Vec<ChunkMeta>)>,
    stats: BlockStats,
    mint: i64,
    maxt: i64,
    /// Set for dense chunks.
    dense: Option<(DenseEncoder, usize)>,
    /// Dense chunks with timestamps of their own, by [`DenseEncoder::time_key`]: (segment,
    /// offset), for later chunks with the same timestamps (a target's series) to share.
    time_owners: HashMap<Vec<u8>, (u32, u64)>,
    /// Bytes of the keys in `time_owners` (bounded by [`TIME_OWNER_BYTES`]).
    time_owner_bytes: usize,
    /// Dense chunks written, by their bytes: a series whose chunk would be identical to one
    /// already written (same timestamps and values: constant series of one target, metrics
    /// exported twice under two names) refers to that chunk instead.
    written: HashMap<Vec<u8>, u64>,
    /// Bytes of the keys in `written` (bounded by [`WRITTEN_BYTES`]).
    written_bytes: usize,
}

/// Timestamps shorter than this (as a [`DenseEncoder::time_key`]; regular scrapes take about
/// 12 bytes) are not worth a reference to another chunk, which costs a second read on decode.
const MIN_SHARED_TIME_KEY: usize = 20;

/// At most this many bytes of timestamp keys are remembered per block written.
const TIME_OWNER_BYTES: usize = 64 << 20;

/// At most this many bytes of dense chunks are remembered per block written for later
/// identical chunks to refer to; chunks above [`SMALL_CHUNK`] bytes only up to a quarter of
/// it, so the small ones (constant series, about 20 bytes each) are remembered longest.
const WRITTEN_BYTES: usize = 64 << 20;
const SMALL_CHUNK: usize = 256;

impl SortedBlockWriter {
    /// Starts a block covering `[mint, maxt)`.
    pub fn new(parent: &Path, mint: i64, maxt: i64) -> Result<SortedBlockWriter> {
        let ulid = ulid::Ulid::new().to_string();
        let tmp = parent.join(format!("{ulid}.tmp-for-creation"));
        std::fs::create_dir_all(&tmp).map_err(|e| TsdbError::io(format!("create {tmp:?}"), e))?;
        let chunks = ChunkWriter::new(&tmp.join("chunks"))?;
        Ok(SortedBlockWriter {
            parent: parent.to_path_buf(),
            tmp,
            ulid,
            chunks,
            series: Vec::new(),
            stats: BlockStats::default(),
            mint,
            maxt,
            dense: None,
            time_owners: HashMap::new(),
            time_owner_bytes: 0,
            written: HashMap::new(),
            written_bytes: 0,
        })
    }

    /// Chooses the chunk encoding (XOR unless told otherwise).
    pub fn with_format(mut self, format: ChunkFormat) -> SortedBlockWriter {
        self.dense = match format {
            ChunkFormat::Xor => None,
            ChunkFormat::Dense { per_chunk, level } => {
                Some((DenseEncoder::new(level), per_chunk.max(1)))
            }
        };
        self
    }

    /// Adds one series; calls must be in increasing label order. Samples outside the block's
    /// range are dropped; a series without samples is skipped.
    pub fn add_series(&mut self, labels: Labels, samples: &[(i64, f64)]) -> Result<()> {
        let lo = samples.partition_point(|s| s.0 < self.mint);
        let hi = samples.partition_point(|s| s.0 < self.maxt);
        let samples = &samples[lo..hi.max(lo)];
        if samples.is_empty() {
            return Ok(());
        }
        if self.series.last().is_some_and(|(l, _)| *l >= labels) {
            return Err(TsdbError::InvalidArgument(format!("series out of order: {labels}")));
        }
        let mut metas = Vec::new();
        if self.dense.is_some() {
            self.add_dense(samples, &mut metas)?;
        } else {
            for (mint, maxt, data) in encode_chunks(samples, SAMPLES_PER_CHUNK) {
                let r = self.chunks.write_chunk(ENCODING_XOR, &data)?;
                metas.push(ChunkMeta { mint, maxt, r });
            }
        }
        self.stats.num_samples += samples.len() as u64;
        self.stats.num_chunks += metas.len() as u64;
        self.stats.num_series += 1;
        self.series.push((labels, metas));
        Ok(())
    }

    /// Writes `samples` as dense chunks; a chunk whose timestamps equal those of an earlier
    /// chunk in the same segment refers to them instead of storing them again, and a chunk
    /// equal to one already written is not written again: the series' index entry refers to
    /// the same chunk (Prometheus' index allows any chunk reference).
    fn add_dense(&mut self, samples: &[(i64, f64)], metas: &mut Vec<ChunkMeta>) -> Result<()> {
        let Some((enc, max)) = self.dense.as_mut() else { return Ok(()) };
        for part in samples.chunks(even_runs(samples.len(), *max)) {
            let (Some(first), Some(last)) = (part.first(), part.last()) else { continue };
            let key = enc.time_key(part);
            let shareable = key.len() >= MIN_SHARED_TIME_KEY;
            let mut data = None;
            if shareable && let Some(&(seg, off)) = self.time_owners.get(&key) {
                let d = enc.encode_shared(part, off);
                if self.chunks.segment_for(d.len()) == Some(seg) {
                    data = Some(d);
                }
            }
            let shared = data.is_some();
            let data = data.unwrap_or_else(|| enc.encode(part));
            if let Some(&r) = self.written.get(&data) {
                metas.push(ChunkMeta { mint: first.0, maxt: last.0, r });
                continue;
            }
            let r = self.chunks.write_chunk(ENCODING_DENSE, &data)?;
            let budget = if data.len() <= SMALL_CHUNK { WRITTEN_BYTES } else { WRITTEN_BYTES / 4 };
            if self.written_bytes + data.len() <= budget {
                self.written_bytes += data.len();
                self.written.insert(data, r);
            }
            if shareable && !shared && self.time_owner_bytes + key.len() <= TIME_OWNER_BYTES {
                self.time_owner_bytes += key.len();
                self.time_owners.insert(key, ((r >> 32) as u32, r & 0xffff_ffff));
            }
            metas.push(ChunkMeta { mint: first.0, maxt: last.0, r });
        }
        Ok(())
    }

    /// Writes the index and meta, then renames the directory into place. Returns `None` (and
    /// removes the directory) if no series were added.
    /// On failure (e.g. a full disk) the partial directory is removed.
    pub fn finish(self, compaction: Compaction) -> Result<Option<BlockMeta>> {
        let tmp = self.tmp.clone();
        let r = self.finish_inner(compaction);
        if r.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        r
    }

    fn finish_inner(self, compaction: Compaction) -> Result<Option<BlockMeta>> {
        let SortedBlockWriter { parent, tmp, ulid, chunks, series, stats, mint, maxt, .. } = self;
        chunks.close()?;
        if series.is_empty() {
            let _ = std::fs::remove_dir_all(&tmp);
            return Ok(None);
        }
        write_index(&tmp.join("index"), &series)?;
        // Prometheus always writes a (possibly empty) tombstones file.
        crate::tombstones::Tombstones::default().write(&tmp)?;
        let mut compaction = compaction;
        if compaction.sources.is_empty() {
            compaction.sources = vec![ulid.clone()];
        }
        let meta = BlockMeta {
            ulid: ulid.clone(),
            min_time: mint,
            max_time: maxt,
            stats,
            compaction,
            version: 1,
        };
        meta.write(&tmp)?;
        let fin = parent.join(&ulid);
        std::fs::rename(&tmp, &fin).map_err(|e| TsdbError::io(format!("rename {tmp:?}"), e))?;
        sync_dir(&parent);
        Ok(Some(meta))
    }

    /// Abandons the block, removing what was written.
    pub fn abort(self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

/// The start of the `range`-aligned block holding `t` (saturating at the ends of time).
pub fn align_down(t: i64, range: i64) -> i64 {
    t.checked_sub(t.rem_euclid(range.max(1))).unwrap_or(i64::MIN)
}

/// Best-effort fsync of a directory so renames inside it are durable.
pub fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Buffers samples of any series in any order and writes them as blocks aligned to
/// `block_range_ms` (default 2 h), as `promtool tsdb create-blocks-from` does.
pub struct BlockWriter {
    dir: PathBuf,
    block_range_ms: i64,
    /// Index of each series in `buffers`.
    index: HashMap<Labels, usize>,
    buffers: Vec<(Labels, Vec<(i64, f64)>)>,
    /// The series of the previous append: inputs usually repeat it line after line.
    last: Option<usize>,
    samples: u64,
}

impl BlockWriter {
    /// A writer that puts blocks into `dir` (created if missing).
    pub fn new(dir: &Path, block_range_ms: i64) -> Result<BlockWriter> {
        if block_range_ms <= 0 {
            return Err(TsdbError::InvalidArgument("block range must be positive".into()));
        }
        std::fs::create_dir_all(dir).map_err(|e| TsdbError::io(format!("create {dir:?}"), e))?;
        Ok(BlockWriter {
            dir: dir.to_path_buf(),
            block_range_ms,
            index: HashMap::new(),
            buffers: Vec::new(),
            last: None,
            samples: 0,
        })
    }

    /// Buffers one sample. Empty label sets are rejected.
    pub fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<()> {
        if labels.is_empty() {
            return Err(TsdbError::InvalidArgument("empty label set".into()));
        }
        let i = match self.last.filter(|&i| self.buffers[i].0 == *labels) {
            Some(i) => i,
            None => match self.index.get(labels) {
                Some(&i) => i,
                None => {
                    self.index.insert(labels.clone(), self.buffers.len());
                    self.buffers.push((labels.clone(), Vec::new()));
                    self.buffers.len() - 1
                }
            },
        };
        self.buffers[i].1.push((t, v));
        self.last = Some(i);
        self.samples += 1;
        Ok(())
    }

    /// Samples buffered since the last flush.
    pub fn buffered_samples(&self) -> u64 {
        self.samples
    }

    /// Writes everything buffered as one block per aligned range and clears the buffer.
    /// For equal timestamps in one series the last appended value wins.
    pub fn flush(&mut self) -> Result<Vec<BlockMeta>> {
        let mut series = std::mem::take(&mut self.buffers);
        self.index.clear();
        self.last = None;
        self.samples = 0;
        series.sort_by(|a, b| a.0.cmp(&b.0));
        let mut ranges: std::collections::BTreeSet<i64> = std::collections::BTreeSet::new();
        for (_, s) in series.iter_mut() {
            s.sort_by_key(|x| x.0);
            // Keep the last value for duplicate timestamps.
            let mut out: Vec<(i64, f64)> = Vec::with_capacity(s.len());
            for &x in s.iter() {
                match out.last_mut() {
                    Some(l) if l.0 == x.0 => *l = x,
                    _ => out.push(x),
                }
            }
            *s = out;
            for x in s.iter() {
                ranges.insert(align_down(x.0, self.block_range_ms));
            }
        }
        let mut metas = Vec::new();
        for start in ranges {
            let end = start.saturating_add(self.block_range_ms);
            let mut w = SortedBlockWriter::new(&self.dir, start, end)?;
            for (l, s) in &series {
                if let Err(e) = w.add_series(l.clone(), s) {
                    w.abort();
                    return Err(e);
                }
            }
            let compaction = Compaction { level: 1, ..Compaction::default() };
            if let Some(m) = w.finish(compaction)? {
                metas.push(m);
            }
        }
        Ok(metas)
    }
}
