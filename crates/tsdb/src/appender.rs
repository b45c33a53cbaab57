//! Appending to the database. [`DbAppender`] checks each sample against its series and the
//! batch's pending samples as it is added (so an error applies to that sample only; nothing
//! is stored twice for one time); [`Db::commit`] places every sample again under the commit
//! lock and the series' locks (other batches may have been committed since), drops and counts
//! the ones that no longer fit, as Prometheus' commit does, logs the rest to the WAL in one
//! write and only then applies them to the head: durable all or nothing.
//!
//! The path is built for scrapes of many series with one sample each: no map insert per
//! sample (the newest pending sample per series lives in a table indexed by the ref's low
//! bits), no series lock at append for a sample newer than its series' newest (read
//! atomically; the commit's placement under the lock decides), no head lock and no
//! reference count per sample (an appender holds series by plain
//! pointer, kept valid by its [`AppendPin`]; a series truncation removes in the meantime is
//! marked dead and its samples go to a series of the same labels at commit), one lock of each
//! series per phase, and the series a batch is about to touch are loaded into the CPU cache a
//! few samples ahead (series created together get consecutive refs and are appended in the
//! same order every scrape).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

use model::{Labels, Timestamp};
use smallvec::SmallVec;
use storage::{Appendable, Appender, BatchSample, SeriesRef, StorageError};

use crate::db::Db;
use crate::encoding::Encbuf;
use crate::head::series::{BatchBounds, NO_WAL_SEGMENT};
use crate::head::{
    AppendPin, Head, MemSeries, MixHash, Placement, SeriesPtr, prefetch, prefetch_series,
    prefetch_write,
};
use crate::options::WalSync;
use crate::wal::dense::{DenseEncoder, DenseSample};
use crate::wal::record;

/// Most bytes one sample takes in a dense WAL record (ref and time varints, tag, raw value).
const DENSE_SAMPLE_MAX_BYTES: usize = 10 + 10 + 1 + 8;

/// How many samples ahead a commit loads the open chunk it will append to, and (twice as
/// far) the series whose open chunk that is (the WAL's encoding and compression between the
/// commit's first pass and its last may have evicted it).
const CHUNK_PREFETCH_AHEAD: usize = 4;

/// Buffers of batches up to this many samples are kept for reuse.
const SCRATCH_MAX_SAMPLES: usize = 1 << 16;

/// Finished batches' buffers kept for reuse.
const SCRATCH_KEPT: usize = 8;

/// The buffers of one batch, kept by the database between batches so that a steady stream of
/// similar batches allocates (and page-faults) nothing per batch.
#[derive(Default)]
pub(crate) struct Scratch {
    pending: Vec<Pending>,
    slots: Vec<u32>,
    /// A byte per sample at commit (see [`OWNER`]).
    marks: Vec<u8>,
    /// Samples whose series needs a WAL series record.
    new_series: Vec<u32>,
    enc: DenseEncoder,
    series_rec: Vec<u8>,
    samples_rec: Vec<u8>,
    /// The head's newest time when the batch began: the out-of-order window reaches back from
    /// it at append and again at commit, as Prometheus' `headAppender.headMaxt`, and samples
    /// older than it less half a chunk range go in order nowhere (see [`BatchBounds`]). For a
    /// batch begun on an empty head, the time of its first sample (or the head's newest time
    /// by then), as Prometheus' `initAppender` starts its appender at that sample.
    head_max: i64,
}

impl Scratch {
    /// Takes back a batch's pending samples and table, freeing the table's used slots (before
    /// a commit may move samples to other refs).
    fn take_back(&mut self, pending: Vec<Pending>, mut slots: Vec<u32>) {
        if let Some(mask) = slots.len().checked_sub(1) {
            for p in &pending {
                slots[p.r as usize & mask] = 0;
            }
        }
        self.pending = pending;
        self.slots = slots;
    }

    /// Empties the buffers and returns them to `db`'s pool unless they grew too large.
    fn recycle(mut self, db: &Db) {
        if self.pending.capacity() > SCRATCH_MAX_SAMPLES
            || self.slots.len() > 2 * SCRATCH_MAX_SAMPLES
            || self.marks.capacity() > SCRATCH_MAX_SAMPLES
            || self.enc.len() > SCRATCH_MAX_SAMPLES
        {
            return;
        }
        self.pending.clear();
        self.marks.clear();
        self.new_series.clear();
        self.enc.clear();
        self.series_rec.clear();
        self.samples_rec.clear();
        let mut pool = db.inner.scratch.lock();
        if pool.len() < SCRATCH_KEPT {
            pool.push(self);
        }
    }
}

struct Pending {
    r: u64,
    series: SeriesPtr,
    t: i64,
    v: f64,
}

/// The newest in-order sample each series has pending in one batch, as the index of its
/// entry in the batch's pending samples. A slot per ref's low bits (a batch's refs are mostly
/// consecutive, so they seldom share one), four bytes each so that the table of a large batch
/// stays in the CPU cache; a ref whose slot another series holds goes to `overflow`. Slots
/// are never freed within a batch, so a ref is in its slot or in `overflow`, never both.
struct PendingLasts {
    /// Index of the pending sample plus one (0: free); the slot belongs to that sample's ref.
    slots: Vec<u32>,
    overflow: HashMap<u64, u32, MixHash>,
    /// Distinct series held.
    len: usize,
    /// Series the batch is expected to hold (sizes `slots` on first use).
    expect: usize,
}

impl PendingLasts {
    /// A table in `slots` (all free, or empty to be sized on first use).
    fn new(slots: Vec<u32>, expect: usize) -> PendingLasts {
        PendingLasts { slots, overflow: HashMap::default(), len: 0, expect }
    }

    /// The newest in-order sample of `r` among `pending`.
    #[inline]
    fn get(&self, r: u64, pending: &[Pending]) -> Option<(i64, f64)> {
        let at = |i: u32| pending.get(i as usize).map(|p| (p.t, p.v));
        if let Some(&s) = self.slots.get(r as usize & self.slots.len().wrapping_sub(1))
            && let Some(p) = s.checked_sub(1).and_then(|i| pending.get(i as usize))
            && p.r == r
        {
            return Some((p.t, p.v));
        }
        if self.overflow.is_empty() { None } else { self.overflow.get(&r).and_then(|&i| at(i)) }
    }

    /// Makes `pending[i]`, a sample of `r`, its newest in-order one.
    #[inline]
    fn set(&mut self, r: u64, i: usize, pending: &[Pending]) {
        if self.slots.is_empty() {
            let n = (self.expect.max(32) * 2).next_power_of_two().min(1 << 16);
            self.slots = vec![0; n];
        }
        let mask = self.slots.len() - 1;
        let s = &mut self.slots[r as usize & mask];
        let held_by = s.checked_sub(1).and_then(|j| pending.get(j as usize)).map(|p| p.r);
        let i = i as u32;
        match held_by {
            None => {
                *s = i + 1;
                self.len += 1;
            }
            Some(owner) if owner == r => *s = i + 1,
            Some(_) => {
                if self.overflow.insert(r, i).is_none() {
                    self.len += 1;
                }
            }
        }
    }
}

pub(crate) struct DbAppender {
    db: Db,
    pending: Vec<Pending>,
    lasts: PendingLasts,
    /// The batch's pending samples by series ref and time (index into `pending`), built at
    /// the batch's first out-of-order sample and kept from then on: an out-of-order sample
    /// may meet a pending one of its series at the same time, which `lasts` (the newest
    /// in-order one) does not show.
    at: Option<PendingAt>,
    /// The rest of the batch's buffers (its `pending` and `slots` are taken out above).
    scratch: Option<Scratch>,
    /// Keeps the series `pending` points to allocated (taken before any lookup).
    _pin: AppendPin,
}

impl Appendable for Db {
    fn appender(&self) -> Box<dyn Appender> {
        let expect = self.inner.batch_hint.load(Ordering::Relaxed).min(SCRATCH_MAX_SAMPLES);
        let mut scratch = self.inner.scratch.lock().pop().unwrap_or_default();
        scratch.head_max = self.inner.head.max_time();
        let mut pending = std::mem::take(&mut scratch.pending);
        pending.reserve(expect);
        let mut slots = std::mem::take(&mut scratch.slots);
        if slots.len() < expect {
            // Sized on first use.
            slots = Vec::new();
        }
        Box::new(DbAppender {
            db: self.clone(),
            pending,
            lasts: PendingLasts::new(slots, expect),
            at: None,
            scratch: Some(scratch),
            _pin: self.inner.head.pin(),
        })
    }
}

impl Drop for DbAppender {
    fn drop(&mut self) {
        // A rollback, or a commit that has already returned the buffers.
        if let Some(mut scratch) = self.scratch.take() {
            scratch.take_back(
                std::mem::take(&mut self.pending),
                std::mem::take(&mut self.lasts.slots),
            );
            scratch.recycle(&self.db);
        }
    }
}

type PendingAt = HashMap<(u64, i64), u32, ahash::RandomState>;

impl DbAppender {
    /// Where `(t, v)` goes in series `s` (ref `r`), given what the series holds and what this
    /// batch has pending for it. A sample at the time of a sample pending for its series is
    /// a duplicate of it, as of a stored one: ignored with the same value, refused with
    /// another (the first one stays); nothing is stored twice for one time.
    fn place(&mut self, r: u64, s: &MemSeries, t: i64, v: f64) -> Result<Placement, StorageError> {
        let last = self.lasts.get(r, &self.pending);
        let place = s.place_in_batch(last, t, v, &self.bounds())?;
        if place != Placement::OutOfOrder {
            // In order: newer than anything pending; the newest pending time: `lasts`.
            return Ok(place);
        }
        let pending = &self.pending;
        let at = self.at.get_or_insert_with(|| {
            // In-order samples of a series are pending in increasing time and out-of-order
            // ones are checked here: no two pending samples of a series share a time.
            pending.iter().enumerate().map(|(i, p)| ((p.r, p.t), i as u32)).collect()
        });
        match at.get(&(r, t)).and_then(|&i| pending.get(i as usize)) {
            Some(p) if p.v.to_bits() == v.to_bits() => Ok(Placement::Duplicate),
            Some(_) => Err(StorageError::DuplicateSampleForTimestamp),
            None => Ok(Placement::OutOfOrder),
        }
    }
}

impl Appender for DbAppender {
    fn append(
        &mut self,
        hint: SeriesRef,
        labels: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, StorageError> {
        self.db.check_open()?;
        let head = &self.db.inner.head;
        let under_hint = (hint != 0).then(|| head.get_for_append(hint)).flatten();
        let res = self.append_to(under_hint, hint, labels, t, v);
        if let Err(e) = &res {
            self.db.inner.metrics.rejected(e);
        }
        res
    }

    fn append_batch(
        &mut self,
        samples: &[BatchSample<'_>],
        out: &mut Vec<Result<SeriesRef, StorageError>>,
    ) {
        out.reserve(samples.len());
        if let Err(e) = self.db.check_open() {
            out.extend(samples.iter().map(|_| Err(e.clone())));
            return;
        }
        let db = self.db.clone();
        let head = &db.inner.head;
        let lookup = |s: &BatchSample<'_>| {
            let p = (s.hint != 0).then(|| head.get_for_append(s.hint)).flatten();
            if let Some(p) = p {
                // The series' lock and the fields an append reads (see `MemSeries`).
                prefetch(p.as_ptr().cast());
            }
            p
        };
        // The series of the next few samples, looked up and loaded into the cache ahead.
        let mut ahead = [None; BATCH_AHEAD];
        for (slot, s) in ahead.iter_mut().zip(samples) {
            *slot = lookup(s);
        }
        for (i, s) in samples.iter().enumerate() {
            let under_hint = ahead[i % BATCH_AHEAD];
            if let Some(next) = samples.get(i + BATCH_AHEAD) {
                ahead[i % BATCH_AHEAD] = lookup(next);
            }
            let res = self.append_to(under_hint, s.hint, s.labels, s.t, s.v);
            if let Err(e) = &res {
                db.inner.metrics.rejected(e);
            }
            out.push(res);
        }
    }

    fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        self.db.inner.batch_hint.store(self.lasts.len, Ordering::Relaxed);
        let mut scratch = self.scratch.take().unwrap_or_default();
        scratch.take_back(std::mem::take(&mut self.pending), std::mem::take(&mut self.lasts.slots));
        // The pin (a field of `self`) outlives the commit.
        let res = self.db.commit(&mut scratch);
        scratch.recycle(&self.db);
        res
    }

    fn rollback(self: Box<Self>) {}
}

/// How many samples ahead [`Appender::append_batch`] looks series up and loads them.
const BATCH_AHEAD: usize = 8;

impl DbAppender {
    /// Appends a sample whose hint `hint` was looked up in the head (`under_hint`: the series
    /// under it, if any).
    #[inline]
    fn append_to(
        &mut self,
        under_hint: Option<SeriesPtr>,
        hint: SeriesRef,
        labels: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, StorageError> {
        if let Some(sc) = self.scratch.as_mut()
            && sc.head_max == i64::MIN
        {
            // The batch's first sample on an empty head (see `Scratch::head_max`).
            sc.head_max = match self.db.inner.head.max_time() {
                i64::MIN => t,
                newest => newest,
            };
        }
        let mut found = None;
        if let Some(s) = under_hint
            && self.in_order_unlocked(hint, s, labels, t)
        {
            found = Some((hint, s, Placement::InOrder));
        } else if let Some(s) = under_hint {
            // SAFETY: the appender's pin was taken before the lookup and outlives the borrow.
            let g = unsafe { s.get() }.lock();
            // Refs are never reused, so a live series under the hint is the hint's series;
            // the labels are compared all the same (a pointer comparison when they are the
            // caller's own, as for every scrape after the first).
            if !g.dead && g.labels == *labels {
                // The caller's label set is not read (a cold cache line at every sample) when
                // it is the series' own: the series knows whether its set is empty.
                if g.empty_labels() {
                    return Err(StorageError::InvalidLabels("empty label set".into()));
                }
                let placement = self.place(hint, &g, t, v)?;
                drop(g);
                found = Some((hint, s, placement));
            }
        }
        let (r, series, placement) = match found {
            Some(x) => x,
            None => loop {
                Head::check_labels(labels)?;
                let (r, s) = self.db.inner.head.create_limited(labels)?;
                let g = s.lock();
                // Truncation may remove a series (an empty one, as a new one is) at any time.
                if g.dead {
                    continue;
                }
                let placement = self.place(r, &g, t, v)?;
                // The head (or, once removed, its retired list) keeps the series allocated
                // while the pin lives.
                break (r, SeriesPtr::of(&s), placement);
            },
        };
        match placement {
            Placement::Duplicate => return Ok(r),
            Placement::InOrder => self.lasts.set(r, self.pending.len(), &self.pending),
            Placement::OutOfOrder => {}
        }
        if let Some(at) = self.at.as_mut() {
            at.insert((r, t), self.pending.len() as u32);
        }
        self.pending.push(Pending { r, series, t, v });
        Ok(r)
    }
}

impl DbAppender {
    /// Whether `(t, _)` for series `s` (under ref `r`, the caller's `labels`) is in order,
    /// found without the series' lock: the usual case of a scrape, the caller's own label
    /// set, a time newer than the series' newest sample and nothing of the series pending in
    /// the batch. `false` says nothing: the locked path decides. A commit in between, or
    /// truncation removing the series, is the commit's business, as for any pending sample
    /// (it places every sample again under the series' lock).
    #[inline]
    fn in_order_unlocked(&self, r: u64, s: SeriesPtr, labels: &Labels, t: i64) -> bool {
        // SAFETY: the appender's pin was taken before the lookup and outlives the call.
        let (own, empty, newest) = unsafe { MemSeries::append_view(s.get().data_ptr()) };
        t > newest
            && !empty
            && t >= self.db.inner.head.min_valid()
            && t >= self.bounds().in_order_min
            && own == labels
            && self.lasts.get(r, &self.pending).is_none()
    }

    /// What this batch's samples are placed against at append.
    #[inline]
    fn bounds(&self) -> BatchBounds {
        let head = &self.db.inner.head;
        let head_max = self.scratch.as_ref().map_or(i64::MIN, |sc| sc.head_max);
        BatchBounds::new(head.min_valid(), head.chunk_range, head.ooo_window, head_max)
    }
}

/// What the commit knows of one sample, a byte per sample: its placement (low two bits, or
/// [`REFUSED`]), and whether the commit locked the sample's series at it (the series' first
/// sample in the batch) and whether the series has further samples in the batch.
const PLACE_BITS: u8 = 0b11;
/// Placement code of a sample the commit drops: data committed since its append (by another
/// batch, or an earlier sample of its own) makes it out of order, too old or a duplicate.
const REFUSED: u8 = 3;
const OWNER: u8 = 1 << 2;
const REPEATED: u8 = 1 << 3;

fn place_code(p: Placement) -> u8 {
    match p {
        Placement::InOrder => 0,
        Placement::OutOfOrder => 1,
        Placement::Duplicate => 2,
    }
}

/// The placement of a sample's mark; a refused sample is dropped as a duplicate is.
fn place_of(mark: u8) -> Placement {
    match mark & PLACE_BITS {
        0 => Placement::InOrder,
        1 => Placement::OutOfOrder,
        _ => Placement::Duplicate,
    }
}

/// Samples a commit refused, by kind, counted once the batch is applied.
#[derive(Default)]
struct Refused {
    out_of_order: u64,
    out_of_bounds: u64,
    too_old: u64,
}

impl Refused {
    fn note(&mut self, e: &StorageError) {
        match e {
            StorageError::OutOfOrderSample => self.out_of_order += 1,
            StorageError::OutOfBounds => self.out_of_bounds += 1,
            StorageError::TooOldSample => self.too_old += 1,
            // Duplicates are dropped uncounted, as in Prometheus' commit.
            _ => {}
        }
    }
}

/// Samples a commit accepted, by series and time (value), for the out-of-order samples of
/// series repeated in a batch, which may meet an earlier sample of the batch at their time.
type AcceptedAt = HashMap<(*const parking_lot::Mutex<MemSeries>, i64), f64, ahash::RandomState>;

/// A series with several samples in one batch (rare: a scrape has each series once): the
/// index of its first sample (where it was locked), its newest in-order sample of the batch
/// so far, and the value its next sample is WAL-coded against.
struct Repeat {
    owner: u32,
    last: Option<(i64, f64)>,
    base: Option<f64>,
}

type RepeatMap = HashMap<*const parking_lot::Mutex<MemSeries>, Repeat>;

/// The series locks a commit holds: each series of the batch locked once, at its first
/// sample, and released all together once the batch is applied (or on any error or unwind),
/// when the batch's stores to the series have long reached the cache. Releasing each series
/// right after its sample is applied made each release (a locked instruction, which waits for
/// every store before it) wait for that sample's stores to reach the cache: in a profile of
/// `benches/head_cut.rs`, 46 % of `Held::apply`'s time was on that instruction.
struct Held<'s, 'a> {
    pending: &'s [Pending],
    marks: &'s mut Vec<u8>,
    /// Series with several samples; built on the first series found locked.
    repeats: Option<RepeatMap>,
    /// Built at the first out-of-order sample of a repeated series.
    accepted_at: Option<AcceptedAt>,
    refused: Refused,
    _pin: std::marker::PhantomData<&'a ()>,
}

impl Drop for Held<'_, '_> {
    fn drop(&mut self) {
        let pending = self.pending;
        for (i, (p, &mark)) in pending.iter().zip(self.marks.iter()).enumerate() {
            if let Some(q) = pending.get(i + 2 * CHUNK_PREFETCH_AHEAD) {
                prefetch_write(q.series.as_ptr().cast());
            }
            if mark & OWNER != 0 {
                // SAFETY: this commit locked the series at sample `i` and has not released it;
                // the pin keeps it allocated.
                unsafe { p.series.get().force_unlock() };
            }
        }
        self.marks.clear();
    }
}

impl<'a> Held<'_, 'a> {
    /// The series of sample `i`, locked by this commit.
    ///
    /// # Safety
    /// Sample `i`'s series is locked by this commit, and no other reference to it is alive.
    #[inline(always)]
    unsafe fn series_mut(&self, i: usize) -> &'a mut MemSeries {
        // SAFETY: the caller's contract; the pin keeps the series allocated for `'a`.
        unsafe { &mut *self.pending[i].series.get::<'a>().data_ptr() }
    }

    /// Locks every series of the batch once and places each sample again (other batches may
    /// have been committed since the appends), noting in `new_series` the samples whose
    /// series has no WAL series record yet. A sample that no longer fits is refused (dropped
    /// and counted, as Prometheus' commit does) and the rest of the batch goes on. `false`: a
    /// series was removed from the head since it was looked up (every lock is released; the
    /// caller moves its samples). No head-wide lock may be taken while the locks are held.
    fn lock_and_place(&mut self, bounds: &BatchBounds, new_series: &mut Vec<u32>) -> bool {
        self.accepted_at = None;
        self.refused = Refused::default();
        let pending = self.pending;
        for (i, p) in pending.iter().enumerate() {
            if let Some(q) = pending.get(i + 2 * CHUNK_PREFETCH_AHEAD) {
                prefetch_series(q.series.as_ptr());
            }
            // SAFETY: the appender's pin outlives the commit.
            let m = unsafe { p.series.get::<'a>() };
            let owner = match m.try_lock() {
                Some(g) => {
                    std::mem::forget(g);
                    true
                }
                None => {
                    // Locked already: by this commit (a repeated series) or by someone else.
                    let marks = &*self.marks;
                    let map = self.repeats.get_or_insert_with(|| {
                        // Every sample so far locked its own series.
                        pending[..i]
                            .iter()
                            .zip(marks.iter())
                            .enumerate()
                            .map(|(j, (q, &mark))| {
                                let last =
                                    (place_of(mark) == Placement::InOrder).then_some((q.t, q.v));
                                (q.series.as_ptr(), Repeat { owner: j as u32, last, base: None })
                            })
                            .collect()
                    });
                    if map.contains_key(&p.series.as_ptr()) {
                        false
                    } else {
                        std::mem::forget(m.lock());
                        true
                    }
                }
            };
            // SAFETY: locked by this commit just now or at an earlier sample.
            let s: &MemSeries = unsafe { &*m.data_ptr() };
            if owner {
                // Released with the others if anything below fails.
                self.marks.push(OWNER);
                if s.dead {
                    return false;
                }
                if let Some(o) = s.open.as_ref() {
                    // The bytes `apply` will store to, owned by this core from now on: the
                    // WAL's encoding and write in between give the loads time to finish.
                    for line in o.chunk.write_lines() {
                        prefetch_write(line);
                    }
                }
                // The series' first sample in the batch: only stored data to meet.
                let place = s.place_in_batch(None, p.t, p.v, bounds);
                let code = self.mark_of(i, place);
                self.marks[i] |= code;
                if !s.logged {
                    new_series.push(i as u32);
                }
                if let Some(map) = self.repeats.as_mut() {
                    let last = (self.marks[i] & PLACE_BITS == place_code(Placement::InOrder))
                        .then_some((p.t, p.v));
                    map.insert(p.series.as_ptr(), Repeat { owner: i as u32, last, base: None });
                }
            } else {
                let Some(rep) = self.repeats.as_mut().and_then(|m| m.get_mut(&p.series.as_ptr()))
                else {
                    unreachable!("a series locked by this commit is in its repeat map")
                };
                // Not an owner: nothing to release for this sample.
                self.marks.push(0);
                let owner = rep.owner as usize;
                let mut place = s.place_in_batch(rep.last, p.t, p.v, bounds);
                if place == Ok(Placement::InOrder) {
                    rep.last = Some((p.t, p.v));
                }
                if place == Ok(Placement::OutOfOrder) {
                    // Older than the batch's newest sample of the series: it may meet an
                    // earlier one of the batch (not applied yet, so not seen by `place`).
                    place = self.against_batch(i);
                }
                let code = self.mark_of(i, place);
                self.marks[i] = code;
                self.marks[owner] |= REPEATED;
            }
        }
        true
    }

    /// The placement code of sample `i` (placed as `place`), noting a refusal, and the
    /// sample's time if accepted while the batch's accepted samples are indexed.
    fn mark_of(&mut self, i: usize, place: Result<Placement, StorageError>) -> u8 {
        match place {
            Ok(place) => {
                if place != Placement::Duplicate
                    && let Some(at) = self.accepted_at.as_mut()
                {
                    let p = &self.pending[i];
                    at.insert((p.series.as_ptr(), p.t), p.v);
                }
                place_code(place)
            }
            Err(e) => {
                self.refused.note(&e);
                REFUSED
            }
        }
    }

    /// Places out-of-order sample `i` of a repeated series against the batch's samples
    /// accepted before it: at the time of one of them it is a duplicate (ignored with the
    /// same value, refused with another; the earlier sample stays either way).
    fn against_batch(&mut self, i: usize) -> Result<Placement, StorageError> {
        let pending = self.pending;
        let marks = &*self.marks;
        let at = self.accepted_at.get_or_insert_with(|| {
            pending[..i]
                .iter()
                .zip(marks.iter())
                .filter(|(_, m)| matches!(*m & PLACE_BITS, 0 | 1))
                .map(|(q, _)| ((q.series.as_ptr(), q.t), q.v))
                .collect()
        });
        let p = &pending[i];
        match at.get(&(p.series.as_ptr(), p.t)) {
            None => Ok(Placement::OutOfOrder),
            Some(v) if v.to_bits() == p.v.to_bits() => Ok(Placement::Duplicate),
            Some(_) => Err(StorageError::DuplicateSampleForTimestamp),
        }
    }

    /// Codes every sample but duplicates into `enc` for a dense record in WAL segment `seg`:
    /// each against its series' newest value if that is a base in `seg` (or the batch's
    /// previous in-order value of the series).
    fn encode_samples(&mut self, seg: u32, enc: &mut DenseEncoder) {
        enc.clear();
        enc.reserve(self.pending.len());
        for (i, p) in self.pending.iter().enumerate() {
            let mark = self.marks[i];
            let place = place_of(mark);
            if place == Placement::Duplicate {
                continue;
            }
            let sets_base = place == Placement::InOrder;
            let base = if mark & OWNER != 0 && mark & REPEATED == 0 {
                // SAFETY: locked by this commit; no other reference to it is alive.
                let s = unsafe { self.series_mut(i) };
                if s.wal_seg == seg { s.last().map(|l| l.1) } else { None }
            } else {
                let own_base = (mark & OWNER != 0).then(|| {
                    // SAFETY: as above.
                    let s = unsafe { self.series_mut(i) };
                    if s.wal_seg == seg { s.last().map(|l| l.1) } else { None }
                });
                let rep = self
                    .repeats
                    .as_mut()
                    .and_then(|m| m.get_mut(&p.series.as_ptr()))
                    .unwrap_or_else(|| unreachable!("repeated series are in the repeat map"));
                if let Some(b) = own_base {
                    rep.base = b;
                }
                let base = rep.base;
                if sets_base {
                    rep.base = Some(p.v);
                }
                base
            };
            enc.push(&DenseSample { r: p.r, t: p.t, v: p.v, base, sets_base });
        }
    }

    /// Applies every sample to its series (the locks stay held until `self` is dropped).
    /// Returns the oldest and newest time applied and how many samples went in order
    /// and out of order.
    fn apply(&mut self, head: &Head, logged_seg: u32) -> Applied {
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        let (mut in_order, mut out_of_order) = (0u64, 0u64);
        let mapper = head.mapper.as_ref();
        let range = head.chunk_range.max(1);
        // The range start of the latest timestamp (a scrape's samples share one).
        let mut range_of = (i64::MIN, crate::blockwriter::align_down(i64::MIN, range));
        let pending = self.pending;
        for (i, p) in pending.iter().enumerate() {
            if let Some(q) = pending.get(i + 2 * CHUNK_PREFETCH_AHEAD) {
                prefetch_series(q.series.as_ptr());
            }
            if let Some(q) = pending.get(i + CHUNK_PREFETCH_AHEAD) {
                // SAFETY: locked by this commit (at that sample or before); only read here.
                let ahead = unsafe { &*q.series.get::<'a>().data_ptr() };
                if let Some(o) = ahead.open.as_ref() {
                    // Loaded at `lock_and_place` already, unless the WAL's work evicted them.
                    for line in o.chunk.write_lines() {
                        prefetch_write(line);
                    }
                }
            }
            let mark = self.marks[i];
            // SAFETY: locked by this commit; no other reference to it is alive.
            let s = unsafe { self.series_mut(i) };
            s.logged = true;
            match place_of(mark) {
                Placement::InOrder => {
                    if range_of.0 != p.t {
                        range_of = (p.t, crate::blockwriter::align_down(p.t, range));
                    }
                    s.append_in_range(p.t, p.v, range, range_of.1, mapper.map(|m| (m, p.r)));
                    s.wal_seg = logged_seg;
                    lo = lo.min(p.t);
                    hi = hi.max(p.t);
                    in_order += 1;
                }
                Placement::OutOfOrder => {
                    s.insert_ooo(p.t, p.v);
                    lo = lo.min(p.t);
                    hi = hi.max(p.t);
                    out_of_order += 1;
                }
                Placement::Duplicate => {}
            }
        }
        Applied { lo, hi, in_order, out_of_order }
    }
}

/// What [`Held::apply`] applied: the time range and the samples in and out of order.
struct Applied {
    lo: i64,
    hi: i64,
    in_order: u64,
    out_of_order: u64,
}

/// Points the samples of series truncation removed to the live series of the same labels
/// (created again if need be).
///
/// # Safety
/// The batch's appender (and so its pin) outlives the call; no series lock is held.
unsafe fn move_from_dead(head: &Head, pending: &mut [Pending]) {
    let mut moved: HashMap<*const parking_lot::Mutex<MemSeries>, (u64, SeriesPtr)> = HashMap::new();
    for p in pending.iter_mut() {
        if let Some(&(r, s)) = moved.get(&p.series.as_ptr()) {
            (p.r, p.series) = (r, s);
            continue;
        }
        // SAFETY: the caller's contract.
        let g = unsafe { p.series.get() }.lock();
        if !g.dead {
            continue;
        }
        let labels = g.labels.clone();
        drop(g);
        // The map never holds a dead series, so this is a live one (or a new one).
        let (r, s, _) = head.get_or_create(&labels, None);
        let s = SeriesPtr::of(&s);
        moved.insert(p.series.as_ptr(), (r, s));
        (p.r, p.series) = (r, s);
    }
}

impl Db {
    /// Commits a batch whose appender (holding the pin of `pending`'s series) is alive.
    fn commit(&self, scratch: &mut Scratch) -> Result<(), StorageError> {
        let head_max = scratch.head_max;
        let Scratch { pending, marks, new_series, enc, series_rec, samples_rec, .. } = scratch;
        if pending.is_empty() {
            return Ok(());
        }
        let inner = &self.inner;
        let head = &inner.head;
        let mut w = inner.wal.lock();
        self.check_open()?;
        let bounds =
            BatchBounds::new(head.min_valid(), head.chunk_range, head.ooo_window, head_max);
        // Lock every series once, validate the whole batch, log it, then apply it under the
        // same locks. Series may have been dropped by truncation since append: such samples
        // go to the series of the same labels.
        let mut held = loop {
            new_series.clear();
            let mut held = Held {
                pending,
                marks: &mut *marks,
                repeats: None,
                accepted_at: None,
                refused: Refused::default(),
                _pin: std::marker::PhantomData,
            };
            if held.lock_and_place(&bounds, new_series) {
                break held;
            }
            drop(held);
            // SAFETY: the appender calling this outlives the commit; the locks are released.
            unsafe { move_from_dead(head, pending) };
        };
        // The segment the samples are logged to; series whose newest sample is a base there
        // code their values against it.
        let mut logged_seg = NO_WAL_SEGMENT;
        if let Some(wal) = w.wal.as_mut() {
            series_rec.clear();
            if !new_series.is_empty() {
                let list: Vec<(u64, &Labels)> = new_series
                    .iter()
                    .map(|&i| {
                        // SAFETY: locked by this commit; the reference ends with `list`.
                        let s = unsafe { &*held.series_mut(i as usize) };
                        (held.pending[i as usize].r, &s.labels)
                    })
                    .collect();
                let mut series_buf = Encbuf { b: std::mem::take(series_rec) };
                record::encode_series(&list, &mut series_buf);
                *series_rec = series_buf.b;
            }
            let seg = wal
                .reserve(series_rec.len() + 32 + held.pending.len() * DENSE_SAMPLE_MAX_BYTES)
                .map_err(StorageError::from)?;
            logged_seg = seg;
            held.encode_samples(seg, enc);
            samples_rec.clear();
            if !enc.is_empty() {
                enc.finish(samples_rec);
            }
            let recs: SmallVec<[&[u8]; 2]> = [series_rec.as_slice(), samples_rec.as_slice()]
                .into_iter()
                .filter(|b| !b.is_empty())
                .collect();
            if !recs.is_empty() {
                wal.log(&recs).map_err(StorageError::from)?;
                let due = match inner.opts.wal_sync {
                    WalSync::Always => true,
                    WalSync::Batched { ms } => w.last_sync.elapsed().as_millis() as u64 >= ms,
                };
                if due {
                    if let Some(wal) = w.wal.as_mut() {
                        wal.sync().map_err(StorageError::from)?;
                    }
                    w.last_sync = Instant::now();
                }
            }
        }
        let Applied { lo, hi, in_order, out_of_order } = held.apply(head, logged_seg);
        let refused = std::mem::take(&mut held.refused);
        drop(held);
        if lo <= hi {
            head.note_times(lo, hi);
        }
        let metrics = &inner.metrics;
        // As Prometheus: every sample applied, out-of-order ones included.
        metrics.samples_appended.fetch_add(in_order + out_of_order, Ordering::Relaxed);
        if out_of_order > 0 {
            metrics.ooo_samples_appended.fetch_add(out_of_order, Ordering::Relaxed);
        }
        let Refused { out_of_order, out_of_bounds, too_old } = refused;
        for (n, c) in [
            (out_of_order, &metrics.out_of_order_rejected),
            (out_of_bounds, &metrics.out_of_bound_rejected),
            (too_old, &metrics.too_old_rejected),
        ] {
            if n > 0 {
                c.fetch_add(n, Ordering::Relaxed);
            }
        }
        drop(w);
        crate::head::trim::maybe_release();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Options;
    use storage::Queryable;

    const HOUR: i64 = 3_600_000;

    fn labels(name: &str) -> Labels {
        Labels::new([("__name__", name)])
    }

    /// Every sample of series `name`.
    fn samples(db: &Db, name: &str) -> Vec<(i64, f64)> {
        let q = db.querier(i64::MIN, i64::MAX).unwrap();
        let m = [model::Matcher::equal("__name__", name)];
        let mut out = Vec::new();
        for s in q.select(true, None, &m).unwrap() {
            let mut s = s.unwrap();
            while let Some(x) = s.samples.next() {
                out.push((x.t, x.v));
            }
        }
        out
    }

    /// As Prometheus 2.42's `headAppender`: no sample older than the head's newest time when
    /// the batch began less half the chunk range (1 h of the default 2 h) goes in order, not
    /// even into a new series; the bound moves with batches, not within one.
    #[test]
    fn samples_older_than_half_a_chunk_range_before_the_head_s_newest_are_out_of_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let t0 = 10 * HOUR;
        // On an empty head the batch's first sample sets the bound, as `initAppender` does.
        let mut app = db.appender();
        app.append(0, &labels("a"), t0, 1.0).unwrap();
        assert_eq!(app.append(0, &labels("b"), t0 - HOUR - 1, 1.0), Err(StorageError::OutOfBounds));
        app.append(0, &labels("b"), t0 - HOUR, 2.0).unwrap();
        // Newer samples in the batch do not move it.
        app.append(0, &labels("c"), t0 + 5 * HOUR, 3.0).unwrap();
        app.append(0, &labels("d"), t0 - HOUR, 4.0).unwrap();
        app.commit().unwrap();
        let newest = t0 + 5 * HOUR;
        let mut app = db.appender();
        // New series and existing ones alike, whichever path the append takes.
        assert_eq!(
            app.append(0, &labels("e"), newest - HOUR - 1, 5.0),
            Err(StorageError::OutOfBounds)
        );
        let a = app.append(0, &labels("a"), t0 + HOUR, 6.0);
        assert_eq!(a, Err(StorageError::OutOfBounds));
        app.append(0, &labels("e"), newest - HOUR, 7.0).unwrap();
        app.commit().unwrap();
        assert_eq!(samples(&db, "a"), vec![(t0, 1.0)]);
        assert_eq!(samples(&db, "b"), vec![(t0 - HOUR, 2.0)]);
        assert_eq!(samples(&db, "e"), vec![(newest - HOUR, 7.0)]);
        assert_eq!(db.inner.metrics.out_of_bound_rejected.load(Ordering::Relaxed), 3);
    }

    /// With an out-of-order window, such samples are out of order (within the window from
    /// the head's newest time) or too old, as in Prometheus, even when newer than their
    /// series' newest sample; none is stored twice.
    #[test]
    fn with_an_out_of_order_window_older_samples_go_out_of_order_or_are_too_old() {
        let dir = tempfile::tempdir().unwrap();
        let opts = Options { out_of_order_time_window_ms: 3 * HOUR, ..Options::default() };
        let db = Db::open(dir.path(), opts).unwrap();
        let t0 = 10 * HOUR;
        let mut app = db.appender();
        app.append(0, &labels("a"), t0 - 2 * HOUR, 1.0).unwrap();
        app.append(0, &labels("b"), t0, 2.0).unwrap();
        app.commit().unwrap();
        let mut app = db.appender();
        // Newer than a's newest sample but older than the in-order bound: out of order.
        app.append(0, &labels("a"), t0 - 90 * 60_000, 3.0).unwrap();
        app.append(0, &labels("c"), t0 - 2 * HOUR, 4.0).unwrap();
        assert_eq!(
            app.append(0, &labels("c"), t0 - 2 * HOUR, 5.0),
            Err(StorageError::DuplicateSampleForTimestamp)
        );
        assert_eq!(
            app.append(0, &labels("a"), t0 - 2 * HOUR, 6.0),
            Err(StorageError::DuplicateSampleForTimestamp)
        );
        assert_eq!(
            app.append(0, &labels("d"), t0 - 3 * HOUR - 1, 7.0),
            Err(StorageError::TooOldSample)
        );
        app.commit().unwrap();
        let mut app = db.appender();
        app.append(0, &labels("a"), t0 - 30 * 60_000, 8.0).unwrap();
        app.commit().unwrap();
        assert_eq!(
            samples(&db, "a"),
            vec![(t0 - 2 * HOUR, 1.0), (t0 - 90 * 60_000, 3.0), (t0 - 30 * 60_000, 8.0)]
        );
        assert_eq!(samples(&db, "c"), vec![(t0 - 2 * HOUR, 4.0)]);
    }

    #[test]
    fn pending_lasts_keep_every_series_whatever_slot_it_maps_to() {
        let mut l = PendingLasts::new(Vec::new(), 4);
        let mut pending: Vec<Pending> = Vec::new();
        let handle =
            std::sync::Arc::new(parking_lot::Mutex::new(MemSeries::new(Labels::new([("a", "b")]))));
        let series = SeriesPtr::of(&handle);
        assert_eq!(l.get(1, &pending), None);
        // 64 slots: refs 1, 65 and 129 share one, as do 0 and 64.
        let samples = [(1u64, 10i64), (65, 20), (129, 30), (0, 40), (2, 50), (64, 60)];
        let samples = samples.iter().map(|&(r, t)| (r, t, t as f64 / 2.0));
        for (r, t, v) in samples.chain([(65, 21, -0.0), (1, 11, f64::NAN), (0, 41, 1.0)]) {
            l.set(r, pending.len(), &pending);
            pending.push(Pending { r, series, t, v });
        }
        assert_eq!(l.len, 6);
        let get = |r| l.get(r, &pending).map(|x| (x.0, x.1.to_bits()));
        assert_eq!(get(65), Some((21, (-0.0f64).to_bits())));
        assert!(l.get(1, &pending).is_some_and(|x| x.0 == 11 && x.1.is_nan()));
        assert_eq!(l.get(129, &pending), Some((30, 15.0)));
        assert_eq!(l.get(0, &pending), Some((41, 1.0)));
        assert_eq!(l.get(64, &pending), Some((60, 30.0)));
        assert_eq!(l.get(2, &pending), Some((50, 25.0)));
        assert_eq!(l.get(3, &pending), None);
        assert_eq!(l.get(193, &pending), None);
    }
}
