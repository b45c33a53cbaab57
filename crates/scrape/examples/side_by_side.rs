//! Scrape-side CPU per sample: runs the scrape manager against a config for a while and prints
//! the process' CPU time per ingested sample. Usage:
//! `side_by_side CONFIG SECONDS [discard|mem]` (compare with `/proc/<prometheus pid>/stat`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use model::Labels;
use scrape::{Manager, ManagerOptions};
use storage::{Appendable, Appender, MemStorage, SeriesRef, StorageError};

#[derive(Default)]
struct Counting(Arc<AtomicU64>);
struct CountingAppender(Arc<AtomicU64>, u64);

impl Appendable for Counting {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(CountingAppender(self.0.clone(), 0))
    }
}

impl Appender for CountingAppender {
    fn append(
        &mut self,
        hint: SeriesRef,
        _l: &Labels,
        _t: i64,
        _v: f64,
    ) -> Result<SeriesRef, StorageError> {
        self.1 += 1;
        Ok(if hint == 0 { 1 } else { hint })
    }
    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        self.0.fetch_add(self.1, Ordering::Relaxed);
        Ok(())
    }
    fn rollback(self: Box<Self>) {}
}

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(secs)) = (args.get(1), args.get(2).and_then(|s| s.parse::<u64>().ok()))
    else {
        eprintln!("usage: side_by_side CONFIG SECONDS [discard|mem]");
        return;
    };
    let cfg = match config::load(path) {
        Ok(c) => c,
        Err(e) => return eprintln!("{e}"),
    };
    let counter = Arc::new(AtomicU64::new(0));
    let mem = MemStorage::new();
    let app: Arc<dyn Appendable> = match args.get(3).map(String::as_str) {
        Some("mem") => Arc::new(mem.clone()),
        _ => Arc::new(Counting(counter.clone())),
    };
    let mgr = Manager::new(app, ManagerOptions::default());
    if let Err(e) = mgr.apply_config(&cfg) {
        return eprintln!("{e}");
    }
    let cpu0 = cpu_seconds();
    tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
    let cpu = cpu_seconds() - cpu0;
    let up = mgr.targets().active.len();
    mgr.stop();
    let samples = counter.load(Ordering::Relaxed).max(mem.num_samples() as u64);
    println!(
        "targets={up} samples={samples} cpu_s={cpu:.2} us_per_sample={:.3}",
        cpu * 1e6 / samples.max(1) as f64
    );
}
