//! CPU per scraped sample on the scrape side: parse, label lookup through the series cache,
//! target-label merge and append, for a real node_exporter body. The appender is a no-op (to
//! isolate scrape cost) or `MemStorage`.

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use model::Labels;
use scrape::scrape_loop::{Limits, LoopOptions, ScrapeLoop};
use scrape::target::Target;
use scrape::{Clock, SystemClock};
use storage::{Appendable, Appender, MemStorage, SeriesRef, StorageError};

const BODY: &[u8] = include_bytes!("../../textparse/tests/fixtures/node_exporter.txt");

struct Discard;
struct DiscardAppender(u64);

impl Appendable for Discard {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(DiscardAppender(0))
    }
}

impl Appender for DiscardAppender {
    fn append(
        &mut self,
        hint: SeriesRef,
        _l: &Labels,
        _t: i64,
        _v: f64,
    ) -> Result<SeriesRef, StorageError> {
        self.0 += 1;
        Ok(if hint == 0 { self.0 } else { hint })
    }
    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        Ok(())
    }
    fn rollback(self: Box<Self>) {}
}

fn scrape_loop(app: Arc<dyn Appendable>) -> ScrapeLoop {
    let labels = Labels::new([
        ("__address__", "127.0.0.1:9100"),
        ("instance", "127.0.0.1:9100"),
        ("job", "node"),
    ]);
    let target = Target::new(labels, Labels::empty(), &Default::default());
    let opts = LoopOptions {
        interval: std::time::Duration::from_secs(15),
        timeout: std::time::Duration::from_secs(10),
        honor_labels: false,
        honor_timestamps: true,
        metric_relabel: Vec::new(),
        limits: Limits::default(),
        http: Default::default(),
        compression: true,
    };
    let client = reqwest::Client::new();
    ScrapeLoop::new(target, Arc::new(opts), client, app, Arc::new(SystemClock) as Arc<dyn Clock>)
}

fn bench(c: &mut Criterion) {
    let samples =
        BODY.split(|&b| b == b'\n').filter(|l| !l.is_empty() && l[0] != b'#').count() as u64;
    let mut g = c.benchmark_group("scrape_append");
    g.throughput(Throughput::Elements(samples));
    let mut sl = scrape_loop(Arc::new(Discard));
    let mut ts = 0;
    g.bench_function("node_exporter_discard", |b| {
        b.iter(|| {
            ts += 15_000;
            sl.append_scrape(BODY, "text/plain; version=0.0.4", ts).map(|s| s.scraped)
        })
    });
    let mut sl = scrape_loop(Arc::new(MemStorage::new()));
    let mut ts = 0;
    g.bench_function("node_exporter_memstorage", |b| {
        b.iter(|| {
            ts += 15_000;
            sl.append_scrape(BODY, "text/plain; version=0.0.4", ts).map(|s| s.scraped)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
