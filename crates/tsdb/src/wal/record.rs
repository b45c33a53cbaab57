//! WAL record payloads, as Prometheus encodes them: series (type 1), float samples (type 2) and
//! tombstones (type 3), plus Pharos' dense samples ([`super::dense`]). Other record types are
//! recognised and skipped on replay.

use model::{Label, Labels};

use crate::encoding::{Decbuf, Encbuf};
use crate::error::Result;

pub const SERIES: u8 = 1;
pub const SAMPLES: u8 = 2;
pub const TOMBSTONES: u8 = 3;

/// A decoded record.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Series(Vec<(u64, Labels)>),
    Samples(Vec<(u64, i64, f64)>),
    Tombstones(Vec<(u64, i64, i64)>),
    Other(u8),
}

pub fn encode_series(series: &[(u64, &Labels)], out: &mut Encbuf) {
    out.put_byte(SERIES);
    for (r, labels) in series {
        out.put_be64(*r);
        out.put_uvarint(labels.len() as u64);
        for l in labels.iter() {
            out.put_uvarint_str(&l.name);
            out.put_uvarint_str(&l.value);
        }
    }
}

pub fn encode_samples(samples: &[(u64, i64, f64)], out: &mut Encbuf) {
    out.put_byte(SAMPLES);
    let Some(&(fr, ft, _)) = samples.first() else { return };
    out.put_be64(fr);
    out.put_be64(ft as u64);
    for &(r, t, v) in samples {
        out.put_varint((r as i64).wrapping_sub(fr as i64));
        out.put_varint(t.wrapping_sub(ft));
        out.put_be64(v.to_bits());
    }
}

pub fn encode_tombstones(stones: &[(u64, i64, i64)], out: &mut Encbuf) {
    out.put_byte(TOMBSTONES);
    for &(r, mint, maxt) in stones {
        out.put_be64(r);
        out.put_varint(mint);
        out.put_varint(maxt);
    }
}

/// Decodes one record; dense sample records use (and update) `dense`, the state of the segment
/// being read.
pub fn decode_with(rec: &[u8], dense: &mut super::dense::DenseDecoder) -> Result<Record> {
    if rec.first() == Some(&super::dense::DENSE_SAMPLES) {
        return dense.decode(rec).map(Record::Samples);
    }
    decode(rec)
}

/// Decodes a series record, taking each label name and value string through `intern`.
pub fn decode_series(rec: &[u8], mut intern: impl FnMut(&str) -> model::IStr) -> Result<Record> {
    let mut d = Decbuf::new(rec);
    if d.byte() != SERIES {
        return Err(crate::TsdbError::corrupted("wal series record", "wrong record type"));
    }
    let mut out = Vec::new();
    while !d.is_empty() {
        let r = d.be64();
        let n = d.uvarint();
        let mut ls = Vec::with_capacity((n as usize).min(64));
        for _ in 0..n {
            let name = d.uvarint_str();
            let value = d.uvarint_str();
            // A corrupt count must not spin through 2^64 empty labels.
            if !d.ok() {
                break;
            }
            ls.push(Label { name: intern(name), value: intern(value) });
        }
        d.check("wal series record")?;
        // Writers log label sets sorted, unique and without empty values: taken as they are.
        let labels = if ls.windows(2).all(|w| w[0].name < w[1].name)
            && ls.iter().all(|l| !l.value.is_empty())
        {
            Labels::from_sorted_unchecked(ls)
        } else {
            Labels::from_vec(ls)
        };
        out.push((r, labels));
    }
    Ok(Record::Series(out))
}

pub fn decode(rec: &[u8]) -> Result<Record> {
    let mut d = Decbuf::new(rec);
    let typ = d.byte();
    match typ {
        SERIES => decode_series(rec, model::intern),
        SAMPLES => {
            let mut out = Vec::new();
            if d.is_empty() {
                return Ok(Record::Samples(out));
            }
            let fr = d.be64();
            let ft = d.be64() as i64;
            while !d.is_empty() {
                let dr = d.varint();
                let dt = d.varint();
                let v = f64::from_bits(d.be64());
                d.check("wal samples record")?;
                out.push(((fr as i64).wrapping_add(dr) as u64, ft.wrapping_add(dt), v));
            }
            Ok(Record::Samples(out))
        }
        TOMBSTONES => {
            let mut out = Vec::new();
            while !d.is_empty() {
                let r = d.be64();
                let mint = d.varint();
                let maxt = d.varint();
                d.check("wal tombstones record")?;
                out.push((r, mint, maxt));
            }
            Ok(Record::Tombstones(out))
        }
        other => Ok(Record::Other(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let l = Labels::new([("__name__", "up"), ("job", "x")]);
        let mut e = Encbuf::new();
        encode_series(&[(7, &l)], &mut e);
        assert_eq!(decode(&e.b).unwrap(), Record::Series(vec![(7, l)]));
        e.reset();
        let s = vec![(7, 1000, 1.5), (3, 900, f64::INFINITY), (9, 2000, -1.0)];
        encode_samples(&s, &mut e);
        assert_eq!(decode(&e.b).unwrap(), Record::Samples(s));
        e.reset();
        encode_tombstones(&[(1, -5, 5)], &mut e);
        assert_eq!(decode(&e.b).unwrap(), Record::Tombstones(vec![(1, -5, 5)]));
        assert!(decode(&e.b[..e.b.len() - 1]).is_err());
    }

    #[test]
    fn series_logged_unsorted_or_with_empty_values_are_made_valid() {
        let mut e = Encbuf::new();
        e.put_byte(SERIES);
        e.put_be64(3);
        e.put_uvarint(4);
        for (n, v) in [("job", "x"), ("a", ""), ("__name__", "up"), ("job", "y")] {
            e.put_uvarint_str(n);
            e.put_uvarint_str(v);
        }
        let want = Labels::new([("__name__", "up"), ("job", "y")]);
        assert_eq!(decode(&e.b).unwrap(), Record::Series(vec![(3, want.clone())]));
        e.reset();
        encode_series(&[(4, &want)], &mut e);
        let Record::Series(got) = decode(&e.b).unwrap() else { panic!("not a series record") };
        assert_eq!(got[0].1.hash64(), want.hash64());
    }
}
