//! What the server knows about its host: the wall clock and the machine's name.

/// Milliseconds since the Unix epoch, from the wall clock.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// This machine's name, as Prometheus reports it in runtime info and target URLs.
pub fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|s| s.trim().to_string())
}
