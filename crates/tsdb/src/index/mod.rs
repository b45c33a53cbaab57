//! The block index file, format v2: symbols, series with chunk metadata, postings and the
//! postings offset table, closed by a table of contents. See `docs/format/index.md`.

mod reader;
mod writer;

pub use reader::IndexReader;
pub use writer::write_index;

pub const MAGIC_INDEX: u32 = 0xBAAA_D700;
pub const FORMAT_V2: u8 = 2;
const TOC_LEN: usize = 6 * 8 + 4;

/// Where a series' chunk lives and which time range it covers (both ends inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkMeta {
    pub mint: i64,
    pub maxt: i64,
    pub r: u64,
}
