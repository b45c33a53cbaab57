//! The head chunk cache on a file system that fills up: chunks are written through the blocks
//! reserved ahead until a reservation fails, then refused (kept in memory by their series),
//! and a restart while the disk is still full reads back exactly the chunks written, even with
//! a chunk file the full disk left without an entry. The file system is a small tmpfs mounted
//! for the test (root only); without the rights to mount, the test prints "skipped: cannot
//! mount tmpfs" and passes, unless `PHAROS_REQUIRE_EXTERNAL=1`.

#![allow(clippy::unwrap_used)]

#[path = "common/tmpfs.rs"]
mod tmpfs;

use tmpfs::{Tmpfs, fill};
use tsdb::head::mapper::ChunkMapper;

fn data(r: u64) -> Vec<u8> {
    vec![(r % 251) as u8; 1000]
}

#[test]
fn a_full_disk_refuses_chunks_cleanly_and_a_restart_on_it_reads_back_the_written_ones() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mnt) = Tmpfs::mount(&dir.path().join("mnt"), "4m") else { return };
    let path = mnt.0.join("chunks");
    let mut written = Vec::new();
    let m = ChunkMapper::new(&path);
    for r in 1..=3 {
        written.push((r, m.write(r, 0, 1, 0.0, &data(r)).unwrap()));
    }
    fill(&mnt.0.join("filler"));
    // The blocks reserved ahead take chunks until they run out; then every write is refused.
    let mut refused = 0;
    for r in 4..3_000 {
        match m.write(r, 0, 1, 0.0, &data(r)) {
            Some(b) => {
                assert_eq!(refused, 0, "chunk {r} written after one was refused");
                written.push((r, b));
            }
            None => refused += 1,
        }
    }
    assert!(refused > 0, "a full disk took every chunk");
    for (r, b) in &written {
        assert_eq!(b.as_ref(), data(*r).as_slice(), "chunk {r}");
    }
    drop(m);
    let want: Vec<u64> = written.iter().map(|w| w.0).collect();

    // Restarted on the still full disk: the next file is created but gets no entry.
    let (m, found) = ChunkMapper::open(&path);
    assert_eq!(found.iter().map(|c| c.r).collect::<Vec<_>>(), want);
    assert!(m.write(5_000, 0, 1, 0.0, &data(5_000)).is_none());
    drop((m, found));

    // Restarted again, still full: that empty file is read (and dropped) without a fault.
    let (m, found) = ChunkMapper::open(&path);
    assert_eq!(found.iter().map(|c| c.r).collect::<Vec<_>>(), want);
    for c in &found {
        assert_eq!(c.data.as_ref(), data(c.r).as_slice(), "chunk {}", c.r);
    }

    // Space comes back: chunks are written again.
    std::fs::remove_file(mnt.0.join("filler")).unwrap();
    let b = m.write(6_000, 0, 1, 0.0, &data(6_000)).unwrap();
    assert_eq!(b.as_ref(), data(6_000).as_slice());
    drop((m, found, b, written));
}
