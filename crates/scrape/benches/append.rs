//! CPU per scraped sample on the scrape side: parse, label lookup through the series cache,
//! target-label merge and append. Two bodies: a real node_exporter body scraped again and
//! again (one target, appender a no-op or `MemStorage`), and the side-by-side benchmark's load
//! (`crates/loadgen` bodies: 100 targets of 1,000 series, node_exporter-like and
//! api-server-like alternating, new values on every scrape) with a no-op appender, so the
//! working set is the 100,000 series of the ingestion benchmark's smallest step, and the same
//! load into a `tsdb::Db` with its WAL (the in-process part of the ingestion benchmark: parse,
//! series cache, append, commit, WAL encoding and writes). The loadgen benches count the
//! thread's CPU time (`/proc/thread-self/schedstat`), not wall time, so other work sharing the
//! core does not inflate it (the WAL's compression runs on this thread too).

mod common;

use std::sync::Arc;

use common::{Discard, thread_cpu};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use model::Labels;
use scrape::scrape_loop::{LoopOptions, ScrapeLoop};
use scrape::target::Target;
use storage::{Appendable, MemStorage};

#[allow(dead_code)]
#[path = "../../loadgen/src/body.rs"]
mod body;
#[allow(dead_code, clippy::unwrap_used)]
#[path = "../tests/common/looping.rs"]
mod looping;

const BODY: &[u8] = include_bytes!("../../textparse/tests/fixtures/node_exporter.txt");
const CT: &str = "text/plain; version=0.0.4";

fn scrape_loop(app: Arc<dyn Appendable>, instance: &str) -> ScrapeLoop {
    let labels = Labels::new([("__address__", instance), ("instance", instance), ("job", "node")]);
    let target = Target::new(labels, Labels::empty(), &Default::default());
    let opts =
        LoopOptions { compression: true, ..looping::options(std::time::Duration::from_secs(10)) };
    looping::scrape_loop(target, opts, app)
}

fn node_exporter(c: &mut Criterion) {
    let samples =
        BODY.split(|&b| b == b'\n').filter(|l| !l.is_empty() && l[0] != b'#').count() as u64;
    let mut g = c.benchmark_group("scrape_append");
    g.throughput(Throughput::Elements(samples));
    let mut sl = scrape_loop(Arc::new(Discard), "127.0.0.1:9100");
    let mut ts = 0;
    g.bench_function("node_exporter_discard", |b| {
        b.iter(|| {
            ts += 15_000;
            sl.append_scrape(BODY, CT, ts).map(|s| s.scraped)
        })
    });
    let mut sl = scrape_loop(Arc::new(MemStorage::new()), "127.0.0.1:9100");
    let mut ts = 0;
    g.bench_function("node_exporter_memstorage", |b| {
        b.iter(|| {
            ts += 15_000;
            sl.append_scrape(BODY, CT, ts).map(|s| s.scraped)
        })
    });
    g.finish();
}

const TARGETS: usize = 100;
const SERIES: usize = 1000;

/// 100 targets as `loadgen` serves them, two renderings (scrapes k and k+1) of each, scraped
/// into `app`.
fn loadgen_targets(app: &Arc<dyn Appendable>) -> Vec<(ScrapeLoop, [Vec<u8>; 2])> {
    (0..TARGETS)
        .map(|i| {
            let kind = if i % 2 == 0 { body::Kind::Node } else { body::Kind::Api };
            let t = body::Template::new(kind, SERIES, i as u64);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            t.render(1, &mut a);
            t.render(2, &mut b);
            let sl = scrape_loop(app.clone(), &format!("127.0.0.1:{}", 20_000 + i));
            (sl, [a, b])
        })
        .collect()
}

/// One scrape of every target per iteration, timed in thread CPU.
fn bench_loadgen(c: &mut Criterion, name: &str, app: Arc<dyn Appendable>) {
    let mut targets = loadgen_targets(&app);
    let mut g = c.benchmark_group("scrape_append");
    g.throughput(Throughput::Elements((TARGETS * SERIES) as u64));
    g.sample_size(20);
    let mut k = 0usize;
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let start = thread_cpu();
            for _ in 0..iters {
                k += 1;
                let ts = k as i64 * 15_000;
                for (sl, bodies) in targets.iter_mut() {
                    let r = sl.append_scrape(&bodies[k % 2], CT, ts);
                    std::hint::black_box(r.map(|s| s.scraped).unwrap_or(0));
                }
            }
            thread_cpu() - start
        })
    });
    g.finish();
}

fn loadgen(c: &mut Criterion) {
    bench_loadgen(c, "loadgen_100x1000_discard", Arc::new(Discard));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let db = tsdb::Db::open(dir.path(), tsdb::Options::default())
        .unwrap_or_else(|e| panic!("open db: {e}"));
    bench_loadgen(c, "loadgen_100x1000_tsdb", Arc::new(db));
}

criterion_group!(benches, node_exporter, loadgen);
criterion_main!(benches);
