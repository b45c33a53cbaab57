//! Writes an index file for series already sorted by labels.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::Path;

use model::Labels;

use super::{ChunkMeta, FORMAT_V2, MAGIC_INDEX};
use crate::encoding::{Encbuf, crc32};
use crate::error::{Result, TsdbError};

fn pad(b: &mut Vec<u8>, align: usize) {
    while !b.len().is_multiple_of(align) {
        b.push(0);
    }
}

/// Writes `series` (sorted by labels, chunk refs increasing) as an index file at `path` and
/// returns its size in bytes.
pub fn write_index(path: &Path, series: &[(Labels, Vec<ChunkMeta>)]) -> Result<u64> {
    for w in series.windows(2) {
        if w[0].0 >= w[1].0 {
            return Err(TsdbError::InvalidArgument(format!("series out of order: {}", w[1].0)));
        }
    }
    let mut syms: BTreeSet<&str> = BTreeSet::new();
    for (l, _) in series {
        for lbl in l.iter() {
            syms.insert(&lbl.name);
            syms.insert(&lbl.value);
        }
    }
    let sym_index: HashMap<&str, u32> =
        syms.iter().enumerate().map(|(i, s)| (*s, i as u32)).collect();

    let mut out = Encbuf::new();
    out.put_be32(MAGIC_INDEX);
    out.put_byte(FORMAT_V2);

    // Symbols.
    let toc_symbols = out.len() as u64;
    out.put_be32(0);
    let body = out.len();
    out.put_be32(syms.len() as u32);
    for s in &syms {
        out.put_uvarint_str(s);
    }
    let len = (out.len() - body) as u32;
    out.b[body - 4..body].copy_from_slice(&len.to_be_bytes());
    out.put_crc_from(body);

    // Series.
    pad(&mut out.b, 16);
    let toc_series = out.len() as u64;
    let mut postings: BTreeMap<(&str, &str), Vec<u32>> = BTreeMap::new();
    let mut all: Vec<u32> = Vec::with_capacity(series.len());
    let mut e = Encbuf::new();
    for (labels, chunks) in series {
        pad(&mut out.b, 16);
        let id = (out.len() / 16) as u64;
        let id = u32::try_from(id).map_err(|_| {
            TsdbError::InvalidArgument("index too large for 4-byte series refs".into())
        })?;
        all.push(id);
        e.reset();
        e.put_uvarint(labels.len() as u64);
        for l in labels.iter() {
            e.put_uvarint(u64::from(sym_index[&*l.name]));
            e.put_uvarint(u64::from(sym_index[&*l.value]));
            postings.entry((&l.name, &l.value)).or_default().push(id);
        }
        e.put_uvarint(chunks.len() as u64);
        let mut prev: Option<ChunkMeta> = None;
        for c in chunks {
            match prev {
                None => {
                    e.put_varint(c.mint);
                    e.put_uvarint(c.maxt.wrapping_sub(c.mint) as u64);
                    e.put_uvarint(c.r);
                }
                Some(p) => {
                    e.put_uvarint(c.mint.wrapping_sub(p.maxt) as u64);
                    e.put_uvarint(c.maxt.wrapping_sub(c.mint) as u64);
                    e.put_varint(c.r.wrapping_sub(p.r) as i64);
                }
            }
            prev = Some(*c);
        }
        out.put_uvarint(e.len() as u64);
        out.put_bytes(&e.b);
        out.put_be32(crc32(&e.b));
    }

    // No label indices (deprecated); postings.
    let toc_label_indices = out.len() as u64;
    pad(&mut out.b, 4);
    let toc_postings = out.len() as u64;
    let mut offsets: Vec<(&str, &str, u64)> = Vec::with_capacity(postings.len() + 1);
    let write_postings = |out: &mut Encbuf, refs: &[u32]| -> u64 {
        pad(&mut out.b, 4);
        let off = out.len() as u64;
        out.put_be32(4 + 4 * refs.len() as u32);
        let body = out.len();
        out.put_be32(refs.len() as u32);
        for r in refs {
            out.put_be32(*r);
        }
        out.put_crc_from(body);
        off
    };
    let off = write_postings(&mut out, &all);
    offsets.push(("", "", off));
    for ((n, v), refs) in &postings {
        let off = write_postings(&mut out, refs);
        offsets.push((n, v, off));
    }

    // Empty label offset table.
    let toc_label_table = out.len() as u64;
    out.put_be32(4);
    let body = out.len();
    out.put_be32(0);
    out.put_crc_from(body);

    // Postings offset table.
    let toc_postings_table = out.len() as u64;
    out.put_be32(0);
    let body = out.len();
    out.put_be32(offsets.len() as u32);
    for (n, v, off) in &offsets {
        out.put_uvarint(2);
        out.put_uvarint_str(n);
        out.put_uvarint_str(v);
        out.put_uvarint(*off);
    }
    let len = (out.len() - body) as u32;
    out.b[body - 4..body].copy_from_slice(&len.to_be_bytes());
    out.put_crc_from(body);

    // TOC.
    let toc = out.len();
    for x in [
        toc_symbols,
        toc_series,
        toc_label_indices,
        toc_label_table,
        toc_postings,
        toc_postings_table,
    ] {
        out.put_be64(x);
    }
    out.put_crc_from(toc);

    let mut f =
        std::fs::File::create(path).map_err(|e| TsdbError::io(format!("create {path:?}"), e))?;
    f.write_all(&out.b).map_err(|e| TsdbError::io(format!("write {path:?}"), e))?;
    f.sync_all().map_err(|e| TsdbError::io(format!("sync {path:?}"), e))?;
    Ok(out.len() as u64)
}
