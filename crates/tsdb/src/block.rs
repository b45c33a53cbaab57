//! An opened, immutable block: `meta.json`, the memory-mapped `index` and `chunks/`, and its
//! `tombstones` (the only part that changes, by whole-file rewrite).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use model::{Labels, Matcher};
use parking_lot::RwLock;

use crate::chunks::ChunkReader;
use crate::error::Result;
use crate::index::{ChunkMeta, IndexReader};
use crate::iter::{ChunkSeriesIterator, PendingChunk};
use crate::meta::BlockMeta;
use crate::postings::IndexView;
use crate::tombstones::{Interval, Tombstones};

/// A block opened for reading.
#[derive(Debug)]
pub struct Block {
    pub dir: PathBuf,
    pub meta: BlockMeta,
    pub index: IndexReader,
    pub chunks: Arc<ChunkReader>,
    pub tombstones: RwLock<Tombstones>,
}

impl Block {
    /// Opens the block in `dir`, checking the headers and table-of-contents checksums.
    pub fn open(dir: &Path) -> Result<Block> {
        let meta = BlockMeta::read(dir)?;
        let index = IndexReader::open(&dir.join("index"))?;
        let chunks = Arc::new(ChunkReader::open(&dir.join("chunks"))?);
        let tombstones = RwLock::new(Tombstones::read(dir)?);
        Ok(Block { dir: dir.to_path_buf(), meta, index, chunks, tombstones })
    }

    /// Bytes on disk (index, chunks, meta).
    pub fn size(&self) -> u64 {
        self.index.size() + self.chunks.size + 1024
    }

    /// True if the block holds data in `[mint, maxt]` (`maxTime` is exclusive in the meta).
    pub fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.meta.min_time <= maxt && mint < self.meta.max_time
    }

    /// Sorted series ids matching `matchers`.
    pub fn select_ids(&self, matchers: &[Matcher]) -> Result<Vec<u64>> {
        crate::postings::select(self, matchers)
    }

    /// Labels and chunk metas of series `id`.
    pub fn series(&self, id: u64) -> Result<(Labels, Vec<ChunkMeta>)> {
        let id = u32::try_from(id)
            .map_err(|_| crate::error::TsdbError::corrupted("index", "series id too large"))?;
        self.index.series(id)
    }

    /// A sample iterator over `chunks` of series `id` within `[mint, maxt]`, without the chunks
    /// its tombstones delete whole; `None` if no chunk is left, a series Prometheus' block
    /// querier leaves out (so a series deleted from a block is not listed).
    pub fn iterator(
        &self,
        id: u64,
        chunks: &[ChunkMeta],
        mint: i64,
        maxt: i64,
    ) -> Option<ChunkSeriesIterator> {
        let deleted: Vec<Interval> = self.tombstones.read().get(id).to_vec();
        let whole = |c: &ChunkMeta| deleted.iter().any(|d| d.mint <= c.mint && c.maxt <= d.maxt);
        let pending: Vec<_> = chunks
            .iter()
            .filter(|c| c.maxt >= mint && c.mint <= maxt && !whole(c))
            .map(|c| (c.maxt, PendingChunk::Block { reader: self.chunks.clone(), r: c.r }))
            .collect();
        if pending.is_empty() {
            return None;
        }
        Some(ChunkSeriesIterator::new(pending, mint, maxt, deleted))
    }
}

impl IndexView for Block {
    fn values(&self, name: &str) -> Vec<String> {
        self.index.label_values(name)
    }
    fn postings(&self, name: &str, value: &str) -> Result<Vec<u64>> {
        Ok(self.index.postings(name, value)?.into_iter().map(u64::from).collect())
    }
    fn all(&self) -> Result<Vec<u64>> {
        Ok(self.index.all_postings()?.into_iter().map(u64::from).collect())
    }
}
