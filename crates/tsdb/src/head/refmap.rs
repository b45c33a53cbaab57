//! A map keyed by series ref: a dense vector for the small, sequential refs the head hands out
//! (one indexed load per lookup) and a hash map for anything beyond, such as refs from a
//! foreign WAL.

use std::collections::HashMap;

/// Refs below this are stored densely.
const DENSE_LIMIT: u64 = 1 << 26;

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
        if *r < DENSE_LIMIT {
            self.dense.get(*r as usize).and_then(Option::as_ref)
        } else {
            self.sparse.get(r)
        }
    }

    pub fn get_mut(&mut self, r: &u64) -> Option<&mut V> {
        if *r < DENSE_LIMIT {
            self.dense.get_mut(*r as usize).and_then(Option::as_mut)
        } else {
            self.sparse.get_mut(r)
        }
    }

    pub fn insert(&mut self, r: u64, v: V) {
        let old = if r < DENSE_LIMIT {
            let i = r as usize;
            if i >= self.dense.len() {
                self.dense.resize_with((i + 1).max(self.dense.len() * 2), || None);
            }
            self.dense[i].replace(v)
        } else {
            self.sparse.insert(r, v)
        };
        if old.is_none() {
            self.len += 1;
        }
    }

    pub fn remove(&mut self, r: &u64) -> Option<V> {
        let old = if *r < DENSE_LIMIT {
            self.dense.get_mut(*r as usize).and_then(Option::take)
        } else {
            self.sparse.remove(r)
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
}
