//! The head's append + commit CPU before and after its series cut their first chunk: 100
//! targets × 1,000 series appended as a server scraping them at 1 s would (one batch per
//! target, the batches in turn, 4 MiB of other memory traffic between two batches so that the
//! next batch's series are no longer in the CPU caches), round after round across the first
//! cut (round 120) and the second (round 240), timed in this thread's CPU per ten rounds.
//! Not a criterion bench: the figure is the steady cost on each side of a cut and the cost of
//! the cut itself, which depend on where the run stands.
//!
//! `cargo bench -p tsdb --bench head_cut [-- ROUNDS]` (default 250); run it pinned
//! (`taskset -c 1`), and with `GLIBC_TUNABLES=glibc.malloc.hugetlb=1` as the server runs.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use storage::Appendable;
use tsdb::{Db, Options};

const TARGETS: usize = 100;
const PER_TARGET: usize = 1000;

/// A third counters of varying slopes, a third constants, a third noisy gauges.
fn value(round: usize, i: usize) -> f64 {
    match i % 3 {
        0 => (round * (i % 17 + 1)) as f64,
        1 => 5.0,
        _ => ((round + i) as f64 * 0.37).sin(),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; the first number is the round count.
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(250);
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let ls = common::node_labels(TARGETS, PER_TARGET);
    let mut refs = vec![vec![0u64; PER_TARGET]; TARGETS];
    let mut thrash = vec![0u8; 4 << 20];
    let per_round = (TARGETS * PER_TARGET) as f64;
    let mut tens = Duration::ZERO;
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let t = 1_700_000_000_000i64 + round as i64 * 1000;
        let mut spent = Duration::ZERO;
        for tg in 0..TARGETS {
            for (k, x) in thrash.iter_mut().step_by(64).enumerate() {
                *x = x.wrapping_add(k as u8);
            }
            let start = common::thread_cpu();
            let mut app = db.appender();
            for (i, l) in ls[tg].iter().enumerate() {
                refs[tg][i] = app.append(refs[tg][i], l, t, value(round, i)).unwrap();
            }
            app.commit().unwrap();
            spent += common::thread_cpu() - start;
        }
        let ns = spent.as_nanos() as f64 / per_round;
        match round {
            120 | 240 => println!("round {round} (chunk cut): {:.1} ms", spent.as_secs_f64() * 1e3),
            20..=109 => before.push(ns),
            130..=229 => after.push(ns),
            _ => {}
        }
        tens += spent;
        if round % 10 == 9 {
            let ns = tens.as_nanos() as f64 / (10.0 * per_round);
            println!("rounds {:3}-{:3}: {ns:6.1} ns per sample", round - 9, round);
            tens = Duration::ZERO;
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    println!(
        "median per round: {:.1} ns per sample before the first cut (rounds 20-109), {:.1} after \
         it (130-229)",
        median(&mut before),
        median(&mut after)
    );
    std::hint::black_box(&thrash);
}
