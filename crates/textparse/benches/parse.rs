//! Parser throughput on a real node_exporter body (lines per second = body lines / time):
//! parsed in full, and with every sample line hinted with its series (as a scraper does with
//! the previous body of a target). Time is the thread's CPU time
//! (`/proc/thread-self/schedstat`), so other work sharing the core does not inflate it; as
//! the scheduler updates it at its ticks, one iteration parses the body `REPEAT` times.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use textparse::{EntryKind, Format, Parser};

const REPEAT: u64 = 200;
const BODY: &[u8] = include_bytes!("../tests/fixtures/node_exporter.txt");

fn parse_all(body: &[u8]) -> usize {
    let mut p = Parser::new(body, Format::Text);
    let mut n = 0usize;
    while let Ok(Some(kind)) = p.next() {
        if kind == EntryKind::Series {
            n += p.series().len() + p.label_count();
            black_box(p.value());
        }
    }
    n
}

fn parse_hinted(body: &[u8], hints: &[&[u8]]) -> usize {
    let mut p = Parser::new(body, Format::Text);
    let mut n = 0usize;
    let mut i = 0;
    while let Ok(Some(kind)) = p.next_hinted(hints.get(i).copied().unwrap_or(b"")) {
        if kind == EntryKind::Series {
            n += usize::from(p.hint_matched());
            i += 1;
            black_box(p.value());
        }
    }
    n
}

/// The thread's CPU time spent in `f`.
fn cpu_time(f: impl FnOnce() -> usize) -> Duration {
    let start = thread_cpu();
    black_box(f());
    thread_cpu() - start
}

/// CPU time of the current thread so far (nanoseconds on the CPU, from the scheduler).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0);
    Duration::from_nanos(ns)
}

fn bench(c: &mut Criterion) {
    let lines = BODY.iter().filter(|&&b| b == b'\n').count() as u64;
    let mut g = c.benchmark_group("textparse");
    g.throughput(Throughput::Elements(lines * REPEAT));
    g.bench_function("node_exporter_text_lines", |b| {
        b.iter_custom(|iters| {
            cpu_time(|| (0..iters * REPEAT).map(|_| parse_all(black_box(BODY))).sum())
        })
    });
    let mut hints = Vec::new();
    let mut p = Parser::new(BODY, Format::Text);
    while let Ok(Some(kind)) = p.next() {
        if kind == EntryKind::Series {
            hints.push(p.series());
        }
    }
    g.bench_function("node_exporter_text_lines_hinted", |b| {
        b.iter_custom(|iters| {
            cpu_time(|| (0..iters * REPEAT).map(|_| parse_hinted(black_box(BODY), &hints)).sum())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
