//! The write-ahead log: numbered segment files (`wal/00000000`, ...) of 32 KiB pages holding
//! records in Prometheus' framing (type byte, 2-byte length, CRC32C, data; records split into
//! first/middle/last fragments at page ends), plus checkpoints (`wal/checkpoint.N/`) that hold
//! the head's state as of segment N so older segments can be deleted.
//! See `docs/format/wal.md`.

pub mod dense;
pub mod record;

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use smallvec::SmallVec;

use crate::encoding::crc32;
use crate::error::{Result, TsdbError};
use crate::options::WalCompression;

pub const PAGE_SIZE: usize = 32 * 1024;
const HEADER: usize = 7;
pub const DEFAULT_SEGMENT_SIZE: u64 = 128 * 1024 * 1024;

const REC_FULL: u8 = 1;
const REC_FIRST: u8 = 2;
const REC_MIDDLE: u8 = 3;
const REC_LAST: u8 = 4;
const FLAG_SNAPPY: u8 = 0x08;
const FLAG_ZSTD: u8 = 0x10;

/// Path of segment `i` in `dir`.
pub fn segment_path(dir: &Path, i: u32) -> PathBuf {
    dir.join(format!("{i:08}"))
}

/// Segment indexes in `dir`, sorted.
pub fn list_segments(dir: &Path) -> Result<Vec<u32>> {
    let mut out = Vec::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(TsdbError::io(format!("read {dir:?}"), e)),
    };
    for ent in rd.flatten() {
        let name = ent.file_name().to_string_lossy().to_string();
        if name.len() == 8
            && name.bytes().all(|b| b.is_ascii_digit())
            && let Ok(i) = name.parse()
        {
            out.push(i);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// The newest finished checkpoint in `dir`: (index, path).
pub fn last_checkpoint(dir: &Path) -> Option<(u32, PathBuf)> {
    let rd = std::fs::read_dir(dir).ok()?;
    rd.flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let n = name.strip_prefix("checkpoint.")?;
            (n.len() == 8).then(|| n.parse::<u32>().ok()).flatten().map(|i| (i, e.path()))
        })
        .max_by_key(|x| x.0)
}

/// Frames `recs` as they would be written at `pos` (bytes into a segment). Each record is
/// given with its flag bits (compression).
fn frame(recs: &[(u8, &[u8])], mut pos: usize, out: &mut Vec<u8>) {
    for (flags, rec) in recs {
        let mut rest: &[u8] = rec;
        let mut first = true;
        loop {
            let in_page = pos % PAGE_SIZE;
            let room = PAGE_SIZE - in_page;
            if room <= HEADER {
                out.resize(out.len() + room, 0);
                pos += room;
                continue;
            }
            let take = rest.len().min(room - HEADER);
            let last = take == rest.len();
            let typ = match (first, last) {
                (true, true) => REC_FULL,
                (true, false) => REC_FIRST,
                (false, false) => REC_MIDDLE,
                (false, true) => REC_LAST,
            };
            let part = &rest[..take];
            out.push(typ | flags);
            out.extend_from_slice(&(take as u16).to_be_bytes());
            out.extend_from_slice(&crc32(part).to_be_bytes());
            out.extend_from_slice(part);
            pos += HEADER + take;
            rest = &rest[take..];
            first = false;
            if last {
                break;
            }
        }
    }
}

/// Appends records to the newest segment.
pub struct Wal {
    dir: PathBuf,
    seg_size: u64,
    file: File,
    index: u32,
    pos: u64,
    buf: Vec<u8>,
    /// Compressed records of the last [`Wal::log`] call, reused (one per record of a call).
    packed: Vec<Vec<u8>>,
    dirty: bool,
    compressor: Compressor,
}

/// zstd level for WAL records: the first of the fast levels. On a scrape's dense record it
/// takes about a third of level 1's time (node_exporter-like values, 1,000 samples: 2.4 against
/// 6.8 µs) for 12 % more bytes (1.04 against 0.93 B/sample; `benches/wal.rs`).
const ZSTD_LEVEL: i32 = -1;

/// The WAL's compressor, made with each segment (a cut carries the kind over).
enum Compressor {
    None,
    /// Boxed: the encoder holds its 2 KiB hash table.
    Snappy(Box<snap::raw::Encoder>),
    Zstd(zstd::bulk::Compressor<'static>),
}

impl Compressor {
    /// A compressor for `c`; snappy where zstd's context cannot be made.
    fn new(c: WalCompression) -> Compressor {
        match c {
            WalCompression::None => Compressor::None,
            WalCompression::Snappy => Compressor::Snappy(Box::new(snap::raw::Encoder::new())),
            WalCompression::Zstd => match zstd::bulk::Compressor::new(ZSTD_LEVEL) {
                Ok(z) => Compressor::Zstd(z),
                Err(_) => Compressor::Snappy(Box::new(snap::raw::Encoder::new())),
            },
        }
    }

    fn kind(&self) -> WalCompression {
        match self {
            Compressor::None => WalCompression::None,
            Compressor::Snappy(_) => WalCompression::Snappy,
            Compressor::Zstd(_) => WalCompression::Zstd,
        }
    }

    /// Compresses `rec` into `out` (cleared first) and returns the record's flag, or 0 (and
    /// `out` to be ignored) when it stays as it is: not compressed, or not shrunk by it.
    fn compress(&mut self, rec: &[u8], out: &mut Vec<u8>) -> u8 {
        out.clear();
        let flag = match self {
            Compressor::None => None,
            Compressor::Zstd(z) => {
                out.reserve(zstd::zstd_safe::compress_bound(rec.len()));
                z.compress_to_buffer(rec, out).is_ok().then_some(FLAG_ZSTD)
            }
            Compressor::Snappy(enc) => {
                out.resize(snap::raw::max_compress_len(rec.len()), 0);
                match enc.compress(rec, out) {
                    Ok(n) => {
                        out.truncate(n);
                        Some(FLAG_SNAPPY)
                    }
                    Err(_) => None,
                }
            }
        };
        // Kept only when it shrinks the record.
        flag.filter(|_| out.len() < rec.len()).unwrap_or(0)
    }
}

impl Wal {
    /// Starts a new segment after the newest existing one (Prometheus never appends to a
    /// segment written by an earlier process).
    pub fn open(dir: &Path, seg_size: u64) -> Result<Wal> {
        std::fs::create_dir_all(dir).map_err(|e| TsdbError::io(format!("create {dir:?}"), e))?;
        let last = list_segments(dir)?.last().copied();
        let ckpt = last_checkpoint(dir).map(|c| c.0);
        let index = match (last, ckpt) {
            (Some(l), _) => l + 1,
            (None, Some(c)) => c + 1,
            (None, None) => 0,
        };
        Wal::create(dir, index, seg_size, WalCompression::default())
    }

    fn create(dir: &Path, index: u32, seg_size: u64, compression: WalCompression) -> Result<Wal> {
        let path = segment_path(dir, index);
        let file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)
            .map_err(|e| TsdbError::io(format!("create {path:?}"), e))?;
        crate::blockwriter::sync_dir(dir);
        Ok(Wal {
            dir: dir.to_path_buf(),
            seg_size,
            file,
            index,
            pos: 0,
            buf: Vec::new(),
            packed: Vec::new(),
            dirty: false,
            compressor: Compressor::new(compression),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Index of the segment being written.
    pub fn current_segment(&self) -> u32 {
        self.index
    }

    /// Syncs and closes the current segment and starts the next. Returns the new index.
    pub fn cut(&mut self) -> Result<u32> {
        self.sync()?;
        let next = Wal::create(&self.dir, self.index + 1, self.seg_size, self.compressor.kind())?;
        *self = next;
        Ok(self.index)
    }

    /// Makes sure records of up to `bytes` (uncompressed) go into the current segment by
    /// cutting a new one first if they might not fit; returns the index of the segment the
    /// next [`Wal::log`] of at most that size writes to.
    pub fn reserve(&mut self, bytes: usize) -> Result<u32> {
        let bound = (bytes + bytes / 64 + 2 * PAGE_SIZE) as u64;
        if self.pos > 0 && self.pos + bound > self.seg_size {
            self.cut()?;
        }
        Ok(self.index)
    }

    /// Sets how the records logged from now on are compressed (snappy unless set).
    pub fn set_compression(&mut self, c: WalCompression) {
        if self.compressor.kind() != c {
            self.compressor = Compressor::new(c);
        }
    }

    /// Writes records in one `write` call, compressing those compression shrinks (Prometheus'
    /// framing: `--storage.tsdb.wal-compression-type` snappy or zstd). On failure the
    /// segment is truncated back so no partial record stays behind, and the error is returned.
    pub fn log(&mut self, recs: &[&[u8]]) -> Result<()> {
        // Compressed into buffers kept between calls (no allocation per call once they have
        // grown), each sized to the bound, so compression never fails for want of room.
        let mut packed = std::mem::take(&mut self.packed);
        if packed.len() < recs.len() {
            packed.resize_with(recs.len(), Vec::new);
        }
        let flags: SmallVec<[u8; 2]> = recs
            .iter()
            .zip(packed.iter_mut())
            .map(|(r, out)| self.compressor.compress(r, out))
            .collect();
        let framed: SmallVec<[(u8, &[u8]); 2]> = recs
            .iter()
            .zip(&packed)
            .zip(&flags)
            .map(|((r, c), &flag)| if flag == 0 { (0, *r) } else { (flag, c.as_slice()) })
            .collect();
        let res = self.write_framed(&framed);
        drop(framed);
        self.packed = packed;
        res
    }

    /// Frames records (with their flags) at the end of the segment and writes them, cutting a
    /// new segment first if they do not fit.
    fn write_framed(&mut self, framed: &[(u8, &[u8])]) -> Result<()> {
        self.buf.clear();
        frame(framed, self.pos as usize, &mut self.buf);
        if self.pos > 0 && self.pos + self.buf.len() as u64 > self.seg_size {
            self.cut()?;
            self.buf.clear();
            frame(framed, 0, &mut self.buf);
        }
        // Positional: after a failed write (e.g. a full disk) the file cursor may sit past
        // `pos`; writing there would leave a hole that replay reads as a corrupt page.
        if let Err(e) = self.file.write_all_at(&self.buf, self.pos) {
            let _ = self.file.set_len(self.pos);
            return Err(TsdbError::io("write wal", e));
        }
        self.pos += self.buf.len() as u64;
        self.dirty = true;
        Ok(())
    }

    /// Flushes written records to stable storage.
    pub fn sync(&mut self) -> Result<()> {
        if self.dirty {
            self.file.sync_data().map_err(|e| TsdbError::io("sync wal", e))?;
            self.dirty = false;
        }
        Ok(())
    }

    /// Bytes of all segments and checkpoints.
    pub fn size(&self) -> u64 {
        dir_size(&self.dir)
    }
}

/// Total size of the files under `dir`.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else { return 0 };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Where reading a segment stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corruption {
    /// Offset just after the last complete record.
    pub offset: u64,
    pub reason: String,
}

/// Calls `f` with every record of one segment's bytes. Stops at the first torn or corrupt
/// fragment and reports where the valid data ends.
pub fn read_segment(
    data: &[u8],
    mut f: impl FnMut(&[u8]) -> Result<()>,
) -> Result<Option<Corruption>> {
    let mut pos = 0usize;
    let mut good_end = 0usize;
    let mut rec: Vec<u8> = Vec::new();
    let mut in_record = false;
    let mut rec_flags = 0u8;
    // One zstd context and output buffer for the whole segment.
    let mut zstd_dec = None;
    let mut plain: Vec<u8> = Vec::new();
    let corrupt = |reason: &str, good_end: usize| {
        Ok(Some(Corruption { offset: good_end as u64, reason: reason.to_string() }))
    };
    while pos < data.len() {
        let room = PAGE_SIZE - pos % PAGE_SIZE;
        if room <= HEADER || data[pos] == 0 {
            // Padding up to the end of the page must be all zeros.
            let end = (pos + room).min(data.len());
            if data[pos..end].iter().any(|&b| b != 0) {
                return corrupt("non-zero page padding", good_end);
            }
            if in_record {
                return corrupt("record interrupted by padding", good_end);
            }
            pos = end;
            good_end = pos;
            continue;
        }
        if pos + HEADER > data.len() {
            return corrupt("torn record header", good_end);
        }
        let typ = data[pos];
        let flags = typ & (FLAG_SNAPPY | FLAG_ZSTD);
        let base = typ & 0x07;
        let len = u16::from_be_bytes([data[pos + 1], data[pos + 2]]) as usize;
        let crc = u32::from_be_bytes([data[pos + 3], data[pos + 4], data[pos + 5], data[pos + 6]]);
        let start = pos + HEADER;
        if len > room - HEADER {
            return corrupt("record fragment crosses page boundary", good_end);
        }
        if start + len > data.len() {
            return corrupt("torn record", good_end);
        }
        let part = &data[start..start + len];
        if crc32(part) != crc {
            return corrupt("record checksum mismatch", good_end);
        }
        pos = start + len;
        match base {
            REC_FULL | REC_FIRST => {
                if in_record {
                    return corrupt("unexpected record start", good_end);
                }
                rec.clear();
                rec.extend_from_slice(part);
                rec_flags = flags;
                in_record = base == REC_FIRST;
            }
            REC_MIDDLE | REC_LAST => {
                if !in_record {
                    return corrupt("record continuation without start", good_end);
                }
                rec.extend_from_slice(part);
                in_record = base == REC_MIDDLE;
            }
            _ => return corrupt("unknown record type", good_end),
        }
        if in_record {
            continue;
        }
        if rec_flags & FLAG_ZSTD != 0 {
            match unzstd(&rec, &mut zstd_dec, &mut plain) {
                Ok(()) => f(&plain)?,
                Err(()) => return corrupt("bad zstd record", good_end),
            }
        } else if rec_flags & FLAG_SNAPPY != 0 {
            // Snappy expands at most ~22x (a 3-byte copy of 64 bytes): a larger announced length
            // is corruption, and must not size an allocation.
            let claimed = snap::raw::decompress_len(&rec).unwrap_or(usize::MAX);
            if claimed > rec.len().saturating_mul(32).saturating_add(64) {
                return corrupt("bad snappy record", good_end);
            }
            let plain = snap::raw::Decoder::new()
                .decompress_vec(&rec)
                .map_err(|e| TsdbError::corrupted("wal record", e.to_string()));
            match plain {
                Ok(p) => f(&p)?,
                Err(_) => return corrupt("bad snappy record", good_end),
            }
        } else {
            f(&rec)?;
        }
        good_end = pos;
    }
    if in_record {
        return corrupt("torn record at end of segment", good_end);
    }
    Ok(None)
}

/// Records that announce more than this are decompressed by the streaming decoder, which
/// grows its output as data arrives instead of trusting the announced size.
const ZSTD_DIRECT_MAX: u64 = 64 << 20;

/// Decompresses one zstd record into `out`, reusing `dec` (a context is costly to create).
fn unzstd(
    rec: &[u8],
    dec: &mut Option<zstd::bulk::Decompressor<'static>>,
    out: &mut Vec<u8>,
) -> std::result::Result<(), ()> {
    out.clear();
    if let Ok(Some(n)) = zstd::zstd_safe::get_frame_content_size(rec)
        && n <= ZSTD_DIRECT_MAX
    {
        if dec.is_none() {
            *dec = zstd::bulk::Decompressor::new().ok();
        }
        if let Some(d) = dec.as_mut() {
            out.reserve(n as usize);
            // A record of several frames (not written by Pharos) does not fit: decoded below.
            if d.decompress_to_buffer(rec, out).is_ok_and(|got| got as u64 == n) {
                return Ok(());
            }
            out.clear();
        }
    }
    *out = zstd::stream::decode_all(rec).map_err(|_| ())?;
    Ok(())
}

/// Reads the checkpoint and every later segment, calling `f` per record. A corrupt segment is
/// truncated at its last good record and later segments are removed (with a warning), so a
/// torn tail never stops the database from starting.
pub fn replay(dir: &Path, f: impl FnMut(&[u8]) -> Result<()>) -> Result<ReplayStats> {
    replay_segments(dir, || {}, f)
}

/// [`replay`] that also calls `segment_start` before the records of each segment file
/// (checkpoint segments included), for record codings whose state is per segment.
pub fn replay_segments(
    dir: &Path,
    mut segment_start: impl FnMut(),
    mut f: impl FnMut(&[u8]) -> Result<()>,
) -> Result<ReplayStats> {
    let mut stats = ReplayStats::default();
    let mut from = 0u32;
    if let Some((ci, cpath)) = last_checkpoint(dir) {
        for s in list_segments(&cpath)? {
            let path = segment_path(&cpath, s);
            let data =
                std::fs::read(&path).map_err(|e| TsdbError::io(format!("read {path:?}"), e))?;
            segment_start();
            if let Some(c) = read_segment(&data, &mut f)? {
                return Err(TsdbError::corrupted(format!("{path:?}"), c.reason));
            }
        }
        from = ci + 1;
        stats.checkpoint = Some(ci);
    }
    let segs: Vec<u32> = list_segments(dir)?.into_iter().filter(|&s| s >= from).collect();
    for (k, &s) in segs.iter().enumerate() {
        let path = segment_path(dir, s);
        let data = std::fs::read(&path).map_err(|e| TsdbError::io(format!("read {path:?}"), e))?;
        stats.segments += 1;
        stats.bytes += data.len() as u64;
        segment_start();
        if let Some(c) = read_segment(&data, &mut f)? {
            tracing::warn!(segment = s, offset = c.offset, reason = %c.reason,
                "truncating corrupt or torn WAL tail");
            let file = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| TsdbError::io(format!("open {path:?}"), e))?;
            file.set_len(c.offset).map_err(|e| TsdbError::io("truncate wal", e))?;
            let _ = file.sync_all();
            for &later in &segs[k + 1..] {
                let _ = std::fs::remove_file(segment_path(dir, later));
            }
            stats.repaired = true;
            break;
        }
        tracing::info!(
            segment = s,
            max_segment = segs.last().copied().unwrap_or(s),
            progress = format!("{:.0}%", (k + 1) as f64 * 100.0 / segs.len() as f64),
            "WAL segment loaded"
        );
    }
    Ok(stats)
}

/// What replay found.
#[derive(Debug, Clone, Default)]
pub struct ReplayStats {
    pub checkpoint: Option<u32>,
    pub segments: u32,
    pub bytes: u64,
    pub repaired: bool,
    /// The head came from the snapshot of a clean close; the WAL was not read.
    pub from_snapshot: bool,
}

/// Writes `checkpoint.{upto}` from `recs`, then removes segments `<= upto` and older
/// checkpoints.
pub fn write_checkpoint(dir: &Path, upto: u32, recs: &[Vec<u8>]) -> Result<()> {
    let name = format!("checkpoint.{upto:08}");
    let tmp = dir.join(format!("{name}.tmp"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| TsdbError::io(format!("create {tmp:?}"), e))?;
    let mut w = Wal::create(&tmp, 0, u64::MAX, WalCompression::default())?;
    for batch in recs.chunks(64) {
        let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        w.log(&refs)?;
    }
    w.sync()?;
    drop(w);
    let fin = dir.join(&name);
    let _ = std::fs::remove_dir_all(&fin);
    std::fs::rename(&tmp, &fin).map_err(|e| TsdbError::io(format!("rename {tmp:?}"), e))?;
    crate::blockwriter::sync_dir(dir);
    for s in list_segments(dir)? {
        if s <= upto {
            let _ = std::fs::remove_file(segment_path(dir, s));
        }
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.starts_with("checkpoint.") && n != name {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(data: &[u8]) -> (Vec<Vec<u8>>, Option<Corruption>) {
        let mut got = Vec::new();
        let c = read_segment(data, |r| {
            got.push(r.to_vec());
            Ok(())
        })
        .unwrap();
        (got, c)
    }

    #[test]
    fn records_split_across_pages_roundtrip() {
        let recs: Vec<Vec<u8>> =
            (0..40).map(|i| vec![i as u8 + 1; (i * 3001) % 70_000 + 1]).collect();
        let refs: Vec<(u8, &[u8])> = recs.iter().map(|r| (0, r.as_slice())).collect();
        let mut out = Vec::new();
        frame(&refs, 0, &mut out);
        let (got, c) = read_all(&out);
        assert_eq!(c, None);
        assert_eq!(got, recs);
        // A torn tail is reported at the end of the last complete record.
        let (got, c) = read_all(&out[..out.len() - 10]);
        assert_eq!(got.len(), recs.len() - 1);
        assert!(c.is_some());
        // A flipped bit is caught by the checksum.
        let mut bad = out.clone();
        bad[HEADER + 1 + HEADER + 5] ^= 0x40;
        let (got, c) = read_all(&bad);
        assert_eq!(got.len(), 1);
        assert_eq!(c.unwrap().offset, (HEADER + 1) as u64);
    }

    #[test]
    fn zstd_records_decode_with_one_context_and_several_frames() {
        let mut dec = None;
        let mut out = Vec::new();
        let a = vec![7u8; 5000];
        let b: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
        let fa = zstd::bulk::compress(&a, 1).unwrap();
        let fb = zstd::bulk::compress(&b, 1).unwrap();
        unzstd(&fa, &mut dec, &mut out).unwrap();
        assert_eq!(out, a);
        unzstd(&fb, &mut dec, &mut out).unwrap();
        assert_eq!(out, b);
        let both = [fa.clone(), fb].concat();
        unzstd(&both, &mut dec, &mut out).unwrap();
        assert_eq!(out, [a, b].concat());
        assert!(unzstd(&fa[..fa.len() - 3], &mut dec, &mut out).is_err());
    }

    #[test]
    fn each_compression_flags_its_records_keeps_across_cuts_and_replays() {
        let rec: Vec<u8> = (0..4000u32).map(|i| (i % 7) as u8).collect();
        let kinds = [
            (WalCompression::None, 0),
            (WalCompression::Snappy, FLAG_SNAPPY),
            (WalCompression::Zstd, FLAG_ZSTD),
        ];
        for (c, flag) in kinds {
            let dir = tempfile::tempdir().unwrap();
            let mut w = Wal::open(dir.path(), DEFAULT_SEGMENT_SIZE).unwrap();
            w.set_compression(c);
            w.log(&[&rec]).unwrap();
            w.cut().unwrap();
            // One byte does not shrink: it is written as it is.
            w.log(&[&rec, b"x"]).unwrap();
            drop(w);
            for seg in [0, 1] {
                let bytes = std::fs::read(segment_path(dir.path(), seg)).unwrap();
                assert_eq!(bytes[0], REC_FULL | flag, "{c:?}, segment {seg}");
                assert_eq!(bytes.len() < rec.len(), flag != 0, "{c:?}, segment {seg}");
            }
            let last = std::fs::read(segment_path(dir.path(), 1)).unwrap();
            assert_eq!(last[last.len() - 1 - HEADER], REC_FULL, "{c:?}");
            let mut got = Vec::new();
            replay(dir.path(), |r| {
                got.push(r.to_vec());
                Ok(())
            })
            .unwrap();
            assert_eq!(got, vec![rec.clone(), rec.clone(), b"x".to_vec()], "{c:?}");
        }
    }

    #[test]
    fn full_disk_fails_the_write_without_panicking() {
        if !Path::new("/dev/full").exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/full", segment_path(dir.path(), 3)).unwrap();
        let mut w =
            Wal::create(dir.path(), 3, DEFAULT_SEGMENT_SIZE, WalCompression::default()).unwrap();
        let err = w.log(&[b"record"]).unwrap_err();
        assert!(err.to_string().contains("write wal"), "{err}");
        assert_eq!(w.pos, 0, "a failed write does not advance the segment");
    }

    #[test]
    fn replay_truncates_torn_tail_and_later_segments() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = Wal::open(dir.path(), DEFAULT_SEGMENT_SIZE).unwrap();
        w.log(&[b"one", b"two"]).unwrap();
        w.cut().unwrap();
        w.log(&[b"three"]).unwrap();
        drop(w);
        // Tear the first segment: everything after its last good record goes.
        let p = segment_path(dir.path(), 0);
        let len = std::fs::metadata(&p).unwrap().len();
        let f = OpenOptions::new().write(true).open(&p).unwrap();
        f.set_len(len - 1).unwrap();
        let mut got = Vec::new();
        let st = replay(dir.path(), |r| {
            got.push(r.to_vec());
            Ok(())
        })
        .unwrap();
        assert!(st.repaired);
        assert_eq!(got, vec![b"one".to_vec()]);
        assert!(!segment_path(dir.path(), 1).exists());
        let w = Wal::open(dir.path(), DEFAULT_SEGMENT_SIZE).unwrap();
        assert_eq!(w.current_segment(), 1);
    }
}
