//! Block chunk segment files (`chunks/000001`, ...): writing and memory-mapped reading.
//!
//! A segment starts with magic `0x85BD40DD`, version 1 and 3 padding bytes; each chunk is a
//! uvarint data length, an encoding byte, the data and a CRC32C of encoding and data. A chunk
//! reference is `segment_index << 32 | offset` (segment 000001 has index 0).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;

use crate::encoding::{Encbuf, crc32, read_uvarint};
use crate::error::{Result, TsdbError};

pub const MAGIC_CHUNKS: u32 = 0x85BD_40DD;
const HEADER_LEN: usize = 8;
/// Largest segment file before a new one is started.
pub const DEFAULT_SEGMENT_SIZE: u64 = 512 * 1024 * 1024;

/// Name of segment `index` (0-based) inside `chunks/`.
pub fn segment_name(dir: &Path, index: u32) -> PathBuf {
    dir.join(format!("{:06}", index + 1))
}

/// Writes chunks into numbered segment files.
pub struct ChunkWriter {
    dir: PathBuf,
    seg_size: u64,
    cur: Option<(BufWriter<File>, u64)>,
    seq: u32,
    files: Vec<PathBuf>,
}

impl ChunkWriter {
    pub fn new(dir: &Path) -> Result<ChunkWriter> {
        std::fs::create_dir_all(dir).map_err(|e| TsdbError::io(format!("create {dir:?}"), e))?;
        Ok(ChunkWriter {
            dir: dir.to_path_buf(),
            seg_size: DEFAULT_SEGMENT_SIZE,
            cur: None,
            seq: 0,
            files: Vec::new(),
        })
    }

    fn cut(&mut self) -> Result<()> {
        self.finish_current()?;
        let index = self.files.len() as u32;
        let path = segment_name(&self.dir, index);
        let f = File::create(&path).map_err(|e| TsdbError::io(format!("create {path:?}"), e))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        let mut h = Encbuf::new();
        h.put_be32(MAGIC_CHUNKS);
        h.put_bytes(&[1, 0, 0, 0]);
        w.write_all(&h.b).map_err(|e| TsdbError::io(format!("write {path:?}"), e))?;
        self.seq = index;
        self.files.push(path);
        self.cur = Some((w, HEADER_LEN as u64));
        Ok(())
    }

    /// Appends one chunk (`data` is the encoded chunk) and returns its reference.
    pub fn write_chunk(&mut self, encoding: u8, data: &[u8]) -> Result<u64> {
        let need = 10 + 1 + data.len() as u64 + 4;
        let must_cut = match &self.cur {
            None => true,
            Some((_, pos)) => *pos + need > self.seg_size && *pos > HEADER_LEN as u64,
        };
        if must_cut {
            self.cut()?;
        }
        let mut e = Encbuf::new();
        e.put_uvarint(data.len() as u64);
        let crc_from = e.len();
        e.put_byte(encoding);
        e.put_bytes(data);
        e.put_crc_from(crc_from);
        let seq = self.seq;
        let (w, pos) = self.cur.as_mut().ok_or(TsdbError::Closed)?;
        let r = (u64::from(seq) << 32) | *pos;
        w.write_all(&e.b).map_err(|e| TsdbError::io("write chunk", e))?;
        *pos += e.len() as u64;
        Ok(r)
    }

    /// The segment a chunk of `data_len` bytes written next would go to, if that is the
    /// current one (no new segment cut for it).
    pub fn segment_for(&self, data_len: usize) -> Option<u32> {
        let need = 10 + 1 + data_len as u64 + 4;
        let (_, pos) = self.cur.as_ref()?;
        (*pos + need <= self.seg_size || *pos <= HEADER_LEN as u64).then_some(self.seq)
    }

    fn finish_current(&mut self) -> Result<()> {
        if let Some((w, _)) = self.cur.take() {
            let f = w.into_inner().map_err(|e| TsdbError::io("flush chunks", e.into_error()))?;
            f.sync_all().map_err(|e| TsdbError::io("sync chunks", e))?;
        }
        Ok(())
    }

    /// Flushes and syncs every segment.
    pub fn close(mut self) -> Result<()> {
        self.finish_current()
    }
}

/// Memory-mapped chunk segments of one block.
#[derive(Debug)]
pub struct ChunkReader {
    segments: Vec<Arc<Mmap>>,
    pub size: u64,
}

/// A chunk's bytes, borrowed from a mapped segment. The offsets are 32-bit, as in the chunk
/// references that address segments (sequence and offset, 32 bits each), so that a head
/// series' closed chunk costs 16 bytes here instead of 24.
#[derive(Debug, Clone)]
pub struct ChunkBytes {
    map: Arc<Mmap>,
    start: u32,
    end: u32,
}

impl ChunkBytes {
    /// Bytes `start..end` of `map`; `None` if they are not all in it or end past 4 GiB.
    pub fn new(map: Arc<Mmap>, start: usize, end: usize) -> Option<ChunkBytes> {
        let (s, e) = (u32::try_from(start).ok()?, u32::try_from(end).ok()?);
        (start <= end && end <= map.len()).then_some(ChunkBytes { map, start: s, end: e })
    }
}

impl ChunkBytes {
    /// The whole mapped segment file holding this chunk (dense chunks may refer to another
    /// chunk of their segment for shared timestamps).
    pub fn segment(&self) -> &[u8] {
        &self.map
    }
}

impl AsRef<[u8]> for ChunkBytes {
    fn as_ref(&self) -> &[u8] {
        &self.map[self.start as usize..self.end as usize]
    }
}

impl ChunkReader {
    /// Maps every segment in `dir`, checking headers.
    pub fn open(dir: &Path) -> Result<ChunkReader> {
        let mut names: Vec<(u32, PathBuf)> = Vec::new();
        let rd = std::fs::read_dir(dir).map_err(|e| TsdbError::io(format!("read {dir:?}"), e))?;
        for ent in rd.flatten() {
            let name = ent.file_name().to_string_lossy().to_string();
            if let Ok(n) = name.parse::<u32>() {
                names.push((n, ent.path()));
            }
        }
        names.sort();
        let mut segments = Vec::new();
        let mut size = 0;
        for (i, (n, path)) in names.iter().enumerate() {
            if *n as usize != i + 1 {
                return Err(TsdbError::corrupted("chunks", format!("segment {n} out of sequence")));
            }
            let f = File::open(path).map_err(|e| TsdbError::io(format!("open {path:?}"), e))?;
            // SAFETY: block files are immutable once written; Pharos never modifies them in place.
            let map = unsafe { Mmap::map(&f) }.map_err(|e| TsdbError::io("mmap chunks", e))?;
            if map.len() < HEADER_LEN || crate::encoding::be32_at(&map, 0) != Some(MAGIC_CHUNKS) {
                return Err(TsdbError::corrupted(format!("{path:?}"), "invalid chunk header"));
            }
            size += map.len() as u64;
            segments.push(Arc::new(map));
        }
        Ok(ChunkReader { segments, size })
    }

    /// The encoding byte of the chunk at `r` (no checksum check: for deciding, not decoding).
    pub fn encoding(&self, r: u64) -> Result<u8> {
        let bad = || TsdbError::corrupted("chunk", format!("ref {r}: out of range"));
        let map = self.segments.get((r >> 32) as usize).ok_or_else(bad)?;
        let off = (r & 0xffff_ffff) as usize;
        let (_, n) = map.get(off..).and_then(read_uvarint).ok_or_else(bad)?;
        map.get(off + n).copied().ok_or_else(bad)
    }

    /// The chunk at `r`: encoding and data, checksum verified.
    pub fn chunk(&self, r: u64) -> Result<(u8, ChunkBytes)> {
        let seq = (r >> 32) as usize;
        let off = (r & 0xffff_ffff) as usize;
        let bad = |why: &str| TsdbError::corrupted("chunk", format!("ref {r}: {why}"));
        let map = self.segments.get(seq).ok_or_else(|| bad("no such segment"))?;
        let b: &[u8] = map;
        if off < HEADER_LEN || off >= b.len() {
            return Err(bad("offset out of range"));
        }
        let (len, n) = read_uvarint(&b[off..]).ok_or_else(|| bad("bad length"))?;
        let start = off + n;
        let end = start
            .checked_add(1)
            .and_then(|x| x.checked_add(len as usize))
            .filter(|&e| e + 4 <= b.len())
            .ok_or_else(|| bad("length out of range"))?;
        let want = crate::encoding::be32_at(b, end).ok_or_else(|| bad("no checksum"))?;
        if crc32(&b[start..end]) != want {
            return Err(bad("checksum mismatch"));
        }
        let data = ChunkBytes::new(map.clone(), start + 1, end)
            .ok_or_else(|| bad("chunk ends past 4 GiB"))?;
        Ok((b[start], data))
    }
}
