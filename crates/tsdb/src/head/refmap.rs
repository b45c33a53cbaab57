//! A map keyed by series ref: a dense vector for the small, sequential refs the head hands out
//! (one indexed load per lookup) and a hash map for anything beyond, such as refs from a
//! foreign WAL. The vector only grows to a few times the number of entries, so a far-off ref
//! (a WAL with heavy churn, or corrupt data) goes to the hash map instead of sizing a vector of
//! millions of empty slots.

use std::collections::HashMap;

/// Refs below this are stored densely.
const DENSE_LIMIT: u64 = 1 << 26;

/// The dense vector grows to at most this many slots per entry (plus [`DENSE_SLACK`]).
const DENSE_SLOTS_PER_ENTRY: usize = 16;
const DENSE_SLACK: usize = 1024;

#[derive(Debug)]
pub struct RefMap<V> {
    dense: Vec<Option<V>>,
    sparse: HashMap<u64, V, ahash::RandomState>,
    len: usize,
}

impl<V> Default for RefMap<V> {
    fn default() -> Self {
        RefMap { dense: Vec::new(), sparse: HashMap::default(), len: 0 }
    }
}

impl<V> RefMap<V> {
    pub fn get(&self, r: &u64) -> Option<&V> {
        if let Some(Some(v)) = self.dense.get(*r as usize) {
            return Some(v);
        }
        if self.sparse.is_empty() { None } else { self.sparse.get(r) }
    }

    pub fn get_mut(&mut self, r: &u64) -> Option<&mut V> {
        if let Some(Some(_)) = self.dense.get(*r as usize) {
            return self.dense.get_mut(*r as usize).and_then(Option::as_mut);
        }
        if self.sparse.is_empty() { None } else { self.sparse.get_mut(r) }
    }

    pub fn insert(&mut self, r: u64, v: V) {
        let i = r as usize;
        let room = (self.len + 1).saturating_mul(DENSE_SLOTS_PER_ENTRY).saturating_add(DENSE_SLACK);
        let old = if r < DENSE_LIMIT && (i < self.dense.len() || i < room) {
            if i >= self.dense.len() {
                self.dense
                    .resize_with((i + 1).max(self.dense.len() * 2).min(room.max(i + 1)), || None);
            }
            // The ref may have gone to the hash map before the vector reached it.
            let old = self.dense[i].replace(v);
            if old.is_none() && !self.sparse.is_empty() { self.sparse.remove(&r) } else { old }
        } else {
            self.sparse.insert(r, v)
        };
        if old.is_none() {
            self.len += 1;
        }
    }

    pub fn remove(&mut self, r: &u64) -> Option<V> {
        let old = match self.dense.get_mut(*r as usize).and_then(Option::take) {
            Some(v) => Some(v),
            None if self.sparse.is_empty() => None,
            None => self.sparse.remove(r),
        };
        if old.is_some() {
            self.len -= 1;
        }
        old
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Entries in ref order for dense refs, then sparse ones in any order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &V)> {
        self.dense
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.as_ref().map(|v| (i as u64, v)))
            .chain(self.sparse.iter().map(|(r, v)| (*r, v)))
    }

    /// Like [`RefMap::iter`], with mutable values.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (u64, &mut V)> {
        self.dense
            .iter_mut()
            .enumerate()
            .filter_map(|(i, v)| v.as_mut().map(|v| (i as u64, v)))
            .chain(self.sparse.iter_mut().map(|(r, v)| (*r, v)))
    }

    pub fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.iter().map(|(r, _)| r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse() {
        let mut m = RefMap::default();
        m.insert(3, "a");
        m.insert(1 << 40, "b");
        m.insert(3, "c");
        assert_eq!(m.len(), 2);
        assert_eq!(m.get(&3), Some(&"c"));
        assert_eq!(m.get(&(1 << 40)), Some(&"b"));
        assert_eq!(m.get(&4), None);
        assert_eq!(m.keys().collect::<Vec<_>>(), vec![3, 1 << 40]);
        assert_eq!(m.remove(&3), Some("c"));
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn a_far_ref_does_not_size_the_vector() {
        let mut m = RefMap::default();
        m.insert(1, 1.0);
        m.insert((1 << 26) - 1, 2.0);
        assert!(
            m.dense.len() <= 2 * (DENSE_SLACK + 2 * DENSE_SLOTS_PER_ENTRY),
            "{}",
            m.dense.len()
        );
        assert_eq!(m.get(&((1 << 26) - 1)), Some(&2.0));
        // Once the vector covers a ref held in the hash map, an insert moves it over.
        for r in 2..3000 {
            m.insert(r, r as f64);
        }
        m.insert(2500, -1.0);
        assert_eq!(m.len(), 3000);
        assert_eq!(m.get(&2500), Some(&-1.0));
        assert_eq!(m.remove(&((1 << 26) - 1)), Some(2.0));
        assert_eq!(m.len(), 2999);
        *m.get_mut(&2).unwrap() = 7.0;
        assert_eq!(m.get(&2), Some(&7.0));
    }
}
