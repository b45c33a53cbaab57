//! Transparent huge pages held off for the process while the head is restored.
//!
//! The server asks glibc for huge pages for its heap (the `pharos` binary's `malloc.rs`): the
//! head's series and chunks are then reached through far fewer TLB entries. But the restore
//! after a restart allocates the whole head at once (about 1 KB a series), and under a
//! hypervisor that takes high-order free memory back while it lies unused (free page
//! reporting), each fresh huge page costs hundreds of host faults: on this benchmark machine a
//! restart of 500 k series spent 1.4 s of system time on them after the machine had been idle
//! for half a minute (0.1 s right after another restart), and 0.3–0.4 s with small pages either
//! way. So huge pages are held off while the head is restored and allowed again afterwards;
//! the heap is then advised again, so that the kernel's khugepaged collapses the restored
//! memory into huge pages in the background (at its own pace, minutes for a large head), and
//! what is allocated after the restore gets them at once, as before.

/// Huge pages off for this process until dropped (unless they were off already, or the
/// kernel has no such switch).
pub(crate) struct HugePagesPaused {
    resume: bool,
}

impl HugePagesPaused {
    pub(crate) fn new() -> HugePagesPaused {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: these prctl calls read and set one flag of this process' memory map.
            let was_off = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
            if was_off == 0 && unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) } == 0 {
                return HugePagesPaused { resume: true };
            }
        }
        HugePagesPaused { resume: false }
    }
}

impl Drop for HugePagesPaused {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if self.resume {
            // SAFETY: as in `new`.
            unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 0, 0, 0, 0) };
            if heap_huge_pages_requested() {
                advise_heap();
            }
        }
    }
}

/// Whether glibc was told to ask for huge pages for the heap (`glibc.malloc.hugetlb=1` or
/// `2` in `GLIBC_TUNABLES`, as the `pharos` binary sets it).
#[cfg(target_os = "linux")]
fn heap_huge_pages_requested() -> bool {
    std::env::var("GLIBC_TUNABLES").is_ok_and(|v| {
        v.split(':').any(|t| t == "glibc.malloc.hugetlb=1" || t == "glibc.malloc.hugetlb=2")
    })
}

/// Advises huge pages for the heap again (every mapping of it: glibc's advice splits it):
/// glibc advised it while huge pages were off, when the kernel does not hand the process to
/// khugepaged; advised now, khugepaged collapses the memory the restore filled with small
/// pages.
#[cfg(target_os = "linux")]
fn advise_heap() {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else { return };
    for (start, end) in maps.lines().filter(|l| l.ends_with("[heap]")).filter_map(heap_range) {
        // SAFETY: MADV_HUGEPAGE changes how the kernel backs the range, never its contents.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
    }
}

/// The address range of a `/proc/self/maps` line.
#[cfg(target_os = "linux")]
fn heap_range(line: &str) -> Option<(usize, usize)> {
    let (start, end) = line.split_whitespace().next()?.split_once('-')?;
    let start = usize::from_str_radix(start, 16).ok()?;
    let end = usize::from_str_radix(end, 16).ok()?;
    (start < end).then_some((start, end))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn off() -> i32 {
        // SAFETY: reads one flag of this process.
        unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) }
    }

    #[test]
    fn reads_the_heap_line_of_the_maps() {
        let line =
            "55d0c2a4e000-55d0c2c71000 rw-p 00000000 00:00 0                          [heap]";
        assert_eq!(heap_range(line), Some((0x55d0c2a4e000, 0x55d0c2c71000)));
        assert_eq!(heap_range("zz-10 rw-p"), None);
        assert_eq!(heap_range("20-10 rw-p"), None);
    }

    #[test]
    fn pauses_and_resumes_unless_already_off() {
        // The flag is per process and tests run on threads of one: this is the only test
        // that touches it. A process started with the flag set (inherited) has nothing to
        // pause.
        if off() != 0 {
            let _paused = HugePagesPaused::new();
            assert_eq!(off(), 1, "left off when it was off");
            return;
        }
        {
            let _outer = HugePagesPaused::new();
            assert_eq!(off(), 1);
            {
                // Already off: left off when this one is dropped.
                let _inner = HugePagesPaused::new();
            }
            assert_eq!(off(), 1);
        }
        assert_eq!(off(), 0);
    }
}
