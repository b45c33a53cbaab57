//! Compacts the blocks of a data directory as the server's maintenance would (Prometheus'
//! ranges: 2 h × 3^n up to 31 d, no retention), then prints each block and the block bytes per
//! sample. `--xor` keeps compacted blocks in Prometheus' XOR chunks (for comparison);
//! `--by-metric` adds the chunk bytes per sample of each metric name in the largest block (a
//! chunk several series share counts for the first).
//! `--recode OUT` instead writes every block of DIR again into OUT with the chunk encoding
//! compaction uses (same ranges, no merging: for data too short to compact) and compares.
//!
//! `--merge OUT` writes all samples of all blocks of DIR as one block, once with XOR chunks
//! (OUT/xor) and once with dense chunks (OUT/dense), as compaction into one long block would,
//! and compares them. `--hours H` (with `--merge`) keeps only the first H hours of samples,
//! to see how the bytes per sample fall with the block's length.
//!
//! `--head` first writes the head (e.g. a Prometheus data directory's WAL) into 2 h blocks.
//!
//! Usage: `compact_dir DIR [--head] [--xor] [--by-metric] | compact_dir DIR --recode OUT |
//! compact_dir DIR --merge OUT`

#![allow(clippy::unwrap_used)]

use std::path::Path;

/// The samples of one chunk of a block.
fn decode(enc: u8, data: &tsdb::chunks::ChunkBytes) -> Option<Vec<(i64, f64)>> {
    use tsdb::chunkenc::dense;
    if enc == dense::ENCODING_DENSE {
        dense::decode_all_in(data.as_ref(), Some(data.segment()))
    } else {
        tsdb::chunkenc::decode_any(enc, data.as_ref())
    }
}

fn dir_bytes(p: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else { return 0 };
    rd.flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() { dir_bytes(&path) } else { e.metadata().map_or(0, |m| m.len()) }
        })
        .sum()
}

/// Writes each block of `dir` again into `out` with dense chunks and prints both sizes.
fn recode(dir: &Path, out: &Path) {
    use tsdb::blockwriter::{ChunkFormat, SortedBlockWriter};
    let (mut before, mut after, mut samples) = (0u64, 0u64, 0u64);
    let (mut chunks_before, mut chunks_after) = (0u64, 0u64);
    for ent in std::fs::read_dir(dir).unwrap().flatten() {
        let Ok(b) = tsdb::block::Block::open(&ent.path()) else { continue };
        let mut w = SortedBlockWriter::new(out, b.meta.min_time, b.meta.max_time)
            .unwrap()
            .with_format(ChunkFormat::DENSE);
        let mut ids = b.index.all_postings().unwrap();
        ids.sort_by_cached_key(|&id| b.index.series(id).unwrap().0);
        for id in ids {
            let (labels, chunks) = b.index.series(id).unwrap();
            let mut s = Vec::new();
            for c in chunks {
                let (enc, data) = b.chunks.chunk(c.r).unwrap();
                s.extend(decode(enc, &data).unwrap());
            }
            w.add_series(labels, &s).unwrap();
        }
        let meta = w.finish(b.meta.compaction.clone()).unwrap().unwrap();
        before += dir_bytes(&ent.path());
        after += dir_bytes(&out.join(&meta.ulid));
        chunks_before += dir_bytes(&ent.path().join("chunks"));
        chunks_after += dir_bytes(&out.join(&meta.ulid).join("chunks"));
        samples += meta.stats.num_samples;
    }
    let per = |b: u64| b as f64 / samples.max(1) as f64;
    println!(
        "{samples} samples: {before} bytes as read ({:.3} per sample), {after} bytes dense ({:.3})",
        per(before),
        per(after)
    );
    println!(
        "chunk files only: {chunks_before} bytes as read ({:.3} per sample), {chunks_after} bytes dense ({:.3})",
        per(chunks_before),
        per(chunks_after)
    );
}

/// Writes every sample of every block of `dir` into one block in `out/xor` and one in
/// `out/dense`, and prints both sizes.
fn merge(dir: &Path, out: &Path, hours: Option<f64>) {
    use tsdb::blockwriter::{ChunkFormat, SortedBlockWriter};
    let mut all: std::collections::BTreeMap<model::Labels, Vec<(i64, f64)>> = Default::default();
    let (mut mint, mut maxt) = (i64::MAX, i64::MIN);
    for ent in std::fs::read_dir(dir).unwrap().flatten() {
        let Ok(b) = tsdb::block::Block::open(&ent.path()) else { continue };
        (mint, maxt) = (mint.min(b.meta.min_time), maxt.max(b.meta.max_time));
        for id in b.index.all_postings().unwrap() {
            let (labels, chunks) = b.index.series(id).unwrap();
            let s = all.entry(labels).or_default();
            for c in chunks {
                let (enc, data) = b.chunks.chunk(c.r).unwrap();
                s.extend(decode(enc, &data).unwrap());
            }
        }
    }
    let first = all.values().filter_map(|s| s.iter().map(|x| x.0).min()).min().unwrap_or(0);
    for s in all.values_mut() {
        s.sort_by_key(|x| x.0);
        s.dedup_by_key(|x| x.0);
        if let Some(h) = hours {
            s.retain(|x| ((x.0 - first) as f64) < h * 3.6e6);
        }
    }
    all.retain(|_, s| !s.is_empty());
    if hours.is_some() {
        maxt = all.values().filter_map(|s| s.last()).map(|x| x.0 + 1).max().unwrap_or(maxt);
    }
    let samples: usize = all.values().map(Vec::len).sum();
    println!(
        "{} series, {samples} samples ({:.1} per series), {} h",
        all.len(),
        samples as f64 / all.len().max(1) as f64,
        (maxt - mint) as f64 / 3.6e6
    );
    for (name, format) in [("xor", ChunkFormat::Xor), ("dense", ChunkFormat::DENSE)] {
        let parent = out.join(name);
        let mut w = SortedBlockWriter::new(&parent, mint, maxt).unwrap().with_format(format);
        for (labels, s) in &all {
            w.add_series(labels.clone(), s).unwrap();
        }
        let level = tsdb::meta::Compaction { level: 2, ..Default::default() };
        let meta = w.finish(level).unwrap().unwrap();
        let block = parent.join(&meta.ulid);
        // Every sample reads back bit for bit (and the time to decode them all, best of 5).
        let back = tsdb::block::Block::open(&block).unwrap();
        let ids = back.index.all_postings().unwrap();
        let metas: Vec<_> = ids.iter().map(|&id| back.index.series(id).unwrap().1).collect();
        let mut best = std::time::Duration::MAX;
        for _ in 0..5 {
            let started = std::time::Instant::now();
            let mut n = 0usize;
            for c in metas.iter().flatten() {
                let (enc, data) = back.chunks.chunk(c.r).unwrap();
                n += decode(enc, &data).map_or(0, |s| s.len());
            }
            best = best.min(started.elapsed());
            assert!(n > 0);
        }
        for id in ids {
            let (labels, chunks) = back.index.series(id).unwrap();
            let mut got = Vec::new();
            for c in chunks {
                let (enc, data) = back.chunks.chunk(c.r).unwrap();
                got.extend(decode(enc, &data).expect("chunk decodes"));
            }
            let want = &all[&labels];
            assert_eq!(got.len(), want.len(), "{labels}");
            for (g, w) in got.iter().zip(want) {
                assert!(g.0 == w.0 && g.1.to_bits() == w.1.to_bits(), "{labels}");
            }
        }
        let (b, c) = (dir_bytes(&block), dir_bytes(&block.join("chunks")));
        let n = meta.stats.num_samples.max(1) as f64;
        println!(
            "{name:5}: chunks {c} bytes ({:.3} per sample), whole block {b} bytes ({:.3} per sample), decode {:.1} ns per sample",
            c as f64 / n,
            b as f64 / n,
            best.as_secs_f64() * 1e9 / n
        );
    }
}

/// Chunk bytes per sample of each metric name in the largest block.
fn by_metric(dir: &Path, db: &tsdb::Db) {
    let Some(m) = db.blocks().into_iter().max_by_key(|m| m.stats.num_samples) else { return };
    let b = tsdb::block::Block::open(&dir.join(&m.ulid)).unwrap();
    let mut per: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    // A chunk that several series refer to counts for the first (in index order).
    let mut seen = std::collections::HashSet::new();
    for id in b.index.all_postings().unwrap() {
        let (labels, chunks) = b.index.series(id).unwrap();
        let name = labels.get("__name__").unwrap_or_default().to_string();
        let e = per.entry(name).or_default();
        for c in chunks {
            let (enc, data) = b.chunks.chunk(c.r).unwrap();
            if seen.insert(c.r) {
                e.0 += data.as_ref().len() as u64 + 6;
            }
            e.1 += decode(enc, &data).unwrap().len() as u64;
        }
    }
    let total: u64 = per.values().map(|e| e.0).sum();
    let samples: u64 = per.values().map(|e| e.1).sum();
    let mut rows: Vec<(String, (u64, u64))> = per.into_iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1.0));
    println!("metric (by chunk bytes)                  B/sample  bytes  share  B/sample of all");
    for (name, (bytes, n)) in rows {
        println!(
            "{name:40} {:7.3} {bytes:7} {:5.1} % {:6.4}",
            bytes as f64 / n.max(1) as f64,
            100.0 * bytes as f64 / total.max(1) as f64,
            bytes as f64 / samples.max(1) as f64
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: compact_dir DIR [--xor]");
        std::process::exit(2);
    };
    if args.iter().any(|a| a == "--head") {
        let opts = tsdb::Options { retention_ms: 0, ..Default::default() };
        let db = tsdb::Db::open(Path::new(dir), opts).unwrap();
        println!("head written as {} blocks", db.compact_head().unwrap());
        db.close().unwrap();
    }
    if let Some(i) = args.iter().position(|a| a == "--recode") {
        let out = args.get(i + 1).expect("--recode needs an output directory");
        recode(Path::new(dir), Path::new(out));
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--merge") {
        let out = args.get(i + 1).expect("--merge needs an output directory");
        let hours = args
            .iter()
            .position(|a| a == "--hours")
            .map(|j| args.get(j + 1).and_then(|h| h.parse().ok()).expect("--hours needs a number"));
        merge(Path::new(dir), Path::new(out), hours);
        return;
    }
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
