//! Fuzzes WAL decoding (crate tsdb). The first byte picks the mode:
//! - 0: the rest is one record handed to the record decoder (series, samples, tombstones,
//!   Pharos' dense samples), as checkpoint and segment replay do;
//! - 1: the rest is a raw segment (page framing, fragments, checksums, snappy records), which
//!   must be read up to a valid offset or reported as corrupt;
//! - 2: the rest is a list of fragments `[type, len_hi, len_lo, payload..]` framed here with
//!   correct CRC32C checksums, so the fuzzer gets past the checksum to fragment reassembly,
//!   snappy/zstd decompression and record decoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsdb::encoding::crc32;
use tsdb::wal::dense::DenseDecoder;
use tsdb::wal::{read_segment, record};

fn frame(mut rest: &[u8]) -> Vec<u8> {
    let mut seg = Vec::with_capacity(rest.len() + 64);
    while let [typ, hi, lo, tail @ ..] = rest {
        let want = usize::from(u16::from_be_bytes([*hi, *lo]));
        let len = want.min(tail.len());
        let payload = &tail[..len];
        seg.push(*typ);
        seg.extend_from_slice(&(len as u16).to_be_bytes());
        seg.extend_from_slice(&crc32(payload).to_be_bytes());
        seg.extend_from_slice(payload);
        rest = &tail[len..];
    }
    seg
}

fn read(seg: &[u8]) {
    // Dense records are coded against earlier ones of the same segment.
    let mut dense = DenseDecoder::default();
    let res = read_segment(seg, |rec| {
        let _ = record::decode_with(rec, &mut dense);
        Ok(())
    });
    if let Ok(Some(c)) = res {
        assert!(c.offset as usize <= seg.len(), "valid data ends past the segment");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    match sel % 3 {
        0 => {
            let _ = record::decode(rest);
            let _ = record::decode_with(rest, &mut DenseDecoder::default());
        }
        1 => read(rest),
        _ => read(&frame(rest)),
    }
});
