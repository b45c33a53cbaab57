//! What the server knows about and asks of its host: the wall clock, the machine's name and
//! the open-files limit.

/// Milliseconds since the Unix epoch, from the wall clock.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// This machine's name, as Prometheus reports it in runtime info and target URLs.
pub fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|s| s.trim().to_string())
}

/// The open-files limit as (soft, hard), `None` where the system does not say.
pub fn open_files_limit() -> Option<(u64, u64)> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one `rlimit` through a pointer to a live, owned value.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    (rc == 0).then_some((lim.rlim_cur, lim.rlim_max))
}

/// Raises the soft open-files limit to the hard one, as Go's runtime does for Prometheus
/// (Go 1.19 and later): every scrape connection, WAL segment, block file and mmapped chunk
/// file holds a descriptor, and the usual soft limit of 1,024 runs out with a few hundred
/// targets. Returns the limit in force afterwards (soft, hard).
pub fn raise_open_files_limit() -> Option<(u64, u64)> {
    let (soft, hard) = open_files_limit()?;
    if soft < hard {
        let lim = libc::rlimit { rlim_cur: hard, rlim_max: hard };
        // SAFETY: setrlimit reads one `rlimit` through a pointer to a live, owned value.
        let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
        if rc != 0 {
            tracing::warn!(soft, hard, "could not raise the open-files limit");
        }
    }
    open_files_limit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_the_open_files_limit_leaves_soft_equal_to_hard() {
        let (_, hard_before) = open_files_limit().unwrap();
        let (soft, hard) = raise_open_files_limit().unwrap();
        assert_eq!(hard, hard_before);
        assert_eq!(soft, hard);
    }
}
