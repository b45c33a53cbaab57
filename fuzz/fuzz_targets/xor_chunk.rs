//! Fuzzes the XOR chunk decoder (crate tsdb, the on-disk chunk format shared with Prometheus):
//! arbitrary bytes must decode to at most the announced number of samples or stop as corrupt.
//! With the first byte odd, the rest is read as (t, v) pairs, encoded and decoded again, which
//! must give the same samples back bit for bit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsdb::chunkenc::{XorChunk, XorIterator, decode_all};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    if sel & 1 == 0 {
        let mut it = XorIterator::new(rest);
        let total = it.num_samples();
        let mut n = 0u32;
        while it.next().is_some() {
            n += 1;
        }
        assert!(n <= u32::from(total));
        let _ = decode_all(rest);
        return;
    }
    // Round trip: increasing timestamps from the fuzz bytes, any f64 bit pattern.
    let mut samples = Vec::new();
    let mut t = i64::from_le_bytes(rest.get(..8).and_then(|b| b.try_into().ok()).unwrap_or([0; 8]));
    t >>= 2; // leave room for the deltas below
    for pair in rest.get(8..).unwrap_or(&[]).chunks_exact(12) {
        let dt = i64::from(u32::from_le_bytes([pair[0], pair[1], pair[2], pair[3]])) + 1;
        let v = f64::from_bits(u64::from_le_bytes(pair[4..12].try_into().unwrap()));
        t = match t.checked_add(dt) {
            Some(nt) => nt,
            None => break,
        };
        samples.push((t, v));
    }
    let mut c = XorChunk::new();
    let mut kept = Vec::new();
    for &(t, v) in &samples {
        if c.is_full() {
            break;
        }
        c.append(t, v);
        kept.push((t, v));
    }
    let back = decode_all(c.bytes()).expect("a chunk we encoded decodes");
    assert_eq!(back.len(), kept.len());
    for ((t1, v1), (t2, v2)) in kept.iter().zip(&back) {
        assert_eq!(t1, t2);
        assert_eq!(v1.to_bits(), v2.to_bits());
    }
});
