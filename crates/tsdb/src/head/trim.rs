//! Handing freed heap memory back to the kernel after waves of chunk cuts.
//!
//! Series fill their open chunks at the same pace, so they cut them at about the same time:
//! every series frees its full chunk's buffer (a few hundred bytes, just written to the head
//! chunk cache) within a few commits, and its new open chunk starts small. glibc's allocator
//! keeps such freed memory resident in the middle of the heap until later allocations of the
//! same sizes reuse it, a quarter of the head's resident memory right after a cut. Once enough
//! chunk buffers were freed, [`maybe_release`] asks the allocator to return free pages
//! (`malloc_trim`, which only `madvise`s whole free pages away; a no-op elsewhere than glibc).
//! [`release`] does it at once: after WAL replay, and at the end of every `Db::maintain`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Freed chunk bytes after which the heap is trimmed.
const RELEASE_AFTER: u64 = 4 << 20;

static FREED: AtomicU64 = AtomicU64::new(0);

/// Every byte ever noted, never reset (for tests: parallel ones only add to it).
#[cfg(test)]
static NOTED: AtomicU64 = AtomicU64::new(0);

/// Records `bytes` of chunk buffers freed.
pub fn note_freed(bytes: usize) {
    FREED.fetch_add(bytes as u64, Ordering::Relaxed);
    #[cfg(test)]
    NOTED.fetch_add(bytes as u64, Ordering::Relaxed);
}

/// Bytes noted by [`note_freed`] since the process started.
#[cfg(test)]
pub fn noted() -> u64 {
    NOTED.load(Ordering::Relaxed)
}

/// Returns free heap pages to the kernel if enough chunk buffers were freed since the last
/// time. Call without holding locks: it takes the allocator's locks for a few milliseconds.
pub fn maybe_release() {
    if FREED.load(Ordering::Relaxed) < RELEASE_AFTER {
        return;
    }
    FREED.store(0, Ordering::Relaxed);
    release();
}

/// Returns free heap pages to the kernel now.
pub fn release() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim takes glibc's allocator locks itself and only releases pages
        // of free chunks; memory in use is untouched.
        unsafe {
            malloc_trim(0);
        }
    }
}
