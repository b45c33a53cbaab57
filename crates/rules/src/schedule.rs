//! When a group evaluates: Prometheus offsets each group within its interval by a hash of
//! its name and file, so evaluations spread out but stay on a fixed slot across restarts.

use xxhash_rust::xxh64::xxh64;

/// Go's `labels.Labels.Hash()` of `{file=<file>, name=<name>}`: xxhash64 over
/// `name 0xff value 0xff` of each label in sorted order.
pub fn group_hash(name: &str, file: &str) -> u64 {
    let mut b = Vec::with_capacity(name.len() + file.len() + 12);
    for (n, v) in [("file", file), ("name", name)] {
        b.extend_from_slice(n.as_bytes());
        b.push(0xff);
        b.extend_from_slice(v.as_bytes());
        b.push(0xff);
    }
    xxh64(&b, 0)
}

/// The group's evaluation slot at or before `start_ns` (nanoseconds), as `Group.EvalTimestamp`.
pub fn eval_timestamp_ns(name: &str, file: &str, interval_ms: i64, start_ns: i64) -> i64 {
    let interval_ns = interval_ms.max(1) as i128 * 1_000_000;
    let offset = (group_hash(name, file) as u128 % interval_ns as u128) as i128;
    let adj = start_ns as i128 - offset;
    let base = adj - adj % interval_ns;
    (base + offset) as i64
}

/// The first evaluation time after a group starts at `now_ns` (one interval after its slot).
pub fn first_eval_ns(name: &str, file: &str, interval_ms: i64, now_ns: i64) -> i64 {
    eval_timestamp_ns(name, file, interval_ms, now_ns) + interval_ms * 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_is_stable_and_in_the_past() {
        let now = 1_700_000_123_456_789_000;
        let t = eval_timestamp_ns("g", "f.yml", 15_000, now);
        assert!(t <= now && now - t < 15_000_000_000);
        let later = eval_timestamp_ns("g", "f.yml", 15_000, now + 15_000_000_000);
        assert_eq!(later - t, 15_000_000_000);
        assert_ne!(group_hash("g", "f.yml"), group_hash("f.yml", "g"));
    }

    #[test]
    fn hash_matches_go_xxhash_of_label_bytes() {
        // xxhash64 of the empty input is a fixed, well-known value.
        assert_eq!(xxh64(b"", 0), 0xef46db3751d8e999);
    }
}
