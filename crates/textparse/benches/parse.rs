//! Parser throughput on a real node_exporter body (lines per second = body lines / time).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use textparse::{EntryKind, Format, Parser};

const BODY: &[u8] = include_bytes!("../tests/fixtures/node_exporter.txt");

fn parse_all(body: &[u8]) -> usize {
    let mut p = Parser::new(body, Format::Text);
    let mut n = 0usize;
    while let Ok(Some(kind)) = p.next() {
        if kind == EntryKind::Series {
            n += p.series().len() + p.label_count();
            std::hint::black_box(p.value());
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let lines = BODY.iter().filter(|&&b| b == b'\n').count() as u64;
    let mut g = c.benchmark_group("textparse");
    g.throughput(Throughput::Elements(lines));
    g.bench_function("node_exporter_text_lines", |b| {
        b.iter(|| parse_all(std::hint::black_box(BODY)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
