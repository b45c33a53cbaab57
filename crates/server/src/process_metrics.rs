//! `process_*` metrics read from `/proc/self`, as Go's process collector exports them.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::self_metrics::encode_const;

/// Reads CPU, memory, file descriptors and start time of this process on each scrape.
#[derive(Debug)]
pub struct ProcessCollector {
    start_time_seconds: f64,
}

/// Clock ticks per second for `/proc/*/stat` times (the Linux ABI value).
const TICKS_PER_SECOND: f64 = 100.0;
const PAGE_SIZE: f64 = 4096.0;

impl ProcessCollector {
    pub fn new() -> ProcessCollector {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let start = stat_fields()
            .and_then(|f| {
                let start_ticks: f64 = f.get(19)?.parse().ok()?;
                let boot = boot_time()?;
                Some(boot + start_ticks / TICKS_PER_SECOND)
            })
            .unwrap_or(now);
        ProcessCollector { start_time_seconds: start }
    }
}

impl Default for ProcessCollector {
    fn default() -> Self {
        Self::new()
    }
}

/// Fields of `/proc/self/stat` after the command name (field 3 of the man page is index 0).
fn stat_fields() -> Option<Vec<String>> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    Some(after.split_whitespace().map(str::to_string).collect())
}

fn boot_time() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    s.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|v| v.trim().parse().ok())
}

fn open_fds() -> Option<f64> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as f64)
}

fn max_fds() -> Option<f64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let gauge = |enc: &mut DescriptorEncoder, name: &str, help: &str, v: f64| {
            encode_const(enc, name, help, ConstGauge::new(v))
        };
        if let Some(f) = stat_fields() {
            let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            let cpu = (num(11) + num(12)) / TICKS_PER_SECOND;
            encode_const(
                &mut encoder,
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds.",
                ConstCounter::new(cpu),
            )?;
            gauge(
                &mut encoder,
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
                num(20),
            )?;
            gauge(
                &mut encoder,
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                num(21) * PAGE_SIZE,
            )?;
        }
        if let Some(n) = open_fds() {
            gauge(&mut encoder, "process_open_fds", "Number of open file descriptors.", n)?;
        }
        if let Some(n) = max_fds() {
            gauge(&mut encoder, "process_max_fds", "Maximum number of open file descriptors.", n)?;
        }
        gauge(
            &mut encoder,
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            self.start_time_seconds,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let c = ProcessCollector::new();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!(c.start_time_seconds <= now + 1.0 && c.start_time_seconds > now - 3600.0);
        assert!(open_fds().unwrap() >= 3.0);
    }
}
