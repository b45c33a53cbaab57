//! Head append throughput (through the full commit path: validation, WAL write, chunk append)
//! and chunk decoding speed.

#![allow(clippy::unwrap_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use model::Labels;
use storage::Appendable;
use tsdb::chunkenc::{XorChunk, XorIterator};
use tsdb::{Db, Options};

const SERIES: usize = 10_000;

fn labels() -> Vec<Labels> {
    (0..SERIES)
        .map(|i| {
            Labels::new([
                ("__name__", format!("node_metric_{}", i % 100).as_str()),
                ("instance", &format!("host-{}:9100", i / 100)),
                ("job", "node"),
            ])
        })
        .collect()
}

fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let ls = labels();
    let mut refs = vec![0u64; SERIES];
    let mut t = 0i64;
    let mut g = c.benchmark_group("head");
    g.throughput(Throughput::Elements(SERIES as u64));
    g.bench_function("append_commit_10k_existing_series", |b| {
        b.iter(|| {
            t += 15_000;
            let mut app = db.appender();
            for (i, l) in ls.iter().enumerate() {
                refs[i] = app.append(refs[i], l, t, (t / 1000 + i as i64) as f64 * 0.5).unwrap();
            }
            app.commit().unwrap();
        })
    });
    g.finish();
}

fn decode(c: &mut Criterion) {
    let mut chunk = XorChunk::new();
    let mut v = 100.0;
    for i in 0..120 {
        v += (i % 7) as f64 * 0.25;
        chunk.append(1_700_000_000_000 + i * 15_000, v);
    }
    let bytes = chunk.bytes().to_vec();
    let mut g = c.benchmark_group("chunk");
    g.throughput(Throughput::Elements(120));
    g.bench_function("decode_xor_120", |b| {
        b.iter(|| {
            let mut it = XorIterator::new(bytes.as_slice());
            let mut sum = 0.0;
            while let Some((_, v)) = it.next() {
                sum += v;
            }
            sum
        })
    });
    g.finish();
}

criterion_group!(benches, append, decode);
criterion_main!(benches);
