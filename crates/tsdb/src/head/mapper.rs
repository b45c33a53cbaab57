//! Writes full head chunks to disk and serves them back through memory maps, so closed chunks
//! do not stay on the heap, and hands the chunks of the previous run back on open so WAL
//! replay only has to re-append what came after them. The WAL stays the source of truth: a
//! damaged or unwritten entry ends a file's usable part, and any write failure (e.g. a full
//! disk) simply keeps the chunk in memory; a drop entry that cannot be written is an error for
//! the deletion that needs it.
//!
//! File layout (`pharos_head_chunks/000001`, ...): each file is created at its full size
//! (sparse) and mapped once; entries are appended as `series ref (8) | mint (8) | maxt (8) |
//! value of the last sample (8) | length (uvarint) | data | CRC32C of all the entry before it
//! (4)`. An entry with length 0 and mint = i64::MIN drops every earlier chunk of its series
//! (written when head data of the series is deleted); its maxt is the newest chunk time of all
//! files at that moment, so its file outlives every file it voids chunks in. See
//! `docs/format/head-chunks.md`.

use std::fs::File;
use std::num::NonZeroU32;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::{Mmap, MmapMut};
use parking_lot::Mutex;

use super::cachefiles::{self, CacheRef, ENTRY_HEAD};
use crate::chunks::ChunkBytes;
use crate::encoding::{Encbuf, crc32, read_uvarint};

/// A chunk written by an earlier run, as found on open.
#[derive(Debug, Clone)]
pub struct LoadedChunk {
    pub r: u64,
    pub mint: i64,
    pub maxt: i64,
    /// Value of the chunk's last sample (at `maxt`).
    pub last_v: f64,
    pub data: ChunkBytes,
    /// Where it is, for the series that holds it.
    pub at: CacheRef,
}
/// mint of a "drop earlier chunks of this series" entry.
const DROP_MARK: i64 = i64::MIN;

/// Size of each head chunk file.
pub const FILE_SIZE: u64 = 128 * 1024 * 1024;

/// How far ahead of the write position the current file's blocks are allocated when chunks
/// are written through its writable map.
const ALLOCATE_STEP: u64 = 1 << 20;

struct Current {
    seq: u32,
    /// Its id in [`cachefiles`], which holds its map for reading.
    id: NonZeroU32,
    file: File,
    /// The file mapped for writing, while its blocks up to `allocated` are reserved on disk
    /// (a store to a mapped page the file system cannot back kills the process with SIGBUS,
    /// so only reserved blocks are written this way); `None`: written with `pwrite`.
    wmap: Option<MmapMut>,
    allocated: u64,
    /// The writable map's pages below this are no longer in this process' page tables.
    released: u64,
    pos: u64,
    maxt: i64,
}

impl Current {
    /// Writes `parts` (`len` bytes in all) at the write position: a copy into the writable
    /// map when the blocks can be reserved, else one `pwrite`.
    fn put(&mut self, parts: &[&[u8]], len: u64) -> std::io::Result<()> {
        let end = self.pos + len;
        if self.wmap.is_some() && end > self.allocated {
            let to = end.div_ceil(ALLOCATE_STEP).saturating_mul(ALLOCATE_STEP).min(FILE_SIZE);
            if reserve(&self.file, self.allocated, to - self.allocated) {
                self.allocated = to;
                self.release();
            } else {
                self.wmap = None;
            }
        }
        match self.wmap.as_mut() {
            Some(w) => {
                let mut at = self.pos as usize;
                for p in parts {
                    let to = w.get_mut(at..at + p.len()).ok_or_else(|| {
                        std::io::Error::other("head chunk entry past the end of its file")
                    })?;
                    to.copy_from_slice(p);
                    at += p.len();
                }
            }
            None => {
                let mut buf = Vec::with_capacity(len as usize);
                for p in parts {
                    buf.extend_from_slice(p);
                }
                self.file.write_all_at(&buf, self.pos)?;
            }
        }
        Ok(())
    }
}

impl Current {
    /// Takes the writable map's pages below the write position (rounded down to 64 KiB, a
    /// multiple of any page size) out of this process' page tables: nothing writes there
    /// again, and left mapped, every page written would count in the process' resident memory
    /// until the file is finished (up to 128 MiB). The pages stay in the page cache, dirty
    /// ones included, and readers reach them through `map` as before.
    fn release(&mut self) {
        let upto = self.pos & !0xffff;
        if upto <= self.released {
            return;
        }
        let Some(range) =
            self.wmap.as_mut().and_then(|w| w.get_mut(self.released as usize..upto as usize))
        else {
            return;
        };
        // SAFETY: the range is inside this file's shared writable map and holds no Rust
        // references; MADV_DONTNEED on a shared file mapping only drops the page table
        // entries (a later store would map the file's pages again).
        let ok = unsafe {
            libc::madvise(range.as_mut_ptr().cast(), range.len(), libc::MADV_DONTNEED) == 0
        };
        if ok {
            self.released = upto;
        }
    }
}

/// Reserves the blocks of `len` bytes of `file` from `offset` (`fallocate`), so that stores
/// to them through a shared map cannot fail for want of space. False if the file system
/// cannot (full, or no `fallocate`).
fn reserve(file: &File, offset: u64, len: u64) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
            return false;
        };
        // SAFETY: a plain system call on a file descriptor `file` keeps open; mode 0 only
        // allocates blocks (reading as zeros) within the file's size.
        unsafe { libc::fallocate(file.as_raw_fd(), 0, offset, len) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (file, offset, len);
        false
    }
}

#[derive(Default)]
struct State {
    /// Finished files: (seq, newest chunk time, id in [`cachefiles`]).
    done: Vec<(u32, i64, NonZeroU32)>,
    /// The maps of the files of earlier runs, until [`ChunkMapper::release_loaded`].
    loaded: Vec<Arc<Mmap>>,
    cur: Option<Current>,
    next_seq: u32,
}

/// The head chunk disk cache.
pub struct ChunkMapper {
    dir: PathBuf,
    state: Mutex<State>,
}

impl ChunkMapper {
    /// Clears `dir` and starts an empty cache there.
    pub fn new(dir: &Path) -> ChunkMapper {
        let _ = std::fs::remove_dir_all(dir);
        let _ = std::fs::create_dir_all(dir);
        ChunkMapper {
            dir: dir.to_path_buf(),
            state: Mutex::new(State { next_seq: 1, ..State::default() }),
        }
    }

    /// Opens the cache in `dir` (created if missing) and returns the chunks earlier runs left
    /// there, per series in the order written, with chunks dropped by later drop entries left
    /// out. New chunks go to new files; old files are deleted by [`ChunkMapper::truncate`] once
    /// all their chunks are older than the head.
    pub fn open(dir: &Path) -> (ChunkMapper, Vec<LoadedChunk>) {
        let _ = std::fs::create_dir_all(dir);
        let mut files: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().to_string();
                        let seq = (name.len() == 6).then(|| name.parse::<u32>().ok()).flatten()?;
                        Some((seq, e.path()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        let mut st = State { next_seq: 1, ..State::default() };
        let mut found: Vec<LoadedChunk> = Vec::new();
        let mut drops = Drops::default();
        for (seq, path) in files {
            st.next_seq = st.next_seq.max(seq + 1);
            let maxt = File::open(&path).ok().and_then(|f| {
                let written = written_len(&f);
                // SAFETY: files of earlier runs are only read, and only deleted (never changed)
                // while mapped.
                let map = Arc::new(unsafe { Mmap::map(&f) }.ok()?);
                let id = cachefiles::register(map.clone())?;
                st.loaded.push(map.clone());
                Some((scan(map, id, written, &mut found, &mut drops), id))
            });
            match maxt {
                Some((Some(maxt), id)) => st.done.push((seq, maxt, id)),
                other => {
                    if let Some((_, id)) = other {
                        cachefiles::unregister(id);
                    }
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        // Applied once at the end: per drop entry, a pass over all chunks found so far was
        // quadratic in a run that deleted many series.
        if !drops.is_empty() {
            let mut at = 0;
            found.retain(|c| {
                let keep = drops.get(&c.r).is_none_or(|&upto| at >= upto);
                at += 1;
                keep
            });
        }
        (ChunkMapper { dir: dir.to_path_buf(), state: Mutex::new(st) }, found)
    }

    fn open_file(&self, seq: u32) -> std::io::Result<Current> {
        let path = self.dir.join(format!("{seq:06}"));
        let file =
            File::options().create(true).truncate(true).read(true).write(true).open(&path)?;
        file.set_len(FILE_SIZE)?;
        // SAFETY: the file is private to this process; bytes are written once, before the
        // range holding them is handed out, and never changed afterwards.
        let map = unsafe { Mmap::map(&file) }?;
        // SAFETY: as above; this map is only written beyond the entries handed out.
        let wmap = unsafe { MmapMut::map_mut(&file) }.ok();
        let map = Arc::new(map);
        let id = cachefiles::register(map.clone())
            .ok_or_else(|| std::io::Error::other("too many head chunk files"))?;
        Ok(Current { seq, id, file, wmap, allocated: 0, released: 0, pos: 0, maxt: i64::MIN })
    }

    /// Writes series `r`'s chunk (whose last sample is `(maxt, last_v)`) and returns where it
    /// is, or `None` if it could not be written.
    pub fn write(
        &self,
        r: u64,
        mint: i64,
        maxt: i64,
        last_v: f64,
        data: &[u8],
    ) -> Option<CacheRef> {
        // The entry's head, then the data, then the CRC of both, written in one go.
        let mut head = [0u8; ENTRY_HEAD + 10];
        for (i, x) in [r, mint as u64, maxt as u64, last_v.to_bits()].into_iter().enumerate() {
            head[i * 8..i * 8 + 8].copy_from_slice(&x.to_be_bytes());
        }
        let mut start = ENTRY_HEAD;
        let mut len = data.len() as u64;
        while len >= 0x80 {
            head[start] = (len as u8) | 0x80;
            len >>= 7;
            start += 1;
        }
        head[start] = len as u8;
        start += 1;
        let head = &head[..start];
        let crc = crc32c::crc32c_append(crc32(head), data).to_be_bytes();
        let need = (start + data.len() + crc.len()) as u64;
        if need > FILE_SIZE {
            return None;
        }
        let mut st = self.state.lock();
        let full = st.cur.as_ref().is_none_or(|c| c.pos + need > FILE_SIZE);
        if full {
            if let Some(c) = st.cur.take() {
                st.done.push((c.seq, c.maxt, c.id));
            }
            let seq = st.next_seq;
            st.next_seq += 1;
            st.cur = Some(self.open_file(seq).ok()?);
        }
        let cur = st.cur.as_mut()?;
        cur.put(&[head, data, &crc], need).ok()?;
        let at = CacheRef { file: cur.id, entry: u32::try_from(cur.pos).ok()? };
        cur.pos += need;
        cur.maxt = cur.maxt.max(maxt);
        Some(at)
    }

    /// Records that every chunk of series `r` written so far is void (its head data is about
    /// to be rewritten by a deletion), so the next open does not hand them back. An error (a
    /// full disk) means they would come back: the deletion must not go ahead, or not write
    /// the rewritten chunks here, which would come back alongside the old ones.
    pub fn drop_series(&self, r: u64) -> std::io::Result<()> {
        let mut st = self.state.lock();
        let horizon = st
            .done
            .iter()
            .map(|d| d.1)
            .chain(st.cur.as_ref().map(|c| c.maxt))
            .max()
            .unwrap_or(i64::MIN);
        let mut e = Encbuf::new();
        e.put_be64(r);
        e.put_be64(DROP_MARK as u64);
        e.put_be64(horizon as u64);
        e.put_be64(0);
        e.put_uvarint(0);
        let crc = crc32(&e.b);
        e.put_be32(crc);
        let full = st.cur.as_ref().is_none_or(|c| c.pos + e.len() as u64 > FILE_SIZE);
        if full {
            if let Some(c) = st.cur.take() {
                st.done.push((c.seq, c.maxt, c.id));
            }
            let seq = st.next_seq;
            st.next_seq += 1;
            st.cur = Some(self.open_file(seq)?);
        }
        let Some(cur) = st.cur.as_mut() else {
            return Err(std::io::Error::other("no head chunk file"));
        };
        cur.put(&[&e.b], e.len() as u64)?;
        cur.pos += e.len() as u64;
        cur.maxt = cur.maxt.max(horizon);
        Ok(())
    }

    /// Takes the pages of the files of earlier runs out of this process' page tables. Opening
    /// reads every entry (to check it) and the restore reads the newest chunk of each series:
    /// left mapped, all those pages count in the process' resident memory (about 1.5 KB a
    /// series after a restart with a 2 h head) until the kernel reclaims them. They stay in the
    /// page cache; a query that reads a chunk maps its page again.
    pub fn release_loaded(&self) {
        let maps = std::mem::take(&mut self.state.lock().loaded);
        for map in maps {
            // SAFETY: the map is a shared, read-only file mapping that nothing writes;
            // MADV_DONTNEED on it only drops page table entries (a later read maps the file's
            // page again), so no reference into it sees different bytes.
            unsafe {
                libc::madvise(map.as_ptr() as *mut libc::c_void, map.len(), libc::MADV_DONTNEED);
            }
        }
    }

    /// Deletes every file of the cache, those of earlier runs and the one being written: their
    /// chunks are void. New chunks go to a new file. Readers still holding chunks keep their
    /// mappings alive.
    pub fn discard(&self) {
        let mut st = self.state.lock();
        let cur = st.cur.take().map(|c| (c.seq, c.id));
        for (seq, id) in st.done.drain(..).map(|d| (d.0, d.2)).chain(cur) {
            cachefiles::unregister(id);
            let _ = std::fs::remove_file(self.dir.join(format!("{seq:06}")));
        }
    }

    /// Deletes finished files whose chunks all end before `mint`. Readers still holding
    /// chunks keep their mappings alive.
    pub fn truncate(&self, mint: i64) {
        let mut st = self.state.lock();
        let dir = &self.dir;
        st.done.retain(|&(seq, maxt, id)| {
            if maxt < mint {
                cachefiles::unregister(id);
                let _ = std::fs::remove_file(dir.join(format!("{seq:06}")));
                false
            } else {
                true
            }
        });
    }
}

impl Drop for ChunkMapper {
    /// Takes the cache's files out of the table (they stay on disk for the next open).
    fn drop(&mut self) {
        let st = self.state.get_mut();
        for id in st.done.iter().map(|d| d.2).chain(st.cur.as_ref().map(|c| c.id)) {
            cachefiles::unregister(id);
        }
    }
}

/// How much of `file` from its start holds data: up to its first hole (`SEEK_HOLE`), or all of
/// it where the file system cannot tell. Entries are written one after the other from the
/// start, so none lies beyond; and on tmpfs, reading a hole through a shared map allocates a
/// page, which on a full file system kills the process with SIGBUS (a file the previous run
/// created on a full disk, whose first entry could not be written, is all hole).
fn written_len(file: &File) -> u64 {
    let len = file.metadata().map_or(0, |m| m.len());
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a plain system call on a descriptor `file` keeps open; it only moves the
        // file's offset, which nothing here reads from.
        let hole = unsafe { libc::lseek(file.as_raw_fd(), 0, libc::SEEK_HOLE) };
        if let Ok(hole) = u64::try_from(hole) {
            return hole.min(len);
        }
    }
    len
}

/// Per series ref with a drop entry: how many chunks (of all files, in the order found) came
/// before its last one; those of the series are void.
type Drops = std::collections::HashMap<u64, usize, ahash::RandomState>;

/// Reads the entries of one file into `out` (drop entries into `drops`), up to the first
/// damaged or unwritten one, within its first `written` bytes (see [`written_len`]). Returns the
/// newest chunk time in the file, `None` if it has no entry.
fn scan(
    map: Arc<Mmap>,
    id: NonZeroU32,
    written: u64,
    out: &mut Vec<LoadedChunk>,
    drops: &mut Drops,
) -> Option<i64> {
    let written = usize::try_from(written).unwrap_or(usize::MAX).min(map.len());
    let b: &[u8] = &map[..written];
    let be64 =
        |at: usize| b.get(at..at + 8).map(|x| u64::from_be_bytes(x.try_into().unwrap_or([0; 8])));
    let mut pos = 0usize;
    let mut newest = None;
    while let Some(r) = be64(pos).filter(|&r| r != 0) {
        let (Some(mint), Some(maxt), Some(last)) = (be64(pos + 8), be64(pos + 16), be64(pos + 24))
        else {
            break;
        };
        let Some((len, n)) = b.get(pos + ENTRY_HEAD..).and_then(read_uvarint) else { break };
        let start = pos + ENTRY_HEAD + n;
        let Some(end) = start.checked_add(len as usize).filter(|&e| e + 4 <= b.len()) else {
            break;
        };
        let want = u32::from_be_bytes([b[end], b[end + 1], b[end + 2], b[end + 3]]);
        if crc32(&b[pos..end]) != want {
            break;
        }
        let (mint, maxt) = (mint as i64, maxt as i64);
        newest = Some(newest.map_or(maxt, |m: i64| m.max(maxt)));
        if len == 0 && mint == DROP_MARK {
            drops.insert(r, out.len());
        } else if let Some(data) = ChunkBytes::new(map.clone(), start, end) {
            let Ok(entry) = u32::try_from(pos) else { break };
            let at = CacheRef { file: id, entry };
            out.push(LoadedChunk { r, mint, maxt, last_v: f64::from_bits(last), data, at });
        }
        pos = end + 4;
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes of the chunk at `at`.
    fn bytes(at: CacheRef) -> Vec<u8> {
        cachefiles::files().chunk(at).unwrap().0.as_ref().to_vec()
    }

    #[test]
    fn chunks_come_back_from_the_map() {
        let dir = tempfile::tempdir().unwrap();
        let m = ChunkMapper::new(&dir.path().join("hc"));
        let a = m.write(7, 1, 2, 0.5, b"hello").unwrap();
        let b = m.write(7, 3, 4, 1.5, b"world!").unwrap();
        assert_eq!(bytes(a), b"hello");
        assert_eq!(bytes(b), b"world!");
    }

    #[test]
    fn chunks_written_past_each_reserved_step_come_back_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hc");
        let data = |r: u64| vec![(r % 251) as u8; 200 + (r % 300) as usize];
        let mut wrote = 0u64;
        {
            let m = ChunkMapper::new(&path);
            let mut r = 1;
            while wrote < 3 * ALLOCATE_STEP + 1000 {
                let d = data(r);
                let got = m.write(r, r as i64, r as i64 + 1, r as f64, &d).unwrap();
                assert_eq!(bytes(got), d);
                wrote += d.len() as u64;
                r += 1;
            }
        }
        let (_, found) = ChunkMapper::open(&path);
        assert_eq!(found.iter().map(|c| c.data.as_ref().len() as u64).sum::<u64>(), wrote);
        for (i, c) in found.iter().enumerate() {
            let r = i as u64 + 1;
            assert_eq!((c.r, c.mint, c.maxt, c.last_v), (r, r as i64, r as i64 + 1, r as f64));
            assert_eq!(c.data.as_ref(), data(r).as_slice());
        }
    }

    /// Resident kilobytes of this process' maps of `path` (from /proc/self/smaps).
    fn resident_kb_of_maps(path: &Path) -> Option<u64> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let name = path.to_str()?;
        let mut total = 0;
        let mut lines = smaps.lines();
        while lines.by_ref().any(|l| l.ends_with(name)) {
            let rss = lines.find(|l| l.starts_with("Rss:"))?;
            total += rss.split_whitespace().nth(1)?.parse::<u64>().ok()?;
        }
        Some(total)
    }

    #[test]
    fn pages_written_through_the_map_leave_the_resident_set() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hc");
        let m = ChunkMapper::new(&path);
        let data = vec![0x5au8; 1000];
        for r in 1..=8_000 {
            // The returned bytes are not read: reading maps them again.
            m.write(r, 0, 1, 0.0, &data).unwrap();
        }
        if m.state.lock().cur.as_ref().is_none_or(|c| c.wmap.is_none()) {
            return;
        }
        let kb = resident_kb_of_maps(&path.join("000001")).unwrap();
        assert!(kb <= 2048, "{kb} kB of 8 MB written resident");
    }

    #[test]
    fn reopening_returns_the_chunks_minus_dropped_series_and_stops_at_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hc");
        {
            let m = ChunkMapper::new(&path);
            m.write(1, 10, 20, 2.5, b"one").unwrap();
            m.write(2, 10, 20, 3.5, b"two").unwrap();
            m.write(1, 21, 30, 4.5, b"three").unwrap();
            m.drop_series(2).unwrap();
            m.write(3, 5, 6, 5.5, b"four").unwrap();
            // Written after the drop entry (a deletion's rewritten chunk): kept.
            m.write(2, 40, 41, 7.5, b"two again").unwrap();
        }
        let (m, found) = ChunkMapper::open(&path);
        let got: Vec<(u64, i64, i64, f64, Vec<u8>)> = found
            .iter()
            .map(|c| (c.r, c.mint, c.maxt, c.last_v, c.data.as_ref().to_vec()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, 10, 20, 2.5, b"one".to_vec()),
                (1, 21, 30, 4.5, b"three".to_vec()),
                (3, 5, 6, 5.5, b"four".to_vec()),
                (2, 40, 41, 7.5, b"two again".to_vec()),
            ]
        );
        // New chunks go to a new file; the old one is still read on the next open.
        m.write(4, 40, 50, 6.5, b"five").unwrap();
        drop(m);
        // Damage the last entry of the first file: it and what follows are ignored.
        let first = path.join("000001");
        let mut bytes = std::fs::read(&first).unwrap();
        let at = bytes.windows(4).position(|w| w == b"four").unwrap();
        bytes[at] ^= 0xff;
        std::fs::write(&first, &bytes).unwrap();
        let (_, found) = ChunkMapper::open(&path);
        let refs: Vec<u64> = found.iter().map(|c| c.r).collect();
        assert_eq!(refs, vec![1, 1, 4]);
    }
}
