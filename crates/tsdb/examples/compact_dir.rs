//! Compacts the blocks of a data directory as the server's maintenance would (Prometheus'
//! ranges: 2 h × 3^n up to 31 d, no retention), then prints each block and the block bytes per
//! sample. `--xor` keeps compacted blocks in Prometheus' XOR chunks (for comparison).
//!
//! Usage: `compact_dir DIR [--xor]`

#![allow(clippy::unwrap_used)]

use std::path::Path;

fn dir_bytes(p: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else { return 0 };
    rd.flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() { dir_bytes(&path) } else { e.metadata().map_or(0, |m| m.len()) }
        })
        .sum()
}

/// Chunk bytes per sample of each metric name in the largest block.
fn by_metric(dir: &Path, db: &tsdb::Db) {
    let Some(m) = db.blocks().into_iter().max_by_key(|m| m.stats.num_samples) else { return };
    let b = tsdb::block::Block::open(&dir.join(&m.ulid)).unwrap();
    let mut per: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    for id in b.index.all_postings().unwrap() {
        let (labels, chunks) = b.index.series(id).unwrap();
        let name = labels.get("__name__").unwrap_or_default().to_string();
        let e = per.entry(name).or_default();
        for c in chunks {
            let (enc, data) = b.chunks.chunk(c.r).unwrap();
            e.0 += data.as_ref().len() as u64 + 6;
            e.1 += tsdb::chunkenc::decode_any(enc, data.as_ref()).unwrap().len() as u64;
        }
    }
    for (name, (bytes, n)) in per {
        println!("{name:40} {:.3} bytes per sample", bytes as f64 / n.max(1) as f64);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: compact_dir DIR [--xor]");
        std::process::exit(2);
    };
    let dense = !args.iter().any(|a| a == "--xor");
    let opts = tsdb::Options { retention_ms: 0, dense_compaction: dense, ..Default::default() };
    let db = tsdb::Db::open(Path::new(dir), opts).unwrap();
    let started = std::time::Instant::now();
    loop {
        let rep = db.maintain(0).unwrap();
        if rep.blocks_compacted == 0 {
            break;
        }
    }
    let took = started.elapsed();
    let (mut bytes, mut samples) = (0u64, 0u64);
    for m in db.blocks() {
        let b = dir_bytes(&Path::new(dir).join(&m.ulid));
        println!(
            "{} level {} {} h {} samples {} chunks {} bytes",
            m.ulid,
            m.compaction.level,
            (m.max_time - m.min_time) / 3_600_000,
            m.stats.num_samples,
            m.stats.num_chunks,
            b
        );
        bytes += b;
        samples += m.stats.num_samples;
    }
    if args.iter().any(|a| a == "--by-metric") {
        by_metric(Path::new(dir), &db);
    }
    db.close().unwrap();
    println!(
        "compaction {:.1} s; {bytes} block bytes / {samples} samples = {:.3} bytes per sample",
        took.as_secs_f64(),
        bytes as f64 / samples.max(1) as f64
    );
}
