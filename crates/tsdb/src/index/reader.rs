//! Reads an index file through a memory map, verifying checksums of what it touches.

use std::collections::BTreeMap;
use std::path::Path;

use memmap2::Mmap;
use model::{Label, Labels};

use super::{ChunkMeta, MAGIC_INDEX, TOC_LEN};
use crate::encoding::{Decbuf, be32_at, crc32, read_uvarint};
use crate::error::{Result, TsdbError};

/// An opened index: symbols and the postings offset table are decoded up front, series and
/// postings lists are decoded on demand.
#[derive(Debug)]
pub struct IndexReader {
    map: Mmap,
    /// Byte offset of every symbol's length prefix, by symbol number.
    symbols: Vec<u32>,
    /// Label name -> sorted (value, postings offset).
    postings: BTreeMap<String, Vec<(String, u64)>>,
    /// Offset of the all-series postings list.
    all_postings: Option<u64>,
}

fn corrupt(why: impl Into<String>) -> TsdbError {
    TsdbError::corrupted("index", why)
}

/// Returns the `len`-prefixed (4-byte) section at `off` with its checksum verified.
fn section(b: &[u8], off: usize) -> Result<&[u8]> {
    let len = be32_at(b, off).ok_or_else(|| corrupt("section length out of range"))? as usize;
    let start = off + 4;
    let end = start.checked_add(len).filter(|&e| e + 4 <= b.len());
    let end = end.ok_or_else(|| corrupt("section out of range"))?;
    if be32_at(b, end) != Some(crc32(&b[start..end])) {
        return Err(corrupt(format!("checksum mismatch in section at {off}")));
    }
    Ok(&b[start..end])
}

impl IndexReader {
    pub fn open(path: &Path) -> Result<IndexReader> {
        let f =
            std::fs::File::open(path).map_err(|e| TsdbError::io(format!("open {path:?}"), e))?;
        // SAFETY: block index files are immutable once written.
        let map = unsafe { Mmap::map(&f) }.map_err(|e| TsdbError::io("mmap index", e))?;
        let b: &[u8] = &map;
        if b.len() < 5 + TOC_LEN || be32_at(b, 0) != Some(MAGIC_INDEX) {
            return Err(corrupt("invalid header"));
        }
        if b[4] != 2 {
            return Err(corrupt(format!("unsupported index version {}", b[4])));
        }
        let toc = &b[b.len() - TOC_LEN..];
        if be32_at(toc, 48) != Some(crc32(&toc[..48])) {
            return Err(corrupt("table of contents checksum mismatch"));
        }
        let mut d = Decbuf::new(toc);
        let sym_off = d.be64() as usize;
        let _series = d.be64();
        let _li = d.be64();
        let _lit = d.be64();
        let _postings = d.be64();
        let pot_off = d.be64() as usize;

        let sym = section(b, sym_off)?;
        let mut d = Decbuf::new(sym);
        let n = d.be32() as usize;
        let mut symbols = Vec::with_capacity(n.min(sym.len()));
        for _ in 0..n {
            let pos = sym_off + 4 + (sym.len() - d.len());
            symbols.push(pos as u32);
            d.uvarint_bytes();
        }
        d.check("index symbols")?;

        let mut postings: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
        let mut all_postings = None;
        if pot_off != 0 {
            let pot = section(b, pot_off)?;
            let mut d = Decbuf::new(pot);
            let n = d.be32();
            for _ in 0..n {
                if d.uvarint() != 2 {
                    return Err(corrupt("postings offset entry with key count != 2"));
                }
                let name = d.uvarint_str();
                let value = d.uvarint_str();
                let off = d.uvarint();
                d.check("index postings offset table")?;
                if name.is_empty() && value.is_empty() {
                    all_postings = Some(off);
                    continue;
                }
                postings.entry(name.to_string()).or_default().push((value.to_string(), off));
            }
        }
        Ok(IndexReader { map, symbols, postings, all_postings })
    }

    pub fn size(&self) -> u64 {
        self.map.len() as u64
    }

    fn symbol(&self, i: u64) -> Result<&str> {
        let off = *self.symbols.get(i as usize).ok_or_else(|| corrupt("symbol out of range"))?;
        let mut d = Decbuf::new(self.map.get(off as usize..).unwrap_or(&[]));
        let s = d.uvarint_str();
        d.check("index symbol")?;
        Ok(s)
    }

    /// Sorted label names.
    pub fn label_names(&self) -> Vec<String> {
        self.postings.keys().cloned().collect()
    }

    /// Sorted values of label `name`.
    pub fn label_values(&self, name: &str) -> Vec<String> {
        self.postings
            .get(name)
            .map(|v| v.iter().map(|(v, _)| v.clone()).collect())
            .unwrap_or_default()
    }

    /// Values of label `name` with their postings offsets.
    pub fn label_value_offsets(&self, name: &str) -> &[(String, u64)] {
        self.postings.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every series ref in the block, sorted.
    pub fn all_postings(&self) -> Result<Vec<u32>> {
        match self.all_postings {
            Some(off) => self.postings_at(off),
            None => Ok(Vec::new()),
        }
    }

    /// The postings list of `name="value"` (empty if absent).
    pub fn postings(&self, name: &str, value: &str) -> Result<Vec<u32>> {
        let Some(vals) = self.postings.get(name) else { return Ok(Vec::new()) };
        match vals.binary_search_by(|(v, _)| v.as_str().cmp(value)) {
            Ok(i) => self.postings_at(vals[i].1),
            Err(_) => Ok(Vec::new()),
        }
    }

    /// The postings list stored at `off`.
    pub fn postings_at(&self, off: u64) -> Result<Vec<u32>> {
        let s = section(&self.map, off as usize)?;
        let mut d = Decbuf::new(s);
        let n = d.be32() as usize;
        if n * 4 != d.len() {
            return Err(corrupt("postings list length mismatch"));
        }
        Ok(d.b.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect())
    }

    /// The labels and chunk metadata of series `id`.
    pub fn series(&self, id: u32) -> Result<(Labels, Vec<ChunkMeta>)> {
        let b: &[u8] = &self.map;
        let off = id as usize * 16;
        let (len, n) =
            b.get(off..).and_then(read_uvarint).ok_or_else(|| corrupt("bad series ref"))?;
        let start = off + n;
        let end = start
            .checked_add(len as usize)
            .filter(|&e| e + 4 <= b.len())
            .ok_or_else(|| corrupt("series out of range"))?;
        if be32_at(b, end) != Some(crc32(&b[start..end])) {
            return Err(corrupt(format!("series {id} checksum mismatch")));
        }
        let mut d = Decbuf::new(&b[start..end]);
        let nl = d.uvarint();
        let mut labels = Vec::with_capacity((nl as usize).min(64));
        for _ in 0..nl {
            let name = self.symbol(d.uvarint())?;
            let value = self.symbol(d.uvarint())?;
            labels.push(Label::new(name, value));
        }
        let nc = d.uvarint();
        let mut chunks = Vec::with_capacity((nc as usize).min(1024));
        let mut prev: Option<ChunkMeta> = None;
        for _ in 0..nc {
            let c = match prev {
                None => {
                    let mint = d.varint();
                    let maxt = mint.wrapping_add(d.uvarint() as i64);
                    ChunkMeta { mint, maxt, r: d.uvarint() }
                }
                Some(p) => {
                    let mint = p.maxt.wrapping_add(d.uvarint() as i64);
                    let maxt = mint.wrapping_add(d.uvarint() as i64);
                    ChunkMeta { mint, maxt, r: p.r.wrapping_add(d.varint() as u64) }
                }
            };
            chunks.push(c);
            prev = Some(c);
        }
        d.check("index series")?;
        labels.sort_by(|a, b| a.name.cmp(&b.name));
        labels.dedup_by(|a, b| a.name == b.name);
        labels.retain(|l| !l.value.is_empty());
        Ok((Labels::from_sorted_unchecked(labels), chunks))
    }
}
