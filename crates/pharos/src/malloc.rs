//! The system allocator's settings: its arena count, set before any thread starts, and
//! transparent huge pages for the heap of the server.
//!
//! glibc's malloc gives threads up to eight arenas per core. The head's long-lived series,
//! label sets and chunk buffers are then spread over arenas next to the short-lived request
//! buffers each thread decodes (remote write, scrapes), and a hole left in one arena cannot be
//! reused by another: at 200 k series fed by remote write, resident memory per series was
//! 792 B with the default, 764 B with two arenas and 677 B with one (BENCHMARKS.md, TSDB).
//! Small allocations are served from glibc's per-thread caches without the arena lock, so one
//! arena costs little CPU here. A `MALLOC_ARENA_MAX` in the environment wins, as glibc reads it.
//!
//! Every appended sample touches its series, its open chunk's buffer and the head's ref table:
//! a few cache lines picked at random from a heap of hundreds of megabytes. With 4 KiB pages
//! each of them is also a TLB miss, and under a hypervisor a miss walks two levels of page
//! tables, whose entries compete for the cache with the data. Where the kernel hands out
//! transparent huge pages only on request (`madvise` mode, the default of several
//! distributions), glibc asks for them when told so by its `glibc.malloc.hugetlb=1` tunable,
//! which it reads only from the environment at start: the server re-executes itself once with
//! the tunable added. At 100 k series scraped every second this took the CPU per sample from
//! 1.4–1.7 µs to 0.43–0.49 µs in interleaved runs, with the same resident memory
//! (BENCHMARKS.md, Scraping). A `GLIBC_TUNABLES` that already names the tunable is left as it
//! is (`glibc.malloc.hugetlb=0` turns it off).

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

/// The glibc tunable that makes malloc request transparent huge pages for the memory it maps.
#[cfg(all(target_os = "linux", target_env = "gnu", not(feature = "mimalloc")))]
const HUGETLB_TUNABLE: &str = "glibc.malloc.hugetlb";

/// Re-executes this binary with the same arguments and `glibc.malloc.hugetlb=1` added to
/// `GLIBC_TUNABLES`, unless the variable already names that tunable or the kernel gives no
/// transparent huge pages. Returns when it did not re-execute (or the exec failed, after which
/// the process runs on with the default heap). Must run before the first thread is spawned.
pub fn use_huge_pages() {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(feature = "mimalloc")))]
    {
        use std::os::unix::process::CommandExt;

        let current = std::env::var_os("GLIBC_TUNABLES");
        let Some(value) = tunables_with_hugetlb(current.as_deref().and_then(|v| v.to_str())) else {
            return;
        };
        let thp = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled");
        if !thp.is_ok_and(|mode| thp_available(&mode)) {
            return;
        }
        // The binary's own path (not `/proc/self/exe`, which would name the process `exe`);
        // if its file was removed or replaced since it started, the exec fails or runs the
        // new file, as a restart would.
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let argv0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
        let err = std::process::Command::new(&exe)
            .arg0(argv0)
            .args(args)
            .env("GLIBC_TUNABLES", value)
            .exec();
        eprintln!("pharos: running without huge pages for the heap (re-exec failed: {err})");
    }
}

/// The `GLIBC_TUNABLES` value with the huge-page tunable added, or `None` when `current`
/// (the variable's value, if set and valid UTF-8) sets it already, either way.
#[cfg(all(target_os = "linux", target_env = "gnu", not(feature = "mimalloc")))]
fn tunables_with_hugetlb(current: Option<&str>) -> Option<String> {
    let current = current.unwrap_or("");
    if current.split(':').any(|t| t.split('=').next() == Some(HUGETLB_TUNABLE)) {
        return None;
    }
    Some(if current.is_empty() {
        format!("{HUGETLB_TUNABLE}=1")
    } else {
        format!("{current}:{HUGETLB_TUNABLE}=1")
    })
}

/// Whether the kernel's THP mode (the content of `transparent_hugepage/enabled`, the chosen
/// mode in brackets) gives huge pages to a process that asks for them.
#[cfg(all(target_os = "linux", target_env = "gnu", not(feature = "mimalloc")))]
fn thp_available(mode: &str) -> bool {
    mode.contains("[always]") || mode.contains("[madvise]")
}

#[cfg(all(test, target_os = "linux", target_env = "gnu", not(feature = "mimalloc")))]
mod tests {
    use super::*;

    #[test]
    fn the_tunable_is_added_to_whatever_is_set() {
        assert_eq!(tunables_with_hugetlb(None).as_deref(), Some("glibc.malloc.hugetlb=1"));
        assert_eq!(tunables_with_hugetlb(Some("")).as_deref(), Some("glibc.malloc.hugetlb=1"));
        assert_eq!(
            tunables_with_hugetlb(Some("glibc.malloc.trim_threshold=1000")).as_deref(),
            Some("glibc.malloc.trim_threshold=1000:glibc.malloc.hugetlb=1")
        );
    }

    #[test]
    fn a_tunable_set_by_the_user_is_kept() {
        assert_eq!(tunables_with_hugetlb(Some("glibc.malloc.hugetlb=0")), None);
        assert_eq!(
            tunables_with_hugetlb(Some("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2")),
            None
        );
        // A longer name that starts like it is another tunable.
        assert!(tunables_with_hugetlb(Some("glibc.malloc.hugetlbx=1")).is_some());
    }

    #[test]
    fn huge_pages_are_asked_for_only_where_the_kernel_gives_them() {
        assert!(thp_available("always [madvise] never\n"));
        assert!(thp_available("[always] madvise never\n"));
        assert!(!thp_available("always madvise [never]\n"));
        assert!(!thp_available(""));
    }
}
