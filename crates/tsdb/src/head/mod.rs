//! The head: the in-memory, appendable part of the database. Series are keyed by labels and
//! get stable refs; samples are validated and applied in batches by the [`crate::Db`] commit
//! path (which also writes the WAL), read through [`HeadIndex`] and cut into blocks.

pub mod cachefiles;
pub mod mapper;
mod postings;
pub mod refmap;
pub(crate) mod restore;
pub mod series;
pub mod trim;

use std::collections::{HashMap, VecDeque};
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use model::{Labels, Matcher};
use parking_lot::{Mutex, RwLock};
use smallvec::SmallVec;
use storage::StorageError;

pub use postings::MemPostings;
use refmap::{PtrTable, RefMap};
pub use series::{MemSeries, Placement};

use crate::error::Result;
use crate::postings::IndexView;

pub type SeriesHandle = Arc<Mutex<MemSeries>>;

/// A series an appender holds without a reference count: valid while the appender's
/// [`AppendPin`] lives, since the head frees a removed series only once every appender pinned
/// before its removal has finished (see [`Head::pin`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct SeriesPtr(NonNull<Mutex<MemSeries>>);

// SAFETY: a pointer to a `Mutex<MemSeries>` (Send + Sync); where it may be dereferenced is
// the business of `SeriesPtr::get`'s callers.
unsafe impl Send for SeriesPtr {}
// SAFETY: as above.
unsafe impl Sync for SeriesPtr {}

impl SeriesPtr {
    pub(crate) fn of(s: &SeriesHandle) -> SeriesPtr {
        SeriesPtr(NonNull::from(&**s))
    }

    /// The series.
    ///
    /// # Safety
    /// The caller holds an [`AppendPin`] taken before it got this pointer from the head, and
    /// does not keep the reference beyond the pin.
    #[inline]
    pub(crate) unsafe fn get<'a>(self) -> &'a Mutex<MemSeries> {
        // SAFETY: the pin keeps the series allocated (the caller's contract).
        unsafe { self.0.as_ref() }
    }

    pub(crate) fn as_ptr(self) -> *const Mutex<MemSeries> {
        self.0.as_ptr()
    }
}

/// Keeps every series an appender may point to allocated while it lives: series the head
/// removes after the pin was taken are freed only once the pin (and every older one) is gone.
#[derive(Debug)]
pub(crate) struct AppendPin(#[allow(dead_code)] Arc<()>);

/// Series removed from the head, kept until the appenders that may point to them finish.
#[derive(Default)]
struct Retired {
    /// Shared by every pin taken since the last removal.
    epoch: Arc<()>,
    /// Each removal's series with the epoch that was current when they were removed, oldest
    /// first. An entry goes once its epoch and every older one has no pin left.
    graves: VecDeque<(Arc<()>, Vec<SeriesHandle>)>,
}

impl Retired {
    fn collect(&mut self) {
        while let Some(front) = self.graves.front_mut() {
            if Arc::get_mut(&mut front.0).is_none() {
                break;
            }
            self.graves.pop_front();
        }
    }
}

/// Series by ref, and refs by label-set hash.
#[derive(Default)]
struct SeriesMap {
    by_ref: RefMap<SeriesHandle>,
    /// The series of `by_ref` (dense refs) for lock-free lookups; [`Head`] holds it too.
    ptrs: Arc<PtrTable<Mutex<MemSeries>>>,
    /// Label-set hash (folded to 32 bits) -> ref of a series with that hash: 8 bytes a slot.
    by_hash: HashMap<u32, u32, MixHash>,
    /// Refs of further series whose label sets hash like the one in `by_hash` (a few per
    /// million series), and refs too large for `by_hash`.
    collisions: HashMap<u32, SmallVec<[u64; 1]>, ahash::RandomState>,
}

/// The `by_hash` key of a label-set hash.
fn hash_key(h: u64) -> u32 {
    (h ^ (h >> 32)) as u32
}

impl SeriesMap {
    /// The ref and series of `labels`.
    fn find(&self, labels: &Labels) -> Option<(u64, &SeriesHandle)> {
        self.find_hashed(labels.hash64(), labels)
    }

    fn find_hashed(&self, h: u64, labels: &Labels) -> Option<(u64, &SeriesHandle)> {
        let k = hash_key(h);
        let first = self.by_hash.get(&k).map(|&r| u64::from(r));
        let more = if self.collisions.is_empty() { None } else { self.collisions.get(&k) };
        first.into_iter().chain(more.into_iter().flatten().copied()).find_map(|r| {
            let s = self.by_ref.get(&r)?;
            (s.lock().labels == *labels).then_some((r, s))
        })
    }

    /// Adds a series (a ref the map does not hold: refs are never reused).
    fn insert(&mut self, r: u64, h: u64, s: SeriesHandle) {
        // SAFETY: writers hold `&mut self` (the head's series write lock); the series stays
        // allocated while in `by_ref` and, once removed, until no pinned appender remains.
        unsafe { self.ptrs.set(r, Arc::as_ptr(&s)) };
        self.by_ref.insert(r, s);
        let k = hash_key(h);
        match (self.by_hash.entry(k), u32::try_from(r)) {
            (std::collections::hash_map::Entry::Vacant(e), Ok(r)) => {
                e.insert(r);
            }
            _ => self.collisions.entry(k).or_default().push(r),
        }
    }

    /// Removes a series; the caller keeps it allocated until no appender can point to it.
    #[must_use]
    fn remove(&mut self, r: u64, h: u64) -> Option<SeriesHandle> {
        // SAFETY: as in `insert`.
        unsafe { self.ptrs.set(r, std::ptr::null()) };
        let removed = self.by_ref.remove(&r);
        let k = hash_key(h);
        if self.by_hash.get(&k).map(|&x| u64::from(x)) == Some(r) {
            // Another series with this key takes the slot, if its ref fits.
            let promoted = self.collisions.get_mut(&k).and_then(|v| {
                let i = v.iter().position(|&x| u32::try_from(x).is_ok())?;
                u32::try_from(v.remove(i)).ok()
            });
            match promoted {
                Some(other) => {
                    self.by_hash.insert(k, other);
                }
                None => {
                    self.by_hash.remove(&k);
                }
            }
        }
        if let Some(v) = self.collisions.get_mut(&k) {
            v.retain(|x| *x != r);
            if v.is_empty() {
                self.collisions.remove(&k);
            }
        }
        removed
    }
}

/// Hasher for keys that are already hashes (label-set hashes) or dense integers (refs): mixes the bits so both the
/// low bits (bucket) and the high bits (tag) of the table's hash vary.
#[derive(Default, Clone, Copy)]
pub(crate) struct MixHash;

pub(crate) struct MixHasher(u64);

impl std::hash::BuildHasher for MixHash {
    type Hasher = MixHasher;
    fn build_hasher(&self) -> MixHasher {
        MixHasher(0)
    }
}

impl std::hash::Hasher for MixHasher {
    fn finish(&self) -> u64 {
        let x = (self.0 ^ (self.0 >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^ (x >> 32)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
    fn write_u32(&mut self, x: u32) {
        self.0 = u64::from(x);
    }
}

/// How many refs ahead [`Head::get_for_append`] loads a series into the cache.
const PREFETCH_AHEAD: u64 = 4;

/// Asks the CPU to start loading the two cache lines at `p` (a hint; never faults).
#[inline]
pub(crate) fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: prefetching is a hint that never faults, whatever the address.
        unsafe {
            _mm_prefetch(p.cast(), _MM_HINT_T0);
            _mm_prefetch(p.wrapping_add(64).cast(), _MM_HINT_T0);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Asks the CPU to start loading the cache line at `p` for writing, in exclusive state, so
/// that a store to it later neither waits for the line nor for another core to give it up
/// (`prefetchw`; a no-op on x86-64 processors that lack it). A hint; never faults.
#[inline(always)]
pub(crate) fn prefetch_write(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetchw` is a hint that never faults, whatever the address, and touches
    // neither the stack nor the flags.
    unsafe {
        std::arch::asm!("prefetchw [{p}]", p = in(reg) p, options(nostack, preserves_flags, readonly));
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Starts loading every cache line of series `m` that an append or a commit reads or
/// writes: its lock and [`MemSeries`]' fields up to the end of the open chunk's state, which
/// spans three lines for the series that do not start early enough in a line (series are
/// allocated 176 bytes apart, so they start at every 16-byte offset of a line in turn).
/// `m` must point to a live series.
#[inline(always)]
pub(crate) fn prefetch_series(m: *const Mutex<MemSeries>) {
    // SAFETY: the caller's contract; only the address of the data is computed.
    let data: *const u8 = unsafe { (*m).data_ptr() }.cast();
    let p: *const u8 = m.cast();
    prefetch_line(p);
    prefetch_line(p.wrapping_add(64));
    prefetch_line(data.wrapping_add(SERIES_HOT_END - 1));
}

/// Bytes from the start of a [`MemSeries`] to the end of the fields a commit touches (its
/// open chunk).
const SERIES_HOT_END: usize =
    std::mem::offset_of!(MemSeries, open) + std::mem::size_of::<Option<series::OpenChunk>>();

/// Asks the CPU to start loading the cache line at `p` (a hint; never faults).
#[inline(always)]
pub(crate) fn prefetch_line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint that never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// The in-memory head block.
pub struct Head {
    series: RwLock<SeriesMap>,
    /// The series map's lock-free ref table (see [`Head::get_for_append`]).
    ptrs: Arc<PtrTable<Mutex<MemSeries>>>,
    /// Removed series not yet freed (see [`Head::pin`]).
    retired: Mutex<Retired>,
    postings: RwLock<MemPostings>,
    next_ref: AtomicU64,
    /// Oldest time the head accepts (end of the newest persisted or being-persisted block).
    min_valid: AtomicI64,
    /// Data before this time has been persisted to blocks; queries read it from there.
    query_min: AtomicI64,
    min_time: AtomicI64,
    max_time: AtomicI64,
    /// Bumped whenever series are removed, so appenders know their handles may be stale.
    generation: AtomicU64,
    pub chunk_range: i64,
    pub ooo_window: i64,
    /// Where full chunks go to leave the heap (none for purely in-memory heads).
    pub mapper: Option<mapper::ChunkMapper>,
    /// Most series appends may create (`None`: unlimited); see [`Head::create_limited`].
    max_series: Option<usize>,
    /// Appends refused because they would have created a series beyond `max_series`.
    series_limit_reached: AtomicU64,
}

impl Head {
    pub fn new(chunk_range: i64, ooo_window: i64, mapper: Option<mapper::ChunkMapper>) -> Head {
        let map = SeriesMap::default();
        Head {
            ptrs: map.ptrs.clone(),
            retired: Mutex::new(Retired::default()),
            series: RwLock::new(map),
            postings: RwLock::new(MemPostings::default()),
            next_ref: AtomicU64::new(1),
            min_valid: AtomicI64::new(i64::MIN),
            query_min: AtomicI64::new(i64::MIN),
            min_time: AtomicI64::new(i64::MAX),
            max_time: AtomicI64::new(i64::MIN),
            generation: AtomicU64::new(0),
            chunk_range,
            ooo_window,
            mapper,
            max_series: None,
            series_limit_reached: AtomicU64::new(0),
        }
    }

    /// Limits how many series appends may create (`None` or `Some(0)`: unlimited). Series the
    /// head already has, and series restored from the WAL, are never refused.
    pub fn with_max_series(mut self, max: Option<usize>) -> Head {
        self.max_series = max.filter(|&m| m > 0);
        self
    }

    /// The series limit, if any.
    pub fn max_series(&self) -> Option<usize> {
        self.max_series
    }

    /// How many appends were refused because of the series limit.
    pub fn series_limit_reached_total(&self) -> u64 {
        self.series_limit_reached.load(Ordering::Relaxed)
    }

    /// Like [`Head::get_or_create`] for appends: an existing series is always returned; a new
    /// one is created only while the head holds fewer than the series limit, otherwise the
    /// append fails with [`StorageError::LimitExceeded`] and the refusal is counted.
    pub fn create_limited(&self, labels: &Labels) -> Result<(u64, SeriesHandle), StorageError> {
        let Some(max) = self.max_series else {
            let (r, s, _) = self.get_or_create(labels, None);
            return Ok((r, s));
        };
        if let Some(found) = self.lookup(labels) {
            return Ok(found);
        }
        let (r, s, _) = self.get_or_create_if(labels, None, |n| n < max).ok_or_else(|| {
            self.series_limit_reached.fetch_add(1, Ordering::Relaxed);
            StorageError::LimitExceeded(format!(
                "head series limit of {max} reached (--storage.tsdb.max-series): \
                 new series are refused, existing series still take samples"
            ))
        })?;
        Ok((r, s))
    }

    pub fn min_valid(&self) -> i64 {
        self.min_valid.load(Ordering::Acquire)
    }

    /// Rejects appends before `t` from now on (as out of bounds).
    pub fn set_min_valid(&self, t: i64) {
        self.min_valid.fetch_max(t, Ordering::AcqRel);
    }

    /// Oldest time queries read from the head.
    pub fn query_min(&self) -> i64 {
        self.query_min.load(Ordering::Acquire)
    }

    /// Marks data before `t` as persisted in blocks (both for appends and queries).
    pub fn set_persisted(&self, t: i64) {
        self.set_min_valid(t);
        self.query_min.fetch_max(t, Ordering::AcqRel);
    }

    /// Oldest sample time in the head (`i64::MAX` if empty).
    pub fn min_time(&self) -> i64 {
        self.min_time.load(Ordering::Acquire)
    }

    /// Newest sample time in the head (`i64::MIN` if empty).
    pub fn max_time(&self) -> i64 {
        self.max_time.load(Ordering::Acquire)
    }

    /// Changes whenever series are dropped from the head.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The ref the next new series gets.
    pub fn next_ref(&self) -> u64 {
        self.next_ref.load(Ordering::Acquire)
    }

    /// Makes new series get refs of at least `r` (refs of series gone from the head may
    /// still be in the WAL, so they are never handed out again).
    pub fn reserve_refs(&self, r: u64) {
        self.next_ref.fetch_max(r, Ordering::AcqRel);
    }

    pub fn num_series(&self) -> usize {
        self.series.read().by_ref.len()
    }

    pub fn get(&self, r: u64) -> Option<SeriesHandle> {
        self.series.read().by_ref.get(&r).cloned()
    }

    /// Pins the series the head holds now for an appender: none of them is freed before the
    /// pin is dropped, even if removed from the head (see [`SeriesPtr`]). One short lock per
    /// batch.
    pub(crate) fn pin(&self) -> AppendPin {
        let mut retired = self.retired.lock();
        if !retired.graves.is_empty() {
            retired.collect();
        }
        AppendPin(retired.epoch.clone())
    }

    /// Keeps `removed` series allocated until every appender pinned before now has finished.
    fn retire(&self, removed: Vec<SeriesHandle>) {
        let mut retired = self.retired.lock();
        let old = std::mem::take(&mut retired.epoch);
        retired.graves.push_back((old, removed));
        retired.collect();
    }

    /// The series under ref `r` for an appender holding a pin taken before this call: no
    /// lock and no reference count for the refs the head hands out (a lock-free table), the
    /// head's read lock for others. Also starts loading the series a few refs on into the CPU
    /// cache, since a batch usually appends to series in the order they were created (a
    /// scrape's lines come in the same order every time), so that series is the one the batch
    /// is about to need.
    #[inline]
    pub(crate) fn get_for_append(&self, r: u64) -> Option<SeriesPtr> {
        let p = self.ptrs.get(r);
        if let Some(p) = NonNull::new(p.cast_mut()) {
            let next = self.ptrs.get(r.wrapping_add(PREFETCH_AHEAD));
            if !next.is_null() {
                // The series' lock and the fields an append reads (see `MemSeries`).
                prefetch(next.cast());
            }
            return Some(SeriesPtr(p));
        }
        self.series.read().by_ref.get(&r).map(SeriesPtr::of)
    }

    /// The ref of `labels`, if the head has the series.
    pub fn lookup(&self, labels: &Labels) -> Option<(u64, SeriesHandle)> {
        let map = self.series.read();
        map.find(labels).map(|(r, s)| (r, s.clone()))
    }

    /// Returns the series for `labels`, creating it if needed. `with_ref` forces the ref (WAL
    /// replay). The bool is true if the series was created.
    pub fn get_or_create(
        &self,
        labels: &Labels,
        with_ref: Option<u64>,
    ) -> (u64, SeriesHandle, bool) {
        if let Some((r, s)) = self.lookup(labels) {
            return (r, s, false);
        }
        match self.get_or_create_if(labels, with_ref, |_| true) {
            Some(x) => x,
            None => unreachable!("an always-true admission cannot refuse"),
        }
    }

    /// [`Head::get_or_create`] that creates the series only if `admit(current series count)`
    /// holds (checked under the series write lock, so concurrent appenders cannot overshoot).
    fn get_or_create_if(
        &self,
        labels: &Labels,
        with_ref: Option<u64>,
        admit: impl Fn(usize) -> bool,
    ) -> Option<(u64, SeriesHandle, bool)> {
        let mut map = self.series.write();
        if let Some((r, s)) = map.find(labels) {
            return Some((r, s.clone(), false));
        }
        if !admit(map.by_ref.len()) {
            return None;
        }
        let r = match with_ref {
            Some(r) => {
                self.next_ref.fetch_max(r + 1, Ordering::AcqRel);
                r
            }
            None => self.next_ref.fetch_add(1, Ordering::AcqRel),
        };
        let s = Arc::new(Mutex::new(MemSeries::new(labels.clone())));
        map.insert(r, labels.hash64(), s.clone());
        self.postings.write().add(r, labels);
        Some((r, s, true))
    }

    /// Records that samples between `mint` and `maxt` were added.
    pub fn note_times(&self, mint: i64, maxt: i64) {
        self.min_time.fetch_min(mint, Ordering::AcqRel);
        self.max_time.fetch_max(maxt, Ordering::AcqRel);
    }

    /// Forgets the time span [`Head::note_times`] recorded (for a restore that starts over).
    pub(crate) fn reset_times(&self) {
        self.min_time.store(i64::MAX, Ordering::Release);
        self.max_time.store(i64::MIN, Ordering::Release);
    }

    /// Every series handle with its ref, in ref order.
    pub fn all_series(&self) -> Vec<(u64, SeriesHandle)> {
        let map = self.series.read();
        let mut v: Vec<(u64, SeriesHandle)> =
            map.by_ref.iter().map(|(r, s)| (r, s.clone())).collect();
        v.sort_by_key(|x| x.0);
        v
    }

    /// Matching series sorted by labels.
    pub fn select_sorted(&self, matchers: &[Matcher]) -> Result<Vec<(Labels, u64, SeriesHandle)>> {
        let refs = crate::postings::select(self, matchers)?;
        let map = self.series.read();
        let mut out: Vec<(Labels, u64, SeriesHandle)> = refs
            .into_iter()
            .filter_map(|r| map.by_ref.get(&r).map(|s| (s.lock().labels.clone(), r, s.clone())))
            .collect();
        drop(map);
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Drops data before `mint` and series left without data. Returns series removed.
    pub fn truncate(&self, mint: i64) -> usize {
        self.set_persisted(mint);
        let removable =
            |s: &MemSeries| s.time_range().is_none() && s.last().is_none_or(|(t, _)| t < mint);
        let mut candidates = Vec::new();
        let mut new_min = i64::MAX;
        for (r, s) in self.all_series() {
            let mut g = s.lock();
            g.truncate_before(mint);
            if let Some((lo, _)) = g.time_range() {
                new_min = new_min.min(lo);
            } else if removable(&g) {
                drop(g);
                candidates.push((r, s));
            }
        }
        let mut removed = Vec::new();
        if !candidates.is_empty() {
            let mut map = self.series.write();
            let mut postings = self.postings.write();
            for (r, s) in candidates {
                let mut g = s.lock();
                // A commit may have added samples since the scan.
                if !removable(&g) {
                    if let Some((lo, _)) = g.time_range() {
                        new_min = new_min.min(lo);
                    }
                    continue;
                }
                // Appenders that still point to the series see the mark and move its
                // samples to a series of the same labels.
                g.dead = true;
                let labels = g.labels.clone();
                drop(g);
                if let Some(h) = map.remove(r, labels.hash64()) {
                    removed.push(h);
                }
                postings.remove(r, &labels);
            }
        }
        let n = removed.len();
        if n > 0 {
            self.generation.fetch_add(1, Ordering::AcqRel);
            self.retire(removed);
        }
        self.min_time.store(new_min.max(mint), Ordering::Release);
        if new_min == i64::MAX {
            self.min_time.store(i64::MAX, Ordering::Release);
        }
        // After the series let go of the chunks they end: a series' chunk refers to its file
        // by id, and one whose file is gone cannot be read (queries that already read it hold
        // its map).
        if let Some(m) = &self.mapper {
            m.truncate(mint);
        }
        n
    }

    /// Sorted label names of the whole head.
    pub fn label_names(&self) -> Vec<String> {
        self.postings.read().m.keys().map(|k| k.to_string()).collect()
    }

    /// Label pairs with their series counts (for stats).
    pub fn label_pair_counts(&self) -> Vec<(String, String, usize)> {
        let p = self.postings.read();
        let mut out = Vec::new();
        for (n, vals) in &p.m {
            for (v, refs) in vals {
                out.push((n.to_string(), v.to_string(), refs.len()));
            }
        }
        out
    }

    /// Rejects samples the head can never take, before any lock is held.
    pub fn check_labels(labels: &Labels) -> Result<(), StorageError> {
        if labels.is_empty() {
            return Err(StorageError::InvalidLabels("empty label set".into()));
        }
        Ok(())
    }
}

impl IndexView for Head {
    fn values(&self, name: &str) -> Vec<String> {
        self.postings.read().values(name)
    }
    fn postings(&self, name: &str, value: &str) -> Result<Vec<u64>> {
        Ok(self.postings.read().get(name, value))
    }
    fn all(&self) -> Result<Vec<u64>> {
        let mut v: Vec<u64> = self.series.read().by_ref.keys().collect();
        v.sort_unstable();
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_whose_label_sets_hash_alike_are_kept_apart() {
        let mut m = SeriesMap::default();
        let ls: Vec<Labels> = (0..3).map(|i| Labels::new([("a", i.to_string())])).collect();
        for (i, l) in ls.iter().enumerate() {
            m.insert(i as u64 + 1, 42, Arc::new(Mutex::new(MemSeries::new(l.clone()))));
        }
        for (i, l) in ls.iter().enumerate() {
            assert_eq!(m.find_hashed(42, l).map(|x| x.0), Some(i as u64 + 1));
        }
        // Removing the series held in the main table promotes a colliding one.
        let _ = m.remove(1, 42);
        assert_eq!(m.find_hashed(42, &ls[0]).map(|x| x.0), None);
        assert_eq!(m.find_hashed(42, &ls[2]).map(|x| x.0), Some(3));
        let _ = m.remove(3, 42);
        assert_eq!(m.find_hashed(42, &ls[1]).map(|x| x.0), Some(2));
        let _ = m.remove(2, 42);
        assert!(m.by_hash.is_empty() && m.collisions.is_empty());
    }

    #[test]
    fn refs_beyond_32_bits_are_found_and_removed() {
        let mut m = SeriesMap::default();
        let ls: Vec<Labels> = (0..3).map(|i| Labels::new([("b", i.to_string())])).collect();
        let refs = [1u64 << 40, 7, (1 << 40) + 1];
        for (l, &r) in ls.iter().zip(&refs) {
            m.insert(r, l.hash64(), Arc::new(Mutex::new(MemSeries::new(l.clone()))));
        }
        for (l, &r) in ls.iter().zip(&refs) {
            assert_eq!(m.find(l).map(|x| x.0), Some(r));
        }
        // A large ref stays apart even when its slot is free.
        let big = Labels::new([("c", "big")]);
        m.insert(1 << 41, 99, Arc::new(Mutex::new(MemSeries::new(big.clone()))));
        assert_eq!(m.find_hashed(99, &big).map(|x| x.0), Some(1 << 41));
        for (l, &r) in ls.iter().zip(&refs) {
            let _ = m.remove(r, l.hash64());
            assert_eq!(m.find(l).map(|x| x.0), None);
        }
        let _ = m.remove(1 << 41, 99);
        assert!(m.by_hash.is_empty() && m.collisions.is_empty());
    }

    #[test]
    fn removed_series_live_until_every_older_pin_is_gone() {
        let head = Head::new(1000, 0, None);
        let (a, b) = (Labels::new([("s", "a")]), Labels::new([("s", "b")]));
        let (ra, sa, _) = head.get_or_create(&a, None);
        let weak_a = Arc::downgrade(&sa);
        let pa = SeriesPtr::of(&sa);
        drop(sa);
        let old = head.pin();
        assert_eq!(head.get_for_append(ra), Some(pa));
        // The series has no data: truncation removes it, but `old` may still point to it.
        assert_eq!(head.truncate(0), 1);
        assert_eq!(head.get_for_append(ra), None);
        assert!(weak_a.upgrade().is_some_and(|s| s.lock().dead));
        let (_, sb, _) = head.get_or_create(&b, None);
        let weak_b = Arc::downgrade(&sb);
        drop(sb);
        let newer = head.pin();
        assert_eq!(head.truncate(0), 1);
        // A pin taken after a removal does not hold that removal's series...
        drop(newer);
        drop(head.pin());
        // ...but the oldest pin holds every later removal too.
        assert!(weak_a.upgrade().is_some() && weak_b.upgrade().is_some());
        drop(old);
        drop(head.pin());
        assert!(weak_a.upgrade().is_none() && weak_b.upgrade().is_none());
        assert!(head.retired.lock().graves.is_empty());
    }
}
