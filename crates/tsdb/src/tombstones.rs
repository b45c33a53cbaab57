//! Tombstones: deleted time intervals per series, in memory and in a block's `tombstones` file
//! (magic `0x0130BA30`, version byte 1, then (series ref uvarint, mint varint, maxt varint)
//! triples and a CRC32C over everything after the magic except the version byte).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use crate::encoding::{Decbuf, Encbuf, be32_at, crc32};
use crate::error::{Result, TsdbError};

pub const MAGIC_TOMBSTONES: u32 = 0x0130_BA30;
pub const FILE_NAME: &str = "tombstones";

/// A closed time interval `[mint, maxt]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    pub mint: i64,
    pub maxt: i64,
}

impl Interval {
    pub fn contains(&self, t: i64) -> bool {
        self.mint <= t && t <= self.maxt
    }
}

/// Deleted intervals by series ref, each list sorted and merged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tombstones {
    pub by_ref: BTreeMap<u64, Vec<Interval>>,
}

/// Adds `iv` to a sorted, merged interval list, keeping it merged.
pub fn add_interval(list: &mut Vec<Interval>, iv: Interval) {
    list.push(iv);
    list.sort();
    let mut out: Vec<Interval> = Vec::with_capacity(list.len());
    for x in list.drain(..) {
        match out.last_mut() {
            Some(last) if x.mint <= last.maxt.saturating_add(1) => {
                last.maxt = last.maxt.max(x.maxt)
            }
            _ => out.push(x),
        }
    }
    *list = out;
}

/// True if `t` falls in any of `ivs`.
pub fn is_deleted(ivs: &[Interval], t: i64) -> bool {
    ivs.iter().any(|iv| iv.contains(t))
}

impl Tombstones {
    pub fn is_empty(&self) -> bool {
        self.by_ref.is_empty()
    }

    pub fn add(&mut self, r: u64, iv: Interval) {
        add_interval(self.by_ref.entry(r).or_default(), iv);
    }

    pub fn get(&self, r: u64) -> &[Interval] {
        self.by_ref.get(&r).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn num_intervals(&self) -> usize {
        self.by_ref.values().map(Vec::len).sum()
    }

    /// Reads `dir/tombstones`; a missing file means no tombstones.
    pub fn read(dir: &Path) -> Result<Tombstones> {
        let path = dir.join(FILE_NAME);
        let b = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Tombstones::default()),
            Err(e) => return Err(TsdbError::io(format!("read {path:?}"), e)),
        };
        let bad = |why: &str| TsdbError::corrupted("tombstones", why.to_string());
        if b.len() < 9 || be32_at(&b, 0) != Some(MAGIC_TOMBSTONES) {
            return Err(bad("invalid header"));
        }
        if b[4] != 1 {
            return Err(bad("unknown version"));
        }
        let body = &b[5..b.len() - 4];
        if be32_at(&b, b.len() - 4) != Some(crc32(body)) {
            return Err(bad("checksum mismatch"));
        }
        let mut d = Decbuf::new(body);
        let mut t = Tombstones::default();
        while !d.is_empty() {
            let r = d.uvarint();
            let mint = d.varint();
            let maxt = d.varint();
            d.check("tombstones")?;
            t.add(r, Interval { mint, maxt });
        }
        Ok(t)
    }

    /// Writes `dir/tombstones` atomically (temporary file, sync, rename).
    pub fn write(&self, dir: &Path) -> Result<()> {
        let mut e = Encbuf::new();
        e.put_be32(MAGIC_TOMBSTONES);
        e.put_byte(1);
        for (r, ivs) in &self.by_ref {
            for iv in ivs {
                e.put_uvarint(*r);
                e.put_varint(iv.mint);
                e.put_varint(iv.maxt);
            }
        }
        e.put_crc_from(5);
        let tmp = dir.join("tombstones.tmp");
        let path = dir.join(FILE_NAME);
        let mut f =
            std::fs::File::create(&tmp).map_err(|e| TsdbError::io(format!("create {tmp:?}"), e))?;
        f.write_all(&e.b)
            .and_then(|_| f.sync_all())
            .map_err(|e| TsdbError::io("write tombstones", e))?;
        std::fs::rename(&tmp, &path).map_err(|e| TsdbError::io("rename tombstones", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_merge() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = Tombstones::default();
        t.add(3, Interval { mint: 10, maxt: 20 });
        t.add(3, Interval { mint: 15, maxt: 30 });
        t.add(1, Interval { mint: -5, maxt: 5 });
        assert_eq!(t.get(3), &[Interval { mint: 10, maxt: 30 }]);
        t.write(dir.path()).unwrap();
        assert_eq!(Tombstones::read(dir.path()).unwrap(), t);
        let mut b = std::fs::read(dir.path().join(FILE_NAME)).unwrap();
        let n = b.len();
        b[n - 6] ^= 1;
        std::fs::write(dir.path().join(FILE_NAME), b).unwrap();
        assert!(Tombstones::read(dir.path()).is_err());
    }
}
