//! The head snapshot written on a clean close (`pharos_head_snapshot`), so that the next open
//! rebuilds the head without decoding the WAL: every logged series with its ref, labels, newest
//! sample, the closed chunks it holds (those in the head chunk cache by their time range only,
//! others with their bytes), the samples of its open chunk and its out-of-order samples.
//!
//! The WAL stays the source of truth. A snapshot is used only if the WAL still ends exactly
//! where it ended at close (same last segment, same length: nothing was written or repaired
//! since) and the head chunk cache hands back every chunk the snapshot names; otherwise the
//! WAL is replayed as usual. The file is removed once read, and a crash after that replays the
//! WAL, which holds everything. See `docs/format/head-snapshot.md`.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use model::{IStr, Label, Labels};

use crate::chunkenc::{XorChunk, XorIterator};
use crate::encoding::{Decbuf, Encbuf};
use crate::error::{Result, TsdbError};
use crate::head::Head;
use crate::head::cachefiles;
use crate::head::mapper::ChunkMapper;
use crate::head::mapper::LoadedChunk;
use crate::head::refmap::RefMap;
use crate::head::restore::Building;
use crate::head::series::{ClosedChunk, MemSeries, OpenChunk};

/// The snapshot file in the data directory.
pub const SNAPSHOT_FILE: &str = "pharos_head_snapshot";
const MAGIC: &[u8; 8] = b"PHXHEAD1";
/// Magic, WAL segment, WAL length, next ref, series count.
const HEADER: usize = 8 + 4 + 8 + 8 + 8;

const CHUNK_CACHED: u8 = 0;
const CHUNK_INLINE: u8 = 1;

/// Where the WAL ended when the snapshot was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalEnd {
    pub segment: u32,
    pub len: u64,
}

/// The WAL end found in `wal_dir` now: its last segment and that file's length.
pub fn wal_end(wal_dir: &Path) -> Option<WalEnd> {
    let segment = crate::wal::list_segments(wal_dir).ok()?.last().copied()?;
    let len = std::fs::metadata(crate::wal::segment_path(wal_dir, segment)).ok()?.len();
    Some(WalEnd { segment, len })
}

/// Writes the snapshot of `head` (taken with the WAL ending at `end`) atomically to `dir`.
pub fn write(dir: &Path, head: &Head, end: WalEnd) -> Result<()> {
    let tmp = dir.join(format!("{SNAPSHOT_FILE}.tmp"));
    let io = |e| TsdbError::io(format!("write {tmp:?}"), e);
    let file = std::fs::File::create(&tmp).map_err(io)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let series = head.all_series();
    let mut e = Encbuf::new();
    e.put_bytes(MAGIC);
    e.put_be32(end.segment);
    e.put_be64(end.len);
    e.put_be64(head.next_ref());
    // The header (with the series count) is written over this placeholder at the end.
    w.write_all(&[0u8; HEADER]).map_err(io)?;
    let mut crc = 0u32;
    let mut count = 0u64;
    let mut header = e;
    let mut e = Encbuf::new();
    for (r, s) in &series {
        let s = s.lock();
        if !s.logged {
            continue;
        }
        let files = cachefiles::files();
        count += 1;
        e.put_uvarint(*r);
        e.put_uvarint(s.labels.len() as u64);
        for l in s.labels.iter() {
            e.put_uvarint_str(&l.name);
            e.put_uvarint_str(&l.value);
        }
        match s.last() {
            Some((t, v)) => {
                e.put_byte(1);
                e.put_varint(t);
                e.put_be64(v.to_bits());
            }
            None => e.put_byte(0),
        }
        // A cached chunk whose file is gone (older than the head) is left out.
        let closed: Vec<(&ClosedChunk, i64)> =
            s.closed.iter().filter_map(|c| Some((c, c.maxt(&files)?))).collect();
        e.put_uvarint(closed.len() as u64);
        for (c, maxt) in closed {
            e.put_varint(c.mint());
            e.put_varint(maxt);
            match c {
                ClosedChunk::Cached { .. } => e.put_byte(CHUNK_CACHED),
                ClosedChunk::Owned(o) => {
                    let b = o.bytes.as_ref();
                    e.put_byte(CHUNK_INLINE);
                    e.put_uvarint(b.len() as u64);
                    e.put_bytes(b);
                }
            }
        }
        match s.open.as_ref().map(|o| o.chunk.header_and_body()) {
            Some((header, body)) => {
                e.put_uvarint((header.len() + body.len()) as u64);
                e.put_bytes(&header);
                e.put_bytes(body);
            }
            None => e.put_uvarint(0),
        }
        e.put_uvarint(s.ooo().len() as u64);
        for &(t, v) in s.ooo() {
            e.put_varint(t);
            e.put_be64(v.to_bits());
        }
        if e.len() >= 1 << 16 {
            crc = crc32c::crc32c_append(crc, &e.b);
            w.write_all(&e.b).map_err(io)?;
            e.reset();
        }
    }
    crc = crc32c::crc32c_append(crc, &e.b);
    w.write_all(&e.b).map_err(io)?;
    header.put_be64(count);
    let mut trailer = Encbuf::new();
    trailer.put_be32(crc);
    trailer.put_be32(crate::encoding::crc32(&header.b));
    w.write_all(&trailer.b).map_err(io)?;
    let file = w.into_inner().map_err(|e| io(e.into_error()))?;
    std::os::unix::fs::FileExt::write_all_at(&file, &header.b, 0).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    let fin = dir.join(SNAPSHOT_FILE);
    std::fs::rename(&tmp, &fin).map_err(|e| TsdbError::io(format!("rename {tmp:?}"), e))?;
    crate::blockwriter::sync_dir(dir);
    Ok(())
}

/// A parsed snapshot, borrowing the file's bytes.
pub struct Snapshot {
    bytes: Vec<u8>,
    pub end: WalEnd,
    next_ref: u64,
    count: u64,
}

/// Reads and checks the snapshot in `dir`, if there is one.
pub fn read(dir: &Path) -> Option<Snapshot> {
    let path = dir.join(SNAPSHOT_FILE);
    let bytes = std::fs::read(&path).ok()?;
    if bytes.len() < HEADER + 8 || &bytes[..8] != MAGIC {
        tracing::warn!(file = ?path, "ignoring a head snapshot with a bad header");
        return None;
    }
    let n = bytes.len();
    let body_crc = u32::from_be_bytes(bytes[n - 8..n - 4].try_into().ok()?);
    let head_crc = u32::from_be_bytes(bytes[n - 4..].try_into().ok()?);
    if crate::encoding::crc32(&bytes[..HEADER]) != head_crc
        || crate::encoding::crc32(&bytes[HEADER..n - 8]) != body_crc
    {
        tracing::warn!(file = ?path, "ignoring a head snapshot with a bad checksum");
        return None;
    }
    let mut d = Decbuf::new(&bytes[8..HEADER]);
    let end = WalEnd { segment: d.be32(), len: d.be64() };
    let next_ref = d.be64();
    let count = d.be64();
    Some(Snapshot { bytes, end, next_ref, count })
}

/// Removes the snapshot file (and a leftover temporary one).
pub fn remove(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(SNAPSHOT_FILE));
    let _ = std::fs::remove_file(dir.join(format!("{SNAPSHOT_FILE}.tmp")));
}

/// One series entry of the body.
struct Entry<'a> {
    r: u64,
    labels: Vec<(&'a str, &'a str)>,
    last: Option<(i64, f64)>,
    /// (mint, maxt, bytes if not in the cache).
    closed: Vec<(i64, i64, Option<&'a [u8]>)>,
    open: &'a [u8],
    ooo: Vec<(i64, f64)>,
}

fn entry<'a>(d: &mut Decbuf<'a>) -> Result<Entry<'a>> {
    let r = d.uvarint();
    let n = d.uvarint();
    let mut labels = Vec::with_capacity((n as usize).min(64));
    for _ in 0..n {
        let name = d.uvarint_str();
        let value = d.uvarint_str();
        if !d.ok() {
            break;
        }
        labels.push((name, value));
    }
    let last = match d.byte() {
        0 => None,
        _ => Some((d.varint(), f64::from_bits(d.be64()))),
    };
    let nc = d.uvarint();
    let mut closed = Vec::with_capacity((nc as usize).min(64));
    for _ in 0..nc {
        let (mint, maxt) = (d.varint(), d.varint());
        let data = match d.byte() {
            CHUNK_INLINE => Some(d.uvarint_bytes()),
            _ => None,
        };
        if !d.ok() {
            break;
        }
        closed.push((mint, maxt, data));
    }
    let open = d.uvarint_bytes();
    let no = d.uvarint();
    let mut ooo = Vec::with_capacity((no as usize).min(1024));
    for _ in 0..no {
        let t = d.varint();
        let v = f64::from_bits(d.be64());
        if !d.ok() {
            break;
        }
        ooo.push((t, v));
    }
    d.check("head snapshot series")?;
    Ok(Entry { r, labels, last, closed, open, ooo })
}

impl Snapshot {
    fn body(&self) -> Decbuf<'_> {
        Decbuf::new(&self.bytes[HEADER..self.bytes.len() - 8])
    }

    /// True if every entry decodes and every chunk the snapshot expects in the head chunk
    /// cache is there, with the same time range, in the same order (`cached` as grouped for
    /// replay, `min_valid` the oldest time the head keeps).
    pub fn matches_cache(&self, cached: &RefMap<Vec<LoadedChunk>>, min_valid: i64) -> bool {
        let mut d = self.body();
        for _ in 0..self.count {
            let Ok(e) = entry(&mut d) else { return false };
            let want = e.closed.iter().filter(|c| c.2.is_none() && c.1 >= min_valid);
            let have = cached.get(&e.r).map_or(&[][..], Vec::as_slice);
            if want.clone().count() != have.len()
                || !want.zip(have).all(|(w, h)| (w.0, w.1) == (h.mint, h.maxt))
            {
                return false;
            }
        }
        d.is_empty()
    }

    /// Rebuilds the head from the snapshot (checked with [`Snapshot::matches_cache`]), taking
    /// the cached chunks from `cached`.
    pub fn restore<'s>(&'s self, head: &Head, mut cached: RefMap<Vec<LoadedChunk>>) {
        let min_valid = head.min_valid();
        head.reserve_refs(self.next_ref);
        let mut d = self.body();
        // Label strings repeat across series: each is interned process-wide once.
        let mut strings: HashMap<&'s str, IStr, ahash::RandomState> = HashMap::default();
        let mut intern = |s: &'s str| -> IStr {
            match strings.get(s) {
                Some(a) => a.clone(),
                None => {
                    let a = model::intern(s);
                    strings.insert(s, a.clone());
                    a
                }
            }
        };
        // Every entry takes several bytes: a damaged count cannot size a huge table.
        let count = usize::try_from(self.count).unwrap_or(0).min(self.bytes.len() / 8);
        let mut built = Building::with_capacity(count);
        for _ in 0..self.count {
            let Ok(e) = entry(&mut d) else { break };
            let labels = Labels::from_vec(
                e.labels.iter().map(|(n, v)| Label { name: intern(n), value: intern(v) }).collect(),
            );
            if labels.is_empty() {
                continue;
            }
            let (i, _) = built.get_or_create(&labels, e.r);
            let Some((hr, g)) = built.get_mut(i) else { continue };
            let mapper = head.mapper.as_ref().map(|m| (m, hr));
            g.logged = true;
            let mut from_cache = cached.remove(&e.r).unwrap_or_default().into_iter();
            // Exactly as many as it keeps (a pushed list would double past them).
            g.closed.reserve_exact(e.closed.iter().filter(|c| c.1 >= min_valid).count());
            // The end of the last chunk kept, as the snapshot says (checked against the cache).
            let mut kept_end = None;
            for (mint, maxt, data) in e.closed {
                if maxt < min_valid {
                    continue;
                }
                let chunk = match data {
                    Some(b) => ClosedChunk::owned(mint, maxt, b),
                    // Checked by `matches_cache`.
                    None => match from_cache.next() {
                        Some(c) => ClosedChunk::Cached { at: c.at, mint },
                        None => continue,
                    },
                };
                g.closed.push(chunk);
                kept_end = Some(maxt);
            }
            if !e.open.is_empty() {
                // A series restored before under the same labels: its chunk's end is read.
                let closed_end = kept_end.or_else(|| {
                    let last = g.closed.last()?;
                    Some(last.maxt(&cachefiles::files()).unwrap_or(i64::MAX))
                });
                restore_open(g, e.open, closed_end, min_valid, head.chunk_range, mapper);
            }
            for (t, v) in e.ooo {
                if t >= min_valid {
                    g.insert_ooo(t, v);
                }
            }
            let last = e.last.or(g.last());
            g.set_last(last);
            if let Some((lo, hi)) = g.time_range() {
                head.note_times(lo, hi);
            }
        }
        head.install(built);
    }
}

/// Puts a series' open chunk back from its bytes: resumed as it is when all of it is still
/// in the head's range, else (or if the bytes are not a whole chunk as the encoder leaves it)
/// by appending its samples again. Sets the series' newest sample to the chunk's last.
/// `closed_end` is the end of the series' last closed chunk (`i64::MAX` if unknown).
fn restore_open(
    g: &mut MemSeries,
    bytes: &[u8],
    closed_end: Option<i64>,
    min_valid: i64,
    chunk_range: i64,
    mapper: Option<(&ChunkMapper, u64)>,
) {
    let mut first = None;
    let mut last = None;
    XorIterator::new(bytes).decode_while(|t, v| {
        first.get_or_insert(t);
        last = Some((t, v));
        true
    });
    if let (Some(mint), Some((maxt, v))) = (first, last)
        && mint >= min_valid
        && g.open.is_none()
        && closed_end.is_none_or(|t| t < mint)
        && let Some(chunk) = XorChunk::resume(bytes.to_vec())
    {
        g.open = Some(OpenChunk { mint, chunk });
        g.set_last(Some((maxt, v)));
        return;
    }
    let mut it = XorIterator::new(bytes);
    while let Some((t, v)) = it.next() {
        if t >= min_valid {
            g.append(t, v, chunk_range, mapper);
        }
    }
}
