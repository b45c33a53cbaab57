//! A map keyed by series ref: a dense vector for the small, sequential refs the head hands out
//! (one indexed load per lookup) and a hash map for anything beyond, such as refs from a
//! foreign WAL. The vector only grows to a few times the number of entries, so a far-off ref
//! (a WAL with heavy churn, or corrupt data) goes to the hash map instead of sizing a vector of
//! millions of empty slots.
//!
//! [`PtrTable`] mirrors the dense refs for readers that take no lock: the append path looks a
//! hinted ref up there with two plain loads.

use std::collections::HashMap;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

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

/// Refs per [`PtrTable`] page.
const PAGE_BITS: u32 = 14;
const PAGE: usize = 1 << PAGE_BITS;
const PAGES: usize = (DENSE_LIMIT >> PAGE_BITS) as usize;

/// Pointers by ref (below [`DENSE_LIMIT`]) that readers load without a lock: fixed pages of
/// atomic slots, allocated on first use and never moved, so a reader needs no lock against a
/// writer growing the table. The table does not own what it points to: whoever stores a
/// pointer keeps its target alive until it has stored null there and no reader can still
/// hold it. Writers must be serialized by the caller (the head's series write lock).
pub struct PtrTable<T> {
    pages: Box<[AtomicPtr<AtomicPtr<T>>]>,
    /// Pages allocated, and non-null slots (both changed by the one writer only).
    pages_used: AtomicUsize,
    entries: AtomicUsize,
}

impl<T> Default for PtrTable<T> {
    fn default() -> Self {
        PtrTable {
            pages: (0..PAGES).map(|_| AtomicPtr::new(null_mut())).collect(),
            pages_used: AtomicUsize::new(0),
            entries: AtomicUsize::new(0),
        }
    }
}

impl<T> PtrTable<T> {
    /// The pointer stored under `r`, or null.
    #[inline]
    pub fn get(&self, r: u64) -> *const T {
        if r >= DENSE_LIMIT {
            return std::ptr::null();
        }
        let page = self.pages[(r >> PAGE_BITS) as usize].load(Ordering::Acquire);
        if page.is_null() {
            return std::ptr::null();
        }
        // SAFETY: a non-null page is a live allocation of PAGE slots (freed only on drop).
        unsafe { (*page.add(r as usize & (PAGE - 1))).load(Ordering::Acquire) }
    }

    /// Stores `p` under `r` (null clears it). Refs beyond [`DENSE_LIMIT`], and refs that would
    /// need a new page while pages outnumber what the entries justify (refs scattered by
    /// churn or a damaged WAL), are not stored: [`PtrTable::get`] returns null for them, and
    /// readers fall back to the locked map. Returns whether the table holds `p` for `r` now.
    ///
    /// # Safety
    /// Calls must not overlap (one writer at a time).
    pub unsafe fn set(&self, r: u64, p: *const T) -> bool {
        if r >= DENSE_LIMIT {
            return p.is_null();
        }
        let slot_page = &self.pages[(r >> PAGE_BITS) as usize];
        let mut page = slot_page.load(Ordering::Acquire);
        if page.is_null() {
            if p.is_null() {
                return true;
            }
            let used = self.pages_used.load(Ordering::Relaxed);
            let entries = self.entries.load(Ordering::Relaxed);
            if used >= 4 && used * PAGE > 4 * (entries + 1) {
                return false;
            }
            let fresh: Box<[AtomicPtr<T>]> =
                (0..PAGE).map(|_| AtomicPtr::new(null_mut())).collect();
            page = Box::into_raw(fresh).cast::<AtomicPtr<T>>();
            slot_page.store(page, Ordering::Release);
            self.pages_used.store(used + 1, Ordering::Relaxed);
        }
        // SAFETY: as in `get`.
        let slot = unsafe { &*page.add(r as usize & (PAGE - 1)) };
        let old = slot.swap(p.cast_mut(), Ordering::AcqRel);
        let n = self.entries.load(Ordering::Relaxed);
        match (old.is_null(), p.is_null()) {
            (true, false) => self.entries.store(n + 1, Ordering::Relaxed),
            (false, true) => self.entries.store(n.saturating_sub(1), Ordering::Relaxed),
            _ => {}
        }
        true
    }
}

impl<T> Drop for PtrTable<T> {
    fn drop(&mut self) {
        for p in self.pages.iter() {
            let page = p.load(Ordering::Acquire);
            if !page.is_null() {
                // SAFETY: allocated in `set` as a boxed slice of PAGE slots.
                drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(page, PAGE)) });
            }
        }
    }
}

// SAFETY: the table holds plain pointers it never dereferences beyond its own pages; sharing
// it is as safe as sharing the pointees, which is the storer's business (see the type's doc).
unsafe impl<T: Sync> Send for PtrTable<T> {}
// SAFETY: as above; all slots are atomics.
unsafe impl<T: Sync> Sync for PtrTable<T> {}

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

    #[test]
    fn ptr_table_pages_and_limits() {
        let t: PtrTable<u32> = PtrTable::default();
        let xs: Vec<u32> = (0..8).collect();
        assert!(t.get(5).is_null());
        // SAFETY: one writer (this test).
        unsafe {
            assert!(t.set(5, &xs[1]));
            assert!(t.set(PAGE as u64 + 3, &xs[2]));
            assert!(!t.set(DENSE_LIMIT, &xs[3]), "beyond the dense limit");
        }
        assert_eq!(t.get(5), &xs[1] as *const u32);
        assert_eq!(t.get(PAGE as u64 + 3), &xs[2] as *const u32);
        assert!(t.get(6).is_null() && t.get(DENSE_LIMIT).is_null() && t.get(u64::MAX).is_null());
        // Scattered refs stop getting pages once pages outnumber the entries.
        let stored = (2..40u64).filter(|i| unsafe { t.set(i * PAGE as u64 * 7, &xs[4]) }).count();
        assert!(stored <= 4, "{stored}");
        // SAFETY: one writer.
        unsafe {
            assert!(t.set(5, std::ptr::null()));
        }
        assert!(t.get(5).is_null());
        assert_eq!(t.get(PAGE as u64 + 3), &xs[2] as *const u32);
    }
}
