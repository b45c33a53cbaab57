//! Compaction writes Pharos' dense chunks; queries read mixed XOR and dense blocks bit for bit;
//! deletion and tombstone cleaning work on dense blocks; `export` writes pure XOR blocks with
//! the same samples.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use model::{Labels, MatchType, Matcher};
use storage::{Appendable, Queryable, collect_samples};
use tsdb::block::Block;
use tsdb::chunkenc::ENCODING_XOR;
use tsdb::chunkenc::dense::ENCODING_DENSE;
use tsdb::{Db, Options};

const STEP: i64 = 15_000;
const HOURS: i64 = 26;

fn series() -> Vec<Labels> {
    ["counter", "gauge", "float", "stale"]
        .iter()
        .map(|n| Labels::new([("__name__", *n), ("job", "node")]))
        .collect()
}

/// The value of series `i` at step `k`: a hundredths counter, a page gauge, arbitrary floats,
/// and a series with NaN, stale markers, -0.0 and infinities.
fn value(i: usize, k: i64) -> f64 {
    match i {
        0 => (k * 37 % 1500) as f64 / 100.0 + k as f64,
        1 => ((k * 7919) % 33 * 4096) as f64,
        2 => (k as f64).sqrt() * std::f64::consts::E,
        _ => match k % 97 {
            0 => model::value::stale_nan(),
            1 => f64::NAN,
            2 => -0.0,
            3 => f64::INFINITY,
            _ => 0.5,
        },
    }
}

/// Scrape times with a few milliseconds of jitter now and then, and a gap.
/// `want`'s samples with their values as bit patterns, as [`common::dump`] returns them.
fn bits(want: &[(Labels, Vec<(i64, f64)>)]) -> common::Dump {
    want.iter()
        .map(|(l, s)| (l.clone(), s.iter().map(|x| (x.0, x.1.to_bits())).collect()))
        .collect()
}

fn time(k: i64) -> i64 {
    k * STEP + if k % 10 == 3 { 2 } else { 0 } + if k > 3000 { 60_000 } else { 0 }
}

fn fill(db: &Db) -> Vec<Vec<(i64, u64)>> {
    let ls = series();
    let mut want = vec![Vec::new(); ls.len()];
    let mut k = 0;
    while time(k) < HOURS * 3_600_000 {
        let mut app = db.appender();
        for (i, l) in ls.iter().enumerate() {
            app.append(0, l, time(k), value(i, k)).unwrap();
            want[i].push((time(k), value(i, k).to_bits()));
        }
        app.commit().unwrap();
        k += 1;
    }
    want
}

fn dump(db: &Db, mint: i64, maxt: i64) -> Vec<Vec<(i64, u64)>> {
    let q = db.querier(mint, maxt).unwrap();
    let m = [Matcher::new(MatchType::Equal, "job", "node").unwrap()];
    let mut by_name: Vec<(String, Vec<(i64, u64)>)> = q
        .select(true, None, &m)
        .unwrap()
        .map(|s| {
            let mut s = s.unwrap();
            let v = collect_samples(s.samples.as_mut()).unwrap();
            let name = s.labels.get("__name__").unwrap_or_default().to_string();
            (name, v.iter().map(|x| (x.t, x.v.to_bits())).collect())
        })
        .collect();
    let order = ["counter", "gauge", "float", "stale"];
    by_name.sort_by_key(|(n, _)| order.iter().position(|o| o == n));
    by_name.into_iter().map(|x| x.1).collect()
}

/// The encodings of every chunk of every block in `dir`, by block level.
fn encodings(dir: &Path) -> Vec<(u32, Vec<u8>)> {
    let mut out = Vec::new();
    for ent in std::fs::read_dir(dir).unwrap().flatten() {
        if !ent.path().join("meta.json").exists() {
            continue;
        }
        let b = Block::open(&ent.path()).unwrap();
        let mut encs = Vec::new();
        for id in b.index.all_postings().unwrap() {
            let (_, chunks) = b.index.series(id).unwrap();
            for c in chunks {
                encs.push(b.chunks.chunk(c.r).unwrap().0);
            }
        }
        encs.sort_unstable();
        encs.dedup();
        out.push((b.meta.compaction.level, encs));
    }
    out
}

fn compacted(opts: Options) -> (tempfile::TempDir, Db, Vec<Vec<(i64, u64)>>) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts).unwrap();
    let want = fill(&db);
    db.compact_head().unwrap();
    db.maintain(0).unwrap();
    (dir, db, want)
}

#[test]
fn compaction_writes_dense_blocks_that_read_back_bit_exact() {
    let (dir, db, want) = compacted(Options::default());
    let encs = encodings(dir.path());
    assert!(encs.iter().any(|(l, e)| *l > 1 && e == &[ENCODING_DENSE]), "{encs:?}");
    assert!(encs.iter().any(|(l, e)| *l == 1 && e == &[ENCODING_XOR]), "mixed: {encs:?}");
    assert_eq!(dump(&db, i64::MIN, i64::MAX), want);
    // A window inside a dense block, and one across a dense and an XOR block.
    for (lo, hi) in [(5 * 3_600_000, 5 * 3_600_000 + 600_000), (17 * 3_600_000, 25 * 3_600_000)] {
        let part: Vec<Vec<(i64, u64)>> = want
            .iter()
            .map(|s| s.iter().copied().filter(|x| x.0 >= lo && x.0 <= hi).collect())
            .collect();
        assert_eq!(dump(&db, lo, hi), part);
    }
    // Reopened from disk, the same.
    db.close().unwrap();
    drop(db);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(dump(&db, i64::MIN, i64::MAX), want);

    // Prometheus' XOR everywhere when dense compaction is off.
    let (dir, db, want) = compacted(Options { dense_compaction: false, ..Options::default() });
    assert!(encodings(dir.path()).iter().all(|(_, e)| e == &[ENCODING_XOR]));
    assert_eq!(dump(&db, i64::MIN, i64::MAX), want);
}

#[test]
fn deletion_and_tombstone_cleaning_on_dense_blocks() {
    let (dir, db, want) = compacted(Options::default());
    let (lo, hi) = (3 * 3_600_000, 4 * 3_600_000);
    let m = [Matcher::new(MatchType::Equal, "__name__", "gauge").unwrap()];
    db.delete_series(&m, lo, hi).unwrap();
    let mut expect = want.clone();
    expect[1].retain(|x| x.0 < lo || x.0 > hi);
    assert_eq!(dump(&db, i64::MIN, i64::MAX), expect);
    assert!(db.clean_tombstones().unwrap() > 0);
    assert_eq!(dump(&db, i64::MIN, i64::MAX), expect);
    let encs = encodings(dir.path());
    assert!(encs.iter().any(|(l, e)| *l > 1 && e == &[ENCODING_DENSE]), "{encs:?}");
}

#[test]
fn export_writes_pure_xor_blocks_with_the_same_samples() {
    let (_dir, db, want) = compacted(Options::default());
    // Some samples still in the head as well.
    let mut app = db.appender();
    app.append(0, &series()[0], HOURS * 3_600_000 + 1, 1.5).unwrap();
    app.commit().unwrap();
    let out = tempfile::tempdir().unwrap();
    db.export(out.path()).unwrap();
    let encs = encodings(out.path());
    assert!(!encs.is_empty());
    assert!(encs.iter().all(|(_, e)| e == &[ENCODING_XOR]), "{encs:?}");
    let exported = Db::open(out.path(), Options::default()).unwrap();
    let mut expect = want;
    expect[0].push((HOURS * 3_600_000 + 1, 1.5f64.to_bits()));
    assert_eq!(dump(&exported, i64::MIN, i64::MAX), expect);
}

/// A dense chunk whose bytes are damaged behind a valid checksum fails the query that reads it
/// with a corruption error; nothing panics, and the other series still read.
#[test]
fn damaged_dense_chunk_is_a_query_error() {
    let (dir, db, want) = compacted(Options::default());
    db.close().unwrap();
    drop(db);
    let mut damaged = 0;
    for ent in std::fs::read_dir(dir.path()).unwrap().flatten() {
        let Ok(b) = Block::open(&ent.path()) else { continue };
        if b.meta.compaction.level < 2 {
            continue;
        }
        // The first chunk of the series named "gauge".
        let m = [Matcher::new(MatchType::Equal, "__name__", "gauge").unwrap()];
        let id = b.select_ids(&m).unwrap()[0];
        let r = b.series(id).unwrap().1[0].r;
        let (enc, data) = b.chunks.chunk(r).unwrap();
        assert_eq!(enc, ENCODING_DENSE);
        let len = data.as_ref().len();
        drop(b);
        let seg = ent.path().join("chunks").join(format!("{:06}", (r >> 32) + 1));
        let mut bytes = std::fs::read(&seg).unwrap();
        let off = (r & 0xffff_ffff) as usize;
        let start = off + tsdb::encoding::read_uvarint(&bytes[off..]).unwrap().1;
        // Flip bits in the middle of the chunk data, then fix the CRC so only the decoder sees it.
        bytes[start + 1 + len / 2] ^= 0x5a;
        let crc = tsdb::encoding::crc32(&bytes[start..start + 1 + len]);
        bytes[start + 1 + len..start + 5 + len].copy_from_slice(&crc.to_be_bytes());
        std::fs::write(&seg, bytes).unwrap();
        damaged += 1;
    }
    assert!(damaged > 0);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let m = [Matcher::new(MatchType::Equal, "__name__", "gauge").unwrap()];
    let mut s = q.select(true, None, &m).unwrap().next().unwrap().unwrap();
    let err = collect_samples(s.samples.as_mut()).unwrap_err();
    assert!(err.to_string().contains("malformed dense chunk"), "{err}");
    let m = [Matcher::new(MatchType::Equal, "__name__", "counter").unwrap()];
    let mut s = q.select(true, None, &m).unwrap().next().unwrap().unwrap();
    let got: Vec<(i64, u64)> =
        collect_samples(s.samples.as_mut()).unwrap().iter().map(|x| (x.t, x.v.to_bits())).collect();
    assert_eq!(got, want[0]);
}

/// Series scraped together share their timestamps: in a dense block the first chunk stores
/// them and the others refer to it, so the block's chunks are a fraction of the chunks encoded
/// alone; every sample still reads back bit for bit through a query, and a referring chunk
/// read without its segment (or with its owner damaged) is an error, not a panic.
#[test]
fn shared_timestamps_are_stored_once() {
    use tsdb::blockwriter::{ChunkFormat, SortedBlockWriter};
    use tsdb::chunkenc::dense::{DenseEncoder, DenseIterator, decode_all_in};
    let dir = tempfile::tempdir().unwrap();
    // A few scrapes in ten late by 3-15 ms, at no regular pattern.
    let late = |k: i64| {
        let h = (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
        if h % 10 < 2 { 3 + (h >> 8) as i64 % 13 } else { 0 }
    };
    let t = |k: i64| 1_700_000_000_231 + k * STEP + late(k);
    let other = |k: i64| 1_700_000_007_000 + k * STEP + if k % 11 == 2 { 5 } else { 0 };
    let n = 960i64;
    let mut want: Vec<(Labels, Vec<(i64, f64)>)> = (0..40)
        .map(|i| {
            let l = Labels::new([("__name__", "g"), ("i", &format!("{i:02}"))]);
            (l, (0..n).map(|k| (t(k), (i * 1000 + k % 3) as f64)).collect())
        })
        .collect();
    let l = Labels::new([("__name__", "h"), ("i", "x")]);
    want.push((l, (0..n).map(|k| (other(k), 2.5)).collect()));
    let (mint, maxt) = (1_700_000_000_000 / 7_200_000 * 7_200_000, 1_700_000_000_000 + 86_400_000);
    let mut w = SortedBlockWriter::new(dir.path(), mint, maxt).unwrap();
    w = w.with_format(ChunkFormat::DENSE);
    for (l, s) in &want {
        w.add_series(l.clone(), s).unwrap();
    }
    let meta = w.finish(tsdb::meta::Compaction { level: 2, ..Default::default() }).unwrap();
    let block = dir.path().join(meta.unwrap().ulid);
    let alone: usize = want.iter().map(|(_, s)| DenseEncoder::new(16).encode(s).len()).sum();
    let stored = std::fs::metadata(block.join("chunks/000001")).unwrap().len() as usize;
    assert!(stored * 3 < alone, "{stored} bytes in the block, {alone} encoded alone");

    let db = Db::open(dir.path(), Options { retention_ms: 0, ..Options::default() }).unwrap();
    assert_eq!(common::dump(&db), bits(&want));
    db.close().unwrap();
    drop(db);

    // The last "g" series refers to the first one's timestamps.
    let b = Block::open(&block).unwrap();
    let m = [Matcher::new(MatchType::Equal, "i", "39").unwrap()];
    let r = b.series(b.select_ids(&m).unwrap()[0]).unwrap().1[0].r;
    let (_, data) = b.chunks.chunk(r).unwrap();
    assert!(data.as_ref().len() < 40, "{} bytes", data.as_ref().len());
    assert!(decode_all_in(data.as_ref(), Some(data.segment())).is_some());
    let mut alone = DenseIterator::new(data.as_ref());
    assert!(alone.next().is_none() && alone.is_corrupt());
    // A segment whose owner chunk is damaged: the referring chunk is malformed.
    let mut seg = data.segment().to_vec();
    seg[20] ^= 0x40;
    assert!(decode_all_in(data.as_ref(), Some(&seg)).is_none());
    assert!(decode_all_in(data.as_ref(), Some(&seg[..30])).is_none());
}

/// Series whose samples are the same (constant series of one target, a metric under two
/// names) share one chunk in a dense block: the chunk is written once and both index entries
/// refer to it; each still reads back whole, and deleting from one leaves the other alone.
#[test]
fn identical_chunks_are_written_once() {
    use tsdb::blockwriter::{ChunkFormat, SortedBlockWriter};
    let dir = tempfile::tempdir().unwrap();
    let t = |k: i64| 1_700_000_000_231 + k * STEP + if k % 17 == 3 { 4 } else { 0 };
    let n = 960i64;
    let noisy = |k: i64| ((k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 44) as f64;
    let mut want: Vec<(Labels, Vec<(i64, f64)>)> = Vec::new();
    for i in 0..10 {
        let l = Labels::new([("__name__", "up"), ("c", &format!("{i}"))]);
        want.push((l, (0..n).map(|k| (t(k), 1.0)).collect()));
    }
    for name in ["x_alloc", "x_heap"] {
        want.push((Labels::new([("__name__", name)]), (0..n).map(|k| (t(k), noisy(k))).collect()));
    }
    want.sort_by(|a, b| a.0.cmp(&b.0));
    let (mint, maxt) = (1_700_000_000_000 / 7_200_000 * 7_200_000, 1_700_000_000_000 + 86_400_000);
    let mut w = SortedBlockWriter::new(dir.path(), mint, maxt).unwrap();
    w = w.with_format(ChunkFormat::DENSE);
    for (l, s) in &want {
        w.add_series(l.clone(), s).unwrap();
    }
    let meta = w.finish(tsdb::meta::Compaction { level: 2, ..Default::default() }).unwrap();
    let block = dir.path().join(meta.unwrap().ulid);
    let b = Block::open(&block).unwrap();
    let mut refs = std::collections::BTreeMap::<String, std::collections::BTreeSet<u64>>::new();
    for id in b.index.all_postings().unwrap() {
        let (l, chunks) = b.index.series(id).unwrap();
        let name = l.get("__name__").unwrap().to_string();
        refs.entry(name).or_default().extend(chunks.iter().map(|c| c.r));
    }
    // The first "up" chunk stores its timestamps, the others refer to them: two chunks.
    assert_eq!(refs["up"].len(), 2, "{refs:?}");
    assert_eq!(refs["x_alloc"], refs["x_heap"]);
    assert_ne!(refs["up"], refs["x_alloc"]);
    drop(b);

    let db = Db::open(dir.path(), Options { retention_ms: 0, ..Options::default() }).unwrap();
    let all = common::dump;
    let mut want_bits = bits(&want);
    assert_eq!(all(&db), want_bits);
    let m = [Matcher::new(MatchType::Equal, "__name__", "x_heap").unwrap()];
    db.delete_series(&m, i64::MIN, t(100)).unwrap();
    for (l, s) in &mut want_bits {
        if l.get("__name__") == Some("x_heap") {
            s.retain(|x| x.0 > t(100));
        }
    }
    assert_eq!(all(&db), want_bits);
    assert!(db.clean_tombstones().unwrap() > 0);
    assert_eq!(all(&db), want_bits);
    db.close().unwrap();
}
