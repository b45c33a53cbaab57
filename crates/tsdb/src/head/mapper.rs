//! Writes full head chunks to disk and serves them back through memory maps, so closed chunks
//! do not stay on the heap. The files (`pharos_head_chunks/000001`, ...) are a cache: the WAL
//! stays the source of truth, the directory is cleared on open, and any write failure (e.g. a
//! full disk) simply keeps the chunk in memory.
//!
//! File layout: each file is created at its full size (sparse) and mapped once; chunks are
//! appended as `mint (8) | maxt (8) | length (uvarint) | data | CRC32C of data (4)`.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use parking_lot::Mutex;

use crate::chunks::ChunkBytes;
use crate::encoding::{Encbuf, crc32};

/// Size of each head chunk file.
pub const FILE_SIZE: u64 = 128 * 1024 * 1024;

struct Current {
    seq: u32,
    file: File,
    map: Arc<Mmap>,
    pos: u64,
    maxt: i64,
}

#[derive(Default)]
struct State {
    /// Finished files: (seq, newest chunk time).
    done: Vec<(u32, i64)>,
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

    fn open_file(&self, seq: u32) -> Option<Current> {
        let path = self.dir.join(format!("{seq:06}"));
        let file =
            File::options().create(true).truncate(true).read(true).write(true).open(&path).ok()?;
        file.set_len(FILE_SIZE).ok()?;
        // SAFETY: the file is private to this process; bytes are written once, before the
        // range holding them is handed out, and never changed afterwards.
        let map = unsafe { Mmap::map(&file) }.ok()?;
        Some(Current { seq, file, map: Arc::new(map), pos: 0, maxt: i64::MIN })
    }

    /// Writes a chunk and returns its mapped bytes, or `None` if it could not be written.
    pub fn write(&self, mint: i64, maxt: i64, data: &[u8]) -> Option<ChunkBytes> {
        let mut e = Encbuf::new();
        e.put_be64(mint as u64);
        e.put_be64(maxt as u64);
        e.put_uvarint(data.len() as u64);
        let start = e.len();
        e.put_bytes(data);
        e.put_be32(crc32(data));
        let need = e.len() as u64;
        if need > FILE_SIZE {
            return None;
        }
        let mut st = self.state.lock();
        let full = st.cur.as_ref().is_none_or(|c| c.pos + need > FILE_SIZE);
        if full {
            if let Some(c) = st.cur.take() {
                st.done.push((c.seq, c.maxt));
            }
            let seq = st.next_seq;
            st.next_seq += 1;
            st.cur = Some(self.open_file(seq)?);
        }
        let cur = st.cur.as_mut()?;
        cur.file.write_all_at(&e.b, cur.pos).ok()?;
        let off = cur.pos as usize + start;
        cur.pos += need;
        cur.maxt = cur.maxt.max(maxt);
        ChunkBytes::new(cur.map.clone(), off, off + data.len())
    }

    /// Deletes finished files whose chunks all end before `mint`. Readers still holding
    /// chunks keep their mappings alive.
    pub fn truncate(&self, mint: i64) {
        let mut st = self.state.lock();
        let dir = &self.dir;
        st.done.retain(|(seq, maxt)| {
            if *maxt < mint {
                let _ = std::fs::remove_file(dir.join(format!("{seq:06}")));
                false
            } else {
                true
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_come_back_from_the_map() {
        let dir = tempfile::tempdir().unwrap();
        let m = ChunkMapper::new(&dir.path().join("hc"));
        let a = m.write(1, 2, b"hello").unwrap();
        let b = m.write(3, 4, b"world!").unwrap();
        assert_eq!(a.as_ref(), b"hello");
        assert_eq!(b.as_ref(), b"world!");
    }
}
