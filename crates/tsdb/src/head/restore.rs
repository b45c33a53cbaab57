//! Building the head in bulk on open (WAL replay, head snapshot). Series are built in a
//! [`Building`], which holds the only handle to each and reaches it without locking (replaying
//! a sample takes no lock and no atomic operation), then handed to the head in one pass at the
//! end ([`Head::install`]): the empty head takes the hash index as it was built, and the postings of all of them are built by grouping the refs of each label
//! pair once (a hash per label, where adding series one by one costs two searches of ordered
//! string maps per label). Nothing reads the head while it is being restored.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use model::Labels;
use parking_lot::Mutex;
use smallvec::SmallVec;

use super::postings::PostingList;
use super::refmap::RefMap;
use super::{Head, MemSeries, MixHash, SeriesHandle, hash_key};

/// A series made ahead of [`Building::get_or_insert`], with its label-set hash: the thread
/// decoding a WAL makes them, so the allocations and the hashing are not on the thread that
/// builds the head.
pub(crate) struct NewSeries {
    pub(crate) r: u64,
    hash: u64,
    handle: SeriesHandle,
}

impl NewSeries {
    pub(crate) fn new(r: u64, labels: Labels) -> NewSeries {
        let hash = labels.hash64();
        NewSeries { r, hash, handle: Arc::new(Mutex::new(MemSeries::new(labels))) }
    }
}

/// Series restored so far, not yet in the head: `(ref, series)` in creation order (each
/// handle the only one to its series until [`Head::install`]), with the
/// head's own index by label-set hash (see [`super::SeriesMap`]), built as the series come so
/// that an empty head takes it as it is, and used meanwhile to find a series a WAL logs again
/// under another ref.
#[derive(Default)]
pub(crate) struct Building {
    series: Vec<(u64, SeriesHandle)>,
    /// Ref -> index in `series`.
    index: RefMap<u32>,
    /// Folded label-set hash -> ref of the first series with it, and refs of further series
    /// that fold alike or do not fit 32 bits, as [`super::SeriesMap`] keeps them.
    by_hash: HashMap<u32, u32, MixHash>,
    collisions: HashMap<u32, SmallVec<[u64; 1]>, ahash::RandomState>,
}

impl Building {
    /// Room for `n` series without growing.
    pub(crate) fn with_capacity(n: usize) -> Building {
        Building {
            series: Vec::with_capacity(n),
            index: RefMap::default(),
            by_hash: HashMap::with_capacity_and_hasher(n, MixHash),
            collisions: HashMap::default(),
        }
    }

    /// How many series have been built (indices run from 0 to this).
    pub(crate) fn len(&self) -> usize {
        self.series.len()
    }

    /// The index of the series with `labels`, creating it under ref `r` if there is none yet;
    /// true if it was created.
    pub(crate) fn get_or_create(&mut self, labels: &Labels, r: u64) -> (usize, bool) {
        self.get_or_create_hashed(labels.hash64(), labels, r)
    }

    fn get_or_create_hashed(&mut self, h: u64, labels: &Labels, r: u64) -> (usize, bool) {
        match self.find_or_file(h, labels, r) {
            Some(i) => (i, false),
            None => {
                self.series.push((r, Arc::new(Mutex::new(MemSeries::new(labels.clone())))));
                (self.series.len() - 1, true)
            }
        }
    }

    /// [`Building::get_or_create`] for a series made ahead, on another thread: `s` is
    /// dropped if a series with its labels exists.
    pub(crate) fn get_or_insert(&mut self, s: NewSeries) -> (usize, bool) {
        let NewSeries { r, hash, handle } = s;
        // SAFETY: `handle` was made by `NewSeries::new` and never cloned: this is the only
        // handle to the series, and it is not shared with another thread.
        let labels = unsafe { &(*handle.data_ptr()).labels };
        match self.find_or_file(hash, labels, r) {
            Some(i) => (i, false),
            None => {
                self.series.push((r, handle));
                (self.series.len() - 1, true)
            }
        }
    }

    /// The index of the series with `labels` (label-set hash `h`), or `None` after filing
    /// ref `r` for a new series at index `self.series.len()`, which the caller pushes.
    fn find_or_file(&mut self, h: u64, labels: &Labels, r: u64) -> Option<usize> {
        let k = hash_key(h);
        let first = self.by_hash.get(&k).map(|&x| u64::from(x));
        let more = if self.collisions.is_empty() { None } else { self.collisions.get(&k) };
        let found = first.into_iter().chain(more.into_iter().flatten().copied()).find_map(|x| {
            let i = *self.index.get(&x)? as usize;
            (self.get(i)?.labels == *labels).then_some(i)
        });
        if found.is_some() {
            return found;
        }
        // A ref logged again for other labels (a damaged WAL): the later series takes it.
        if let Some(&old) = self.index.get(&r) {
            self.unfile(old as usize);
        }
        let i = self.series.len();
        match (self.by_hash.entry(k), u32::try_from(r)) {
            (std::collections::hash_map::Entry::Vacant(e), Ok(r32)) => {
                e.insert(r32);
            }
            _ => self.collisions.entry(k).or_default().push(r),
        }
        self.index.insert(r, i as u32);
        None
    }

    /// Takes the series at index `i` out of the hash index (its ref goes to another series).
    fn unfile(&mut self, i: usize) {
        let Some(s) = self.get(i) else { return };
        let k = hash_key(s.labels.hash64());
        let Some(&(r, _)) = self.series.get(i) else { return };
        if self.by_hash.get(&k).map(|&x| u64::from(x)) == Some(r) {
            self.by_hash.remove(&k);
        }
        if let Some(v) = self.collisions.get_mut(&k) {
            v.retain(|x| *x != r);
        }
        self.index.remove(&r);
    }

    /// The ref and series at index `i` (from [`Building::get_or_create`]).
    #[inline]
    pub(crate) fn get_mut(&mut self, i: usize) -> Option<(u64, &mut MemSeries)> {
        let (r, s) = self.series.get(i)?;
        // SAFETY: the building holds the only handle to each of its series (none is handed
        // out before `Head::install` takes them all) and `&mut self` keeps every other access
        // out, so the series' data is reached through its mutex' cell without locking.
        Some((*r, unsafe { &mut *s.data_ptr() }))
    }

    /// The series at index `i`, to read (e.g. to pull its open chunk into the cache).
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&MemSeries> {
        let (_, s) = self.series.get(i)?;
        // SAFETY: as in `get_mut`; `&self` keeps writers out.
        Some(unsafe { &*s.data_ptr() })
    }

    /// The series below index `mid` and those from it on, as two parts that two threads may
    /// change at once.
    pub(crate) fn split_at_mut(&mut self, mid: usize) -> (Part<'_>, Part<'_>) {
        let mid = mid.min(self.series.len());
        let (a, b) = self.series.split_at_mut(mid);
        (Part { series: a, first: 0 }, Part { series: b, first: mid })
    }
}

/// Series of a [`Building`] from index `first` on, borrowed for changing them
/// ([`Building::split_at_mut`]).
pub(crate) struct Part<'a> {
    series: &'a mut [(u64, SeriesHandle)],
    first: usize,
}

impl Part<'_> {
    /// The ref and series at index `i` of the building, if it is in this part.
    #[inline]
    pub(crate) fn get_mut(&mut self, i: usize) -> Option<(u64, &mut MemSeries)> {
        let (r, s) = self.series.get(i.checked_sub(self.first)?)?;
        // SAFETY: as in `Building::get_mut`: the building holds the only handle to each
        // series, and this part borrows its share of them exclusively.
        Some((*r, unsafe { &mut *s.data_ptr() }))
    }

    /// Starts loading the series at index `i` (if in this part) into the CPU cache, and the
    /// end of its open chunk.
    #[inline]
    pub(crate) fn prefetch(&self, i: usize, chunk_end: bool) {
        let Some((_, s)) = i.checked_sub(self.first).and_then(|k| self.series.get(k)) else {
            return;
        };
        if chunk_end {
            // SAFETY: as in `get_mut`; `&self` keeps writers out.
            let m = unsafe { &*s.data_ptr() };
            if let Some(o) = m.open.as_ref() {
                super::prefetch(o.chunk.write_lines()[0]);
            }
        } else {
            let p = Arc::as_ptr(s).cast::<u8>();
            for k in 0..std::mem::size_of::<Mutex<MemSeries>>().div_ceil(128) {
                super::prefetch(p.wrapping_add(k * 128));
            }
        }
    }
}

impl Head {
    /// Moves the restored series into the head, with their postings, and makes new series get
    /// refs above theirs. Restores run on open, into an empty head, which takes the hash index
    /// as it was built; a head that already has series gets them one by one (one whose labels
    /// it has keeps the head's, and the restored one is dropped).
    pub(crate) fn install(&self, built: Building) {
        // A series that lost its ref to a later one (see `get_or_create_hashed`) is dropped.
        let live: Vec<bool> = (0..built.series.len())
            .map(|i| {
                built
                    .series
                    .get(i)
                    .is_some_and(|(r, _)| built.index.get(r).is_some_and(|&j| j as usize == i))
            })
            .collect();
        let mut map = self.series.write();
        let mut max_ref = 0;
        if map.by_ref.is_empty() && map.by_hash.is_empty() && map.collisions.is_empty() {
            self.index_installed(
                (0..built.series.len())
                    .filter(|&i| live[i])
                    .filter_map(|i| Some((built.series.get(i)?.0, &built.get(i)?.labels))),
            );
            let Building { series, by_hash, collisions, .. } = built;
            map.by_hash = by_hash;
            map.collisions = collisions;
            map.collisions.retain(|_, v| !v.is_empty());
            for ((r, s), live) in series.into_iter().zip(live) {
                if live {
                    max_ref = max_ref.max(r);
                    // SAFETY: the head's series write lock is held (one writer at a time),
                    // and the series stays in `by_ref` (see `SeriesMap::insert`).
                    unsafe { map.ptrs.set(r, Arc::as_ptr(&s)) };
                    map.by_ref.insert(r, s);
                }
            }
        } else {
            let mut installed = Vec::new();
            for ((r, s), live) in built.series.into_iter().zip(live) {
                let labels = s.lock().labels.clone();
                let h = labels.hash64();
                if !live || map.find_hashed(h, &labels).is_some() || map.by_ref.get(&r).is_some() {
                    continue;
                }
                max_ref = max_ref.max(r);
                installed.push((r, labels));
                map.insert(r, h, s);
            }
            self.index_installed(installed.iter().map(|(r, l)| (*r, l)));
        }
        drop(map);
        self.next_ref.fetch_max(max_ref.saturating_add(1), Ordering::AcqRel);
    }

    /// Adds `series` (ref and labels) to the postings.
    fn index_installed<'l>(&self, series: impl Iterator<Item = (u64, &'l Labels)>) {
        // Label pairs by the addresses of their interned strings; equal strings under two
        // allocations only make two groups that land in the same list below.
        type Group = (model::IStr, model::IStr, Vec<u64>);
        let mut groups: HashMap<(usize, usize), Group, ahash::RandomState> = HashMap::default();
        for (r, labels) in series {
            for l in labels.iter() {
                let key = (model::IStr::addr(&l.name), model::IStr::addr(&l.value));
                groups
                    .entry(key)
                    .or_insert_with(|| (l.name.clone(), l.value.clone(), Vec::new()))
                    .2
                    .push(r);
            }
        }
        let mut postings = self.postings.write();
        for (_, (name, value, mut refs)) in groups {
            if !refs.is_sorted() {
                refs.sort_unstable();
            }
            refs.dedup();
            let list = postings.m.entry(name).or_default().entry(value).or_default();
            if !list.is_empty() {
                for r in refs {
                    list.insert(r);
                }
            } else if refs.last().is_none_or(|&r| u32::try_from(r).is_ok()) {
                *list = PostingList::Narrow(refs.iter().map(|&r| r as u32).collect());
            } else {
                refs.shrink_to_fit();
                *list = PostingList::Wide(refs);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_series_get_the_postings_of_series_added_one_by_one() {
        let one = Head::new(7_200_000, 0, None);
        let bulk = Head::new(7_200_000, 0, None);
        let mut built = Building::with_capacity(2);
        let sets: Vec<(u64, Labels)> = [9u64, 3, 5, 1 << 40, 7, 3]
            .iter()
            .enumerate()
            .map(|(i, &r)| {
                (r, Labels::new([("job", "a"), ("i", &(i % 4).to_string()), ("x", "y")]))
            })
            .collect();
        for (r, l) in &sets {
            one.get_or_create(l, Some(*r));
            built.get_or_create(l, *r);
        }
        // Label sets logged again under another ref are one series.
        assert_eq!(built.len(), 4);
        assert_eq!(built.get_or_create(&sets[0].1, 11), (0, false));
        bulk.install(built);
        assert_eq!(bulk.num_series(), one.num_series());
        assert_eq!(bulk.next_ref(), one.next_ref());
        assert_eq!(bulk.all_series().iter().map(|s| s.0).collect::<Vec<_>>(), [3, 5, 9, 1 << 40]);
        for (r, l) in &sets[..4] {
            assert_eq!(bulk.lookup(l).map(|x| x.0), Some(*r));
        }
        // Appenders find the small refs in the lock-free table, as for series added one by one.
        for r in [3, 5, 9] {
            let s = bulk.get(r).unwrap();
            assert_eq!(bulk.ptrs.get(r), Arc::as_ptr(&s));
        }
        let p1 = one.postings.read();
        let p2 = bulk.postings.read();
        assert_eq!(p1.m, p2.m);
        assert!(!p2.m.is_empty());
    }

    #[test]
    fn label_sets_that_hash_alike_stay_apart_while_building() {
        let mut b = Building::default();
        let ls: Vec<Labels> = (0..3).map(|i| Labels::new([("a", i.to_string())])).collect();
        for (i, l) in ls.iter().enumerate() {
            assert_eq!(b.get_or_create_hashed(42, l, i as u64 + 1), (i, true));
        }
        for (i, l) in ls.iter().enumerate() {
            assert_eq!(b.get_or_create_hashed(42, l, 9), (i, false));
        }
        assert_eq!(b.len(), 3);
        assert_eq!(b.by_hash.len(), 1);
        assert_eq!(b.collisions.get(&hash_key(42)).map(|v| v.len()), Some(2));
    }

    #[test]
    fn a_ref_logged_again_for_other_labels_goes_to_the_later_series() {
        let (a, b2) = (Labels::new([("s", "a")]), Labels::new([("s", "b")]));
        let mut b = Building::default();
        assert_eq!(b.get_or_create(&a, 5), (0, true));
        assert_eq!(b.get_or_create(&b2, 5), (1, true));
        assert_eq!(b.get_or_create(&b2, 6), (1, false));
        // The earlier series is no longer found by its labels: logged again, it is new.
        assert_eq!(b.get_or_create(&a, 7), (2, true));
        let head = Head::new(7_200_000, 0, None);
        head.install(b);
        assert_eq!(head.num_series(), 2);
        assert_eq!(head.lookup(&b2).map(|x| x.0), Some(5));
        assert_eq!(head.lookup(&a).map(|x| x.0), Some(7));
        assert_eq!(head.postings.read().get("s", "a"), vec![7]);
        assert_eq!(head.next_ref(), 8);
    }

    #[test]
    fn series_made_ahead_are_filed_as_created_ones() {
        let (a, b2) = (Labels::new([("s", "a")]), Labels::new([("s", "b")]));
        let mut b = Building::default();
        assert_eq!(b.get_or_insert(NewSeries::new(5, a.clone())), (0, true));
        assert_eq!(b.get_or_create(&b2, 6), (1, true));
        // Labels known already (under another ref, as a WAL may log them again): the series
        // made ahead is dropped and the existing one found, by either way in.
        assert_eq!(b.get_or_insert(NewSeries::new(9, a.clone())), (0, false));
        assert_eq!(b.get_or_insert(NewSeries::new(10, b2.clone())), (1, false));
        assert_eq!(b.get_or_create(&a, 11), (0, false));
        assert_eq!(b.len(), 2);
        assert_eq!(b.get(0).map(|s| s.labels.clone()), Some(a));
    }

    #[test]
    fn install_keeps_a_series_the_head_already_has() {
        let head = Head::new(7_200_000, 0, None);
        let l = Labels::new([("job", "a")]);
        head.get_or_create(&l, Some(4));
        let mut b = Building::default();
        b.get_or_create(&l, 8);
        b.get_or_create(&Labels::new([("job", "b")]), 2);
        head.install(b);
        assert_eq!(head.num_series(), 2);
        assert_eq!(head.lookup(&l).map(|x| x.0), Some(4));
        assert_eq!(head.next_ref(), 5);
        assert_eq!(head.postings.read().get("job", "a"), vec![4]);
    }
}
