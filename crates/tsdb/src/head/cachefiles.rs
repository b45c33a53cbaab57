//! The process-wide table of head chunk cache files, and references to the chunks in them.
//!
//! A closed chunk of the head is one of a series' few per half hour, up to seven or eight a
//! series before the head is cut into a block, so its size is per-series memory. A
//! [`CacheRef`] names the file by a small id (4 bytes) and the entry by its offset (4 bytes)
//! instead of holding a counted reference to the file's map and the chunk's byte range
//! (16 bytes); the entry's own header gives the range and the chunk's end time. Reading a chunk
//! looks its file up here, under a read lock taken once per series by a query.
//!
//! Ids are never reused, so a reference to a file that was deleted (its chunks all older than
//! the head) finds nothing rather than another file's bytes. A reader that resolved a chunk
//! holds the map itself, which stays valid after the file is removed from the table.

use std::num::NonZeroU32;
use std::sync::Arc;

use memmap2::Mmap;
use parking_lot::{RwLock, RwLockReadGuard};

use crate::chunks::ChunkBytes;
use crate::encoding::read_uvarint;

/// Where a chunk of the head chunk cache is: its file's id and its entry's offset there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheRef {
    pub file: NonZeroU32,
    pub entry: u32,
}

/// Bytes of an entry before its length: series ref, mint, maxt, value of the last sample.
pub(crate) const ENTRY_HEAD: usize = 32;

/// Maps by id - 1; `None` once the file is deleted.
static FILES: RwLock<Vec<Option<Arc<Mmap>>>> = RwLock::new(Vec::new());

/// Adds a file's map to the table; `None` past 4 billion files.
pub(crate) fn register(map: Arc<Mmap>) -> Option<NonZeroU32> {
    let mut files = FILES.write();
    files.push(Some(map));
    NonZeroU32::new(u32::try_from(files.len()).ok()?)
}

/// Removes a file (deleted, or its cache closed) from the table.
pub(crate) fn unregister(id: NonZeroU32) {
    if let Some(slot) = FILES.write().get_mut(id.get() as usize - 1) {
        *slot = None;
    }
}

/// The table, read-locked: resolves any number of chunk references.
pub struct Files(RwLockReadGuard<'static, Vec<Option<Arc<Mmap>>>>);

/// Locks the table for reading.
pub fn files() -> Files {
    Files(FILES.read_recursive())
}

impl Files {
    /// The chunk's bytes and its end time, or `None` if its file is gone or the entry does
    /// not fit in it.
    pub fn chunk(&self, at: CacheRef) -> Option<(ChunkBytes, i64)> {
        let map = self.0.get(at.file.get() as usize - 1)?.as_ref()?;
        let (start, end, maxt) = entry_span(map, at.entry as usize)?;
        Some((ChunkBytes::new(map.clone(), start, end)?, maxt))
    }

    /// The chunk's end time (from its entry's header), if its file is still there.
    pub fn maxt(&self, at: CacheRef) -> Option<i64> {
        let map = self.0.get(at.file.get() as usize - 1)?.as_ref()?;
        entry_span(map, at.entry as usize).map(|s| s.2)
    }
}

/// The data range and maxt of the entry at `pos` of a mapped cache file.
fn entry_span(b: &[u8], pos: usize) -> Option<(usize, usize, i64)> {
    let maxt = b.get(pos + 16..pos + 24)?;
    let maxt = i64::from_be_bytes(maxt.try_into().ok()?);
    let (len, n) = read_uvarint(b.get(pos + ENTRY_HEAD..)?)?;
    let start = pos + ENTRY_HEAD + n;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    (end <= b.len()).then_some((start, end, maxt))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_of(bytes: &[u8]) -> Arc<Mmap> {
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, bytes).unwrap();
        // SAFETY: a private temporary file nothing else writes.
        Arc::new(unsafe { Mmap::map(&f) }.unwrap())
    }

    #[test]
    fn a_reference_resolves_to_its_entry_until_its_file_is_unregistered() {
        let mut file = vec![0xeeu8; 5];
        let entry = file.len() as u32;
        for x in [7u64, 100, 250, 0] {
            file.extend_from_slice(&x.to_be_bytes());
        }
        file.push(3);
        file.extend_from_slice(b"abc");
        file.extend_from_slice(&[0; 4]);
        let id = register(map_of(&file)).unwrap();
        let at = CacheRef { file: id, entry };
        let (bytes, maxt) = files().chunk(at).unwrap();
        assert_eq!((bytes.as_ref(), maxt), (&b"abc"[..], 250));
        assert_eq!(files().maxt(at), Some(250));
        // An entry running past the file's end is not one.
        assert!(files().chunk(CacheRef { file: id, entry: entry + 10 }).is_none());
        unregister(id);
        assert!(files().chunk(at).is_none());
        // A new file gets a new id.
        assert_ne!(register(map_of(&file)).unwrap(), id);
    }
}
