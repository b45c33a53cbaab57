//! Fuzzes remote-write decoding and receiving: the first byte picks the protocol version and
//! whether the rest is used as the raw snappy body (exercising the snappy decoder and its size
//! limit) or as the protobuf message, compressed here so the fuzzer reaches the protobuf and
//! label validation. Accepted requests are appended to an in-memory storage.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storage::MemStorage;

/// The receiver's clock for the out-of-bounds check.
const NOW_MS: i64 = 1_700_000_000_000;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let body = if sel & 1 == 0 { remote::codec::snappy_encode(rest) } else { rest.to_vec() };
    let db = MemStorage::new();
    let res = if sel & 2 == 0 {
        remote::receive_write(&db, &body, NOW_MS)
    } else {
        remote::receive_write_v2(&db, &body, NOW_MS)
    };
    match res {
        Ok(stats) => {
            // All or nothing: what the receiver says it stored is what the storage holds.
            assert!(db.num_samples() <= stats.samples);
        }
        Err(e) => {
            assert!(matches!(e.status_code(), 400 | 500));
            let _ = e.to_string();
            // A rejected request stores nothing.
            assert_eq!(db.num_samples(), 0, "rejected write left samples behind: {e}");
        }
    }
    let _ = remote::codec::decode_read_request(&body);
    let _ = remote::codec::decode_read_response(&body);
});
