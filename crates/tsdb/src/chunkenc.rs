//! Prometheus' XOR (Gorilla) chunk encoding, bit for bit.
//!
//! A chunk is a 2-byte big-endian sample count followed by a bit stream: the first timestamp as
//! a varint and value as 64 raw bits, the second timestamp as a uvarint delta and an XOR'd
//! value, then delta-of-delta timestamps in 1/14/17/20/64-bit buckets and XOR'd values that reuse
//! the previous leading/trailing zero window when they fit. See `docs/format/chunks.md`.
//! The encoder is in [`xor`], the decoder in [`xoriter`], their bit streams in [`bits`].
//! Pharos' own denser encoding for compacted blocks is in [`dense`].

mod bits;
pub mod dense;
mod xor;
#[cfg(test)]
mod xor_tests;
mod xoriter;

pub use xor::XorChunk;
pub use xoriter::XorIterator;

/// The encoding byte of XOR chunks in chunk files.
pub const ENCODING_XOR: u8 = 1;

/// Decodes a whole chunk of either encoding Pharos writes (XOR or dense); `None` for an unknown
/// encoding or malformed data.
pub fn decode_any(encoding: u8, data: &[u8]) -> Option<Vec<(i64, f64)>> {
    match encoding {
        ENCODING_XOR => decode_all(data),
        dense::ENCODING_DENSE => dense::decode_all(data),
        _ => None,
    }
}

/// Decodes a whole chunk into samples; `None` if it is malformed.
pub fn decode_all(data: &[u8]) -> Option<Vec<(i64, f64)>> {
    let mut it = XorIterator::new(data);
    let mut out = Vec::with_capacity(usize::from(it.num_samples()));
    while let Some(s) = it.next() {
        out.push(s);
    }
    (!it.is_corrupt()).then_some(out)
}

/// Encodes samples into chunks of at most `per_chunk` samples: (mint, maxt, bytes) each.
pub fn encode_chunks(samples: &[(i64, f64)], per_chunk: usize) -> Vec<(i64, i64, Vec<u8>)> {
    samples
        .chunks(per_chunk.max(1))
        .filter_map(|part| {
            let first = part.first()?;
            let last = part.last()?;
            let mut c = XorChunk::new();
            for &(t, v) in part {
                c.append(t, v);
            }
            Some((first.0, last.0, c.bytes().to_vec()))
        })
        .collect()
}
