//! A process-wide string interner so equal label names and values share one allocation.
//!
//! Interned strings are [`IStr`]s; the table only holds strings that some label set still uses
//! once [`collect_garbage`] has run, so churned label values do not leak forever.

use std::collections::HashSet;
use std::sync::OnceLock;

use parking_lot::Mutex;

const SHARDS: usize = 16;

use crate::IStr;

type Shard = Mutex<HashSet<IStr, ahash::RandomState>>;

fn shards() -> &'static [Shard; SHARDS] {
    static TABLE: OnceLock<[Shard; SHARDS]> = OnceLock::new();
    TABLE.get_or_init(|| std::array::from_fn(|_| Mutex::new(HashSet::default())))
}

fn shard_for(s: &str) -> &'static Shard {
    let mut h: u32 = 2166136261;
    for b in s.bytes().take(32) {
        h = (h ^ u32::from(b)).wrapping_mul(16777619);
    }
    &shards()[h as usize % SHARDS]
}

/// Returns the shared [`IStr`] for `s`, inserting it on first use.
pub fn intern(s: &str) -> IStr {
    let mut shard = shard_for(s).lock();
    if let Some(existing) = shard.get(s) {
        return existing.clone();
    }
    let arc = IStr::new(s);
    shard.insert(arc.clone());
    arc
}

/// Drops interned strings that nothing references any more. Returns how many were dropped.
pub fn collect_garbage() -> usize {
    let mut dropped = 0;
    for shard in shards() {
        let mut shard = shard.lock();
        let before = shard.len();
        shard.retain(|s| IStr::strong_count(s) > 1);
        dropped += before - shard.len();
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_one_allocation() {
        let a = intern("job");
        let b = intern(&String::from("job"));
        assert!(crate::IStr::ptr_eq(&a, &b));
    }

    #[test]
    fn unused_strings_are_collected() {
        let unique = "intern-gc-test-value-8c1f";
        drop(intern(unique));
        collect_garbage();
        let shard = shard_for(unique).lock();
        assert!(shard.get(unique).is_none());
    }
}
