//! Inputs found by the fuzz targets in `fuzz/` (cargo-fuzz), kept as regression tests: each
//! must be rejected with an error, promptly, without a panic.

#![allow(clippy::unwrap_used)]

use tsdb::wal::record;

/// fuzz target `wal_record`: a series record whose second series announces a label count
/// read from an overlong varint. The decoder used to loop through ~2^64 empty labels after the
/// buffer ran out (a hang on a corrupt WAL at startup); it must stop at the end of the data.
#[test]
fn series_record_with_a_runaway_label_count_is_an_error() {
    let rec: &[u8] = &[
        0x01, 0x00, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x08, b'_', b'_', b'n', b'a',
        b'm', b'e', b'_', b'_', 0x02, b'u', b'p', 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x82, 0x82,
        0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x08, b'_', b'_', b'n', b'b',
        0x01, b'x',
    ];
    assert!(record::decode(rec).is_err());
}

/// fuzz target `wal_record`: a full snappy-flagged WAL record of 6 bytes announcing ~2.6 GB
/// of decompressed data. Reading the segment allocated the announced size before finding out
/// the data was short; it is now reported as corruption up front (snappy expands at most ~22x).
#[test]
fn snappy_record_announcing_gigabytes_is_corruption() {
    let payload: &[u8] = &[0xa9, 0xa9, 0x82, 0x82, 0x0a, 0x00];
    let mut seg = vec![0xa9, 0x00, payload.len() as u8];
    seg.extend_from_slice(&tsdb::encoding::crc32(payload).to_be_bytes());
    seg.extend_from_slice(payload);
    let mut records = 0;
    let c = tsdb::wal::read_segment(&seg, |_| {
        records += 1;
        Ok(())
    })
    .unwrap()
    .expect("reported as corrupt");
    assert_eq!((c.offset, c.reason.as_str(), records), (0, "bad snappy record", 0));
}
