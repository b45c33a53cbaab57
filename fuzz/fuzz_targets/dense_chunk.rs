//! Fuzzes Pharos' dense chunk decoder (crate tsdb, the chunks of compacted blocks, encoding
//! 0x50): arbitrary bytes must decode to at most the announced number of samples or stop as
//! corrupt, the same way through `next`, `decode_while` and `decode_all`, also when the bytes
//! double as the segment file (chunks sharing another chunk's timestamps). With the first byte
//! odd, the rest is read as samples (timestamps from small or large steps, values from a few
//! styles: decimals, counters, specials, raw bit patterns, nanosecond noise, milliseconds times 0.001), encoded and
//! decoded again, which must give the same samples back bit for bit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsdb::chunkenc::dense::{DenseEncoder, DenseIterator, decode_all, decode_all_in};

/// Reads the next little-endian u64 (short input pads with zeros); `None` at the end.
fn take(b: &mut &[u8], n: usize) -> Option<u64> {
    if b.is_empty() {
        return None;
    }
    let k = n.min(b.len());
    let mut w = [0u8; 8];
    w[..k].copy_from_slice(&b[..k]);
    *b = &b[k..];
    Some(u64::from_le_bytes(w))
}

fn samples(mut b: &[u8]) -> Vec<(i64, f64)> {
    let Some(t0) = take(&mut b, 8) else { return Vec::new() };
    let mut t = (t0 as i64) >> 2;
    let mut v = 0f64;
    let mut out = Vec::new();
    while let Some(op) = take(&mut b, 1) {
        // Timestamp step: on a 15 s grid, a few ms off, or anything.
        let dt = match op & 3 {
            0 | 1 => 15_000,
            2 => 15_000 + take(&mut b, 1).unwrap_or(0) as i64 - 128,
            _ => (take(&mut b, 4).unwrap_or(0) as i64) + 1,
        };
        let Some(nt) = t.checked_add(dt.max(1)) else { break };
        t = nt;
        v = match (op >> 2) & 7 {
            0 => v,
            1 => v + take(&mut b, 1).unwrap_or(0) as f64,
            2 => (v * 100.0 + take(&mut b, 2).unwrap_or(0) as f64).round() / 100.0,
            3 => f64::from_bits(take(&mut b, 8).unwrap_or(0)),
            4 => [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0][(op >> 5) as usize % 5],
            5 => f64::from_bits(0x7ff0_0000_0000_0002), // the staleness marker
            6 => v + (take(&mut b, 2).unwrap_or(0) as f64) * 4096.0,
            // Nanosecond noise above a floor (durations), a millisecond counter multiplied
            // by 0.001, or any nanosecond float.
            _ if op >> 5 & 3 == 1 => (100_000 + take(&mut b, 3).unwrap_or(0)) as f64 / 1e9,
            _ if op >> 5 & 3 == 2 => {
                ((v * 1e3).round() + take(&mut b, 2).unwrap_or(0) as f64) * 1e-3
            }
            _ => (take(&mut b, 8).unwrap_or(0) as i64 as f64) / 1e9,
        };
        out.push((t, v));
        if out.len() >= 5000 {
            break;
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    if sel & 1 == 0 {
        let mut it = DenseIterator::new(rest);
        let total = it.num_samples();
        let mut n = 0u64;
        let mut seen = Vec::new();
        while let Some(s) = it.next() {
            n += 1;
            seen.push(s);
        }
        assert!(n <= total);
        let mut it2 = DenseIterator::new(rest);
        let mut again = Vec::new();
        it2.decode_while(|t, v| {
            again.push((t, v));
            true
        });
        assert_eq!(it.is_corrupt(), it2.is_corrupt());
        assert_eq!(seen.len(), again.len());
        for (a, b) in seen.iter().zip(&again) {
            assert!(a.0 == b.0 && a.1.to_bits() == b.1.to_bits());
        }
        if let Some(all) = decode_all(rest) {
            assert!(!it.is_corrupt() && all.len() == seen.len());
        }
        // The same bytes as the segment file too, so chunks sharing another chunk's
        // timestamps reach the code that reads them there.
        let mut shared = DenseIterator::new_in(rest, Some(rest));
        let mut m = 0u64;
        while shared.next().is_some() {
            m += 1;
        }
        assert!(m <= shared.num_samples());
        let _ = decode_all_in(rest, Some(data));
        return;
    }
    let s = samples(rest);
    if s.is_empty() {
        return;
    }
    let mut enc = DenseEncoder::new(if sel & 2 == 0 { 3 } else { 0 });
    let chunk = enc.encode(&s);
    let back = decode_all(&chunk).expect("a chunk we encoded decodes");
    assert_eq!(back.len(), s.len());
    for ((t1, v1), (t2, v2)) in s.iter().zip(&back) {
        assert_eq!(t1, t2);
        assert_eq!(v1.to_bits(), v2.to_bits());
    }
});
