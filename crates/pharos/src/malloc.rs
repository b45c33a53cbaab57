//! The system allocator's arena count, set before any thread starts.
//!
//! glibc's malloc gives threads up to eight arenas per core. The head's long-lived series,
//! label sets and chunk buffers are then spread over arenas next to the short-lived request
//! buffers each thread decodes (remote write, scrapes), and a hole left in one arena cannot be
//! reused by another: at 200 k series fed by remote write, resident memory per series was
//! 792 B with the default, 764 B with two arenas and 677 B with one (BENCHMARKS.md, TSDB).
//! Small allocations are served from glibc's per-thread caches without the arena lock, so one
//! arena costs little CPU here. A `MALLOC_ARENA_MAX` in the environment wins, as glibc reads it.

/// Limits glibc's arenas. Must run before the first thread is spawned.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(feature = "mimalloc")))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        /// Arenas the system allocator may use unless `MALLOC_ARENA_MAX` says otherwise.
        const ARENA_MAX: libc::c_int = 1;
        // SAFETY: mallopt only changes the allocator's tuning; no thread is running yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, ARENA_MAX);
        }
    }
}
