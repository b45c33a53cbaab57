//! One in-memory series: its closed chunks (immutable, shared with readers), the open XOR chunk
//! being appended to, and a small sorted buffer of out-of-order samples.

use std::sync::atomic::{AtomicI64, Ordering};

use storage::StorageError;

use super::cachefiles::{self, CacheRef, Files};
use super::mapper::ChunkMapper;
use crate::chunkenc::XorChunk;
use crate::iter::{ChunkData, PendingChunk};

/// Samples per chunk before a new one is cut.
pub const SAMPLES_PER_CHUNK: u16 = 120;

/// A full chunk: in the head chunk cache (read through its file's map), or on the heap where
/// the cache could not take it. 16 bytes: a series holds up to seven or eight before the head
/// is cut into a block. A cached chunk's end time is in its cache entry; a series' chunks do
/// not overlap, so the next chunk's start bounds it where a bound does (queries).
#[derive(Debug, Clone)]
pub enum ClosedChunk {
    Cached { at: CacheRef, mint: i64 },
    Owned(Box<OwnedChunk>),
}

/// A closed chunk on the heap.
#[derive(Debug, Clone)]
pub struct OwnedChunk {
    pub mint: i64,
    pub maxt: i64,
    pub bytes: ChunkData,
}

impl ClosedChunk {
    /// A copy of `bytes` on the heap.
    pub fn owned(mint: i64, maxt: i64, bytes: &[u8]) -> ClosedChunk {
        ClosedChunk::Owned(Box::new(OwnedChunk { mint, maxt, bytes: ChunkData::owned(bytes) }))
    }

    pub fn mint(&self) -> i64 {
        match self {
            ClosedChunk::Cached { mint, .. } => *mint,
            ClosedChunk::Owned(o) => o.mint,
        }
    }

    /// The newest sample's time; `None` if the chunk's cache file is gone (the chunk is older
    /// than the head).
    pub fn maxt(&self, files: &Files) -> Option<i64> {
        match self {
            ClosedChunk::Cached { at, .. } => files.maxt(*at),
            ClosedChunk::Owned(o) => Some(o.maxt),
        }
    }

    /// The chunk's bytes; `None` as for [`ClosedChunk::maxt`].
    pub fn data(&self, files: &Files) -> Option<ChunkData> {
        match self {
            ClosedChunk::Cached { at, .. } => files.chunk(*at).map(|c| ChunkData::Mapped(c.0)),
            ClosedChunk::Owned(o) => Some(o.bytes.clone()),
        }
    }
}

/// The chunk being appended to. Its newest time is the chunk's own ([`OpenChunk::maxt`]),
/// not a copy: eight bytes less in every series.
#[derive(Debug, Clone)]
pub struct OpenChunk {
    pub mint: i64,
    pub chunk: XorChunk,
}

/// Every this many samples the open chunk's buffer is sized for the next as many (see
/// [`OpenChunk::reserve_ahead`]).
const RESERVE_STEP: u16 = SAMPLES_PER_CHUNK / 4;

impl OpenChunk {
    /// The newest sample's time (`mint` while the chunk is empty, as it is only between a
    /// cut and the sample that made it).
    #[inline]
    pub fn maxt(&self) -> i64 {
        if self.chunk.num_samples() == 0 { self.mint } else { self.chunk.last_time() }
    }

    /// Sizes the buffer for the samples up to the next [`RESERVE_STEP`], the chunk's end
    /// (120 samples) or its chunk range's end, whichever comes first, at the pace of the
    /// samples so far. Growing by half again whenever full left a chunk near its end with up
    /// to a third of its buffer unused, and every series of a head, filling its chunk in step
    /// with the others, freed buffers of each smaller size on the way, which the allocator
    /// kept resident: at 1 M series, 680 B a series right before a cut against 594 B when
    /// sized ahead (`cargo bench -p tsdb --bench memory`, BENCHMARKS.md).
    #[cold]
    #[inline(never)]
    fn reserve_ahead(&mut self, t: i64, range: i64) {
        let limit = self.chunk.limit().min(SAMPLES_PER_CHUNK);
        let n = self.chunk.num_samples();
        if !(2..limit).contains(&n) {
            return;
        }
        let end = crate::blockwriter::align_down(self.mint, range).saturating_add(range);
        let pace = (t.saturating_sub(self.mint) / i64::from(n - 1)).max(1);
        let left = end.saturating_sub(t).saturating_sub(1) / pace;
        let more = left.clamp(0, i64::from(RESERVE_STEP.min(limit - n)));
        self.chunk.reserve_for(n + more as u16);
    }
}

/// The most samples a series' open chunk that starts at `mint` takes: 120, except the first
/// chunk of each chunk range, which ends 0 to 89 samples early by the series' label hash.
///
/// Every series starts a chunk at each range boundary, so without this every series of a head
/// would fill its open chunk in step with the others, all near empty after a wave of cuts and
/// all near full before the next: the head's memory swung by the open chunks' whole size
/// (about 300 B a series of node-like data) every 120 samples, and every series cut its chunk
/// within the same few seconds. With the first chunk of a range of 30 to 120 samples, the
/// later 120-sample ones are spread over that cycle, so memory stays near the cycle's middle
/// and cuts are spread out; a range holds one chunk more (at 15 s, five instead of four).
fn chunk_limit(closed: &[ClosedChunk], labels: &model::Labels, mint: i64, range: i64) -> u16 {
    let range_start = crate::blockwriter::align_down(mint, range);
    // No chunk crosses a range boundary: the last one is in this range if it starts in it.
    if closed.last().is_some_and(|c| c.mint() >= range_start) {
        return SAMPLES_PER_CHUNK;
    }
    let early = (labels.hash64() >> 32) % u64::from(SAMPLES_PER_CHUNK - SAMPLES_PER_CHUNK / 4);
    SAMPLES_PER_CHUNK - early as u16
}

/// How a sample relates to its series' data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// After the newest sample: appended to the open chunk.
    InOrder,
    /// Older, but inside the out-of-order window.
    OutOfOrder,
    /// Same timestamp and bit-identical value as a stored sample: ignored.
    Duplicate,
}

/// Laid out in this order (`repr(C)`), hot fields first: an append reads the label set's
/// pointer, the flags and the newest sample, and a commit also the WAL segment and the open
/// chunk, which together with the series' lock (just before) span one or two cache lines;
/// the closed chunks and out-of-order samples, seldom touched by appends, come last.
///
/// An appender reads `labels`, `empty_labels` and the newest time without the series' lock
/// ([`MemSeries::append_view`]): the first two never change once the series is built, and
/// the newest time is an atomic.
#[derive(Debug)]
#[repr(C)]
pub struct MemSeries {
    pub labels: model::Labels,
    /// Newest in-order sample, if `has_last` (`last_t` is `i64::MIN` otherwise); see
    /// [`MemSeries::last`]. Written under the series' lock, read without it by appenders.
    last_t: AtomicI64,
    last_v: f64,
    /// The WAL segment that holds `last` as a dense-record base ([`NO_WAL_SEGMENT`]: none), so
    /// the next sample can be coded against it (see `wal::dense`).
    pub wal_seg: u32,
    has_last: bool,
    /// True once a WAL series record for this series has been written.
    pub logged: bool,
    /// Removed from the head by truncation (set under the series lock): appenders that still
    /// point to it put its samples in a series of the same labels instead.
    pub dead: bool,
    /// `labels` is the empty set (from a damaged or foreign WAL; appends refuse it).
    empty_labels: bool,
    pub open: Option<OpenChunk>,
    pub closed: Vec<ClosedChunk>,
    /// Out-of-order samples, sorted by time, unique timestamps (boxed: most series never
    /// have any, and the head holds one `MemSeries` per series).
    #[allow(clippy::box_collection)] // 8 bytes instead of 24 in every series
    ooo: Option<Box<Vec<(i64, f64)>>>,
}

/// What a sample of a batch is placed against (see [`MemSeries::place_in_batch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchBounds {
    /// Oldest time the head accepts at all (the end of the persisted data).
    pub min_valid: i64,
    /// Oldest time that may go in order: the head's newest time when the batch began less
    /// half a chunk range (Prometheus' `appendableMinValidTime`, the compaction window's
    /// end), or [`i64::MIN`].
    pub in_order_min: i64,
    /// The out-of-order window (0: off).
    pub ooo_window: i64,
    /// The head's newest time when the batch began ([`i64::MIN`]: an empty head).
    pub head_max: i64,
}

impl BatchBounds {
    /// The bounds of a batch that began when the head's newest time was `head_max`.
    pub fn new(min_valid: i64, chunk_range: i64, ooo_window: i64, head_max: i64) -> BatchBounds {
        let in_order_min =
            if head_max == i64::MIN { i64::MIN } else { head_max.saturating_sub(chunk_range / 2) };
        BatchBounds { min_valid, in_order_min: in_order_min.max(min_valid), ooo_window, head_max }
    }
}

/// [`MemSeries::wal_seg`] of a series whose newest sample is not a base in any open segment.
pub const NO_WAL_SEGMENT: u32 = u32::MAX;

impl MemSeries {
    pub fn new(labels: model::Labels) -> MemSeries {
        MemSeries {
            empty_labels: labels.is_empty(),
            labels,
            closed: Vec::new(),
            open: None,
            ooo: None,
            last_t: AtomicI64::new(i64::MIN),
            last_v: 0.0,
            has_last: false,
            logged: false,
            dead: false,
            wal_seg: NO_WAL_SEGMENT,
        }
    }

    /// What an appender needs to know to append `t` in order without the series' lock: the
    /// series' label set, whether it is empty, and its newest time (`i64::MIN` if none; a
    /// sample newer than it is in order, given nothing newer pending).
    ///
    /// # Safety
    /// `p` points to a live series (its holder's pin keeps it allocated). The series may be
    /// locked by another thread meanwhile: only fields that never change after
    /// [`MemSeries::new`] are read plainly, and the newest time atomically.
    #[inline]
    pub unsafe fn append_view<'a>(p: *const MemSeries) -> (&'a model::Labels, bool, i64) {
        // SAFETY: the caller's contract; `labels` and `empty_labels` are written only by
        // `new` (`delete_range` replaces the other fields one by one), and `last_t` is atomic.
        unsafe {
            let labels = &*std::ptr::addr_of!((*p).labels);
            let empty = std::ptr::addr_of!((*p).empty_labels).read();
            let newest = (*std::ptr::addr_of!((*p).last_t)).load(Ordering::Relaxed);
            (labels, empty, newest)
        }
    }

    /// Whether the series' label set is empty (without reading it).
    pub fn empty_labels(&self) -> bool {
        self.empty_labels
    }

    /// The newest in-order sample, if any.
    pub fn last(&self) -> Option<(i64, f64)> {
        self.has_last.then_some((self.last_t.load(Ordering::Relaxed), self.last_v))
    }

    /// Sets the newest in-order sample (the time order later appends must follow).
    pub fn set_last(&mut self, last: Option<(i64, f64)>) {
        self.has_last = last.is_some();
        let (t, v) = last.unwrap_or((i64::MIN, 0.0));
        self.last_t.store(t, Ordering::Relaxed);
        self.last_v = v;
    }

    /// Decides where `(t, v)` goes given the newest sample `last` (which may be a pending one
    /// from the same batch). `min_valid` is the oldest time the head accepts; `ooo_window` 0
    /// disables out-of-order ingestion. The window reaches back from `head_max`, the head's
    /// newest time when the batch began, as in Prometheus (`i64::MIN`: from the series' own
    /// newest sample, for an empty head and for replay).
    pub fn place(
        &self,
        last: Option<(i64, f64)>,
        t: i64,
        v: f64,
        min_valid: i64,
        ooo_window: i64,
        head_max: i64,
    ) -> Result<Placement, StorageError> {
        let last = last.or(self.last());
        match last {
            None => {
                if t < min_valid {
                    return Err(StorageError::OutOfBounds);
                }
                Ok(Placement::InOrder)
            }
            Some((lt, lv)) if t > lt => {
                if t < min_valid {
                    return Err(StorageError::OutOfBounds);
                }
                let _ = lv;
                Ok(Placement::InOrder)
            }
            Some((lt, lv)) if t == lt => {
                if lv.to_bits() == v.to_bits() {
                    Ok(Placement::Duplicate)
                } else {
                    Err(StorageError::DuplicateSampleForTimestamp)
                }
            }
            Some((lt, _)) => {
                if ooo_window <= 0 {
                    return Err(StorageError::OutOfOrderSample);
                }
                let reference = if head_max == i64::MIN { lt } else { head_max };
                if t < reference.saturating_sub(ooo_window) || t < min_valid {
                    return Err(StorageError::TooOldSample);
                }
                if let Some(existing) = self.sample_at(t) {
                    return if existing.to_bits() == v.to_bits() {
                        Ok(Placement::Duplicate)
                    } else {
                        Err(StorageError::DuplicateSampleForTimestamp)
                    };
                }
                Ok(Placement::OutOfOrder)
            }
        }
    }

    /// [`MemSeries::place`] for a sample of a batch, as Prometheus' `memSeries.appendable`
    /// with its appender's bounds: a sample older than `b.in_order_min` never goes in order,
    /// even into a new series: it is out of bounds, or with an out-of-order window, out of
    /// order if the window (reaching back from `b.head_max`) holds it, too old if not. Below
    /// `b.min_valid` (persisted data) it is refused as [`MemSeries::place`] refuses it.
    pub fn place_in_batch(
        &self,
        last: Option<(i64, f64)>,
        t: i64,
        v: f64,
        b: &BatchBounds,
    ) -> Result<Placement, StorageError> {
        if t >= b.in_order_min || t < b.min_valid {
            return self.place(last, t, v, b.min_valid, b.ooo_window, b.head_max);
        }
        if b.ooo_window <= 0 {
            return Err(StorageError::OutOfBounds);
        }
        if t < b.head_max.saturating_sub(b.ooo_window) {
            return Err(StorageError::TooOldSample);
        }
        let at_t = match last.or(self.last()) {
            Some((lt, lv)) if lt == t => Some(lv),
            _ => self.sample_at(t),
        };
        match at_t {
            Some(existing) if existing.to_bits() == v.to_bits() => Ok(Placement::Duplicate),
            Some(_) => Err(StorageError::DuplicateSampleForTimestamp),
            None => Ok(Placement::OutOfOrder),
        }
    }

    /// The value stored at exactly `t`, if any (out-of-order buffer or chunks).
    fn sample_at(&self, t: i64) -> Option<f64> {
        if let Ok(i) = self.ooo().binary_search_by_key(&t, |s| s.0) {
            return Some(self.ooo()[i].1);
        }
        let find = |mut it: crate::chunkenc::XorIterator<&[u8]>| {
            while let Some((st, sv)) = it.next() {
                if st == t {
                    return Some(sv);
                }
            }
            None
        };
        if let Some(o) = self.open.as_ref().filter(|o| o.mint <= t) {
            return (t <= o.maxt()).then(|| find(o.chunk.iter())).flatten();
        }
        // The last closed chunk starting at or before `t` is the only one that can hold it.
        let i = self.closed.partition_point(|c| c.mint() <= t).checked_sub(1)?;
        let data = self.closed.get(i)?.data(&cachefiles::files())?;
        find(crate::chunkenc::XorIterator::new(data.as_ref()))
    }

    /// Appends an in-order sample, cutting a new chunk at 120 samples or a range boundary.
    /// Full chunks go to `mapper` under this series' ref when given (and it can write them),
    /// else stay on the heap.
    pub fn append(
        &mut self,
        t: i64,
        v: f64,
        chunk_range: i64,
        mapper: Option<(&ChunkMapper, u64)>,
    ) {
        let range = chunk_range.max(1);
        self.append_in_range(t, v, range, crate::blockwriter::align_down(t, range), mapper);
    }

    /// [`MemSeries::append`] given the chunk range (at least 1) and the start of the range
    /// `t` falls in (`align_down(t, range)`), which a commit of many samples of one timestamp
    /// computes once instead of dividing at every sample.
    #[inline]
    pub fn append_in_range(
        &mut self,
        t: i64,
        v: f64,
        range: i64,
        t_range_start: i64,
        mapper: Option<(&ChunkMapper, u64)>,
    ) {
        self.append_with(t, v, range, t_range_start, mapper, XorChunk::with_capacity);
    }

    /// [`MemSeries::append_in_range`] where a chunk the sample starts is made by `new_chunk`
    /// (e.g. in a buffer allocated ahead), given the capacity its first [`RESERVE_STEP`]
    /// samples need if they code as the full chunk's did ([`XorChunk::capacity_for_next`]):
    /// sized so, a chunk grows first when [`OpenChunk::reserve_ahead`] sizes it for the next
    /// step, where one grown from the encoder's smallest buffer was reallocated three or four
    /// times before.
    #[inline]
    pub fn append_with(
        &mut self,
        t: i64,
        v: f64,
        range: i64,
        t_range_start: i64,
        mapper: Option<(&ChunkMapper, u64)>,
        new_chunk: impl FnOnce(usize) -> XorChunk,
    ) {
        let cut = match &self.open {
            None => true,
            // A chunk never crosses the end of the chunk range it starts in: `t` (not older
            // than the chunk's start) is past that end exactly when the chunk starts before
            // `t`'s range. At the ends of the time line (a range start that saturates) the
            // end is computed as it is stored.
            Some(o) => {
                o.chunk.at_limit()
                    || o.chunk.num_samples() >= SAMPLES_PER_CHUNK
                    || if t_range_start != i64::MIN && t_range_start.checked_add(range).is_some() {
                        o.mint < t_range_start
                    } else {
                        t >= crate::blockwriter::align_down(o.mint, range).saturating_add(range)
                    }
            }
        };
        if cut {
            let cap = self.open.as_ref().map_or(0, |o| o.chunk.capacity_for_next(RESERVE_STEP));
            self.cut(t, range, mapper, new_chunk(cap));
        }
        if let Some(o) = self.open.as_mut() {
            o.chunk.append(t, v);
            if o.chunk.num_samples().is_multiple_of(RESERVE_STEP) {
                o.reserve_ahead(t, range);
            }
        }
        self.last_t.store(t, Ordering::Relaxed);
        (self.last_v, self.has_last) = (v, true);
    }

    /// Closes the open chunk (if any) and opens `chunk` (empty) starting at `t` (see
    /// [`MemSeries::append_with`]).
    ///
    /// The full chunk's bytes are copied (to the head chunk cache, or to a closed chunk of
    /// their exact size) and the next chunk starts (for appends) in a new buffer of a few bytes that grows
    /// with its samples. Reusing the full chunk's buffer (at the capacity it grew to) saved
    /// the reallocations and kept the open chunk in place, but held a full chunk's bytes per
    /// series from the cut on: +33 % resident memory at 100 k series 20-40 samples after the
    /// first cut, against the ≤ 800 B per series target.
    #[cold]
    #[inline(never)]
    fn cut(
        &mut self,
        t: i64,
        range: i64,
        mapper: Option<(&ChunkMapper, u64)>,
        mut chunk: XorChunk,
    ) {
        if let Some(mut o) = self.open.take() {
            let maxt = o.maxt();
            let bytes = o.chunk.bytes();
            let last_v = self.last_v;
            let closed = match mapper.and_then(|(m, r)| m.write(r, o.mint, maxt, last_v, bytes)) {
                Some(at) => {
                    // The full chunk's buffer is freed when `o` drops; counted so that a wave
                    // of cuts hands the pages back (see `trim`).
                    super::trim::note_freed(bytes.len());
                    ClosedChunk::Cached { at, mint: o.mint }
                }
                None => ClosedChunk::owned(o.mint, maxt, bytes),
            };
            // One by one: a head series holds a few closed chunks (up to seven or eight at
            // 15 s before the head is cut into a block), and doubling left up to three
            // unused in every series. A cut is rare enough to pay for the copy.
            self.closed.reserve_exact(1);
            self.closed.push(closed);
        }
        chunk.set_limit(chunk_limit(&self.closed, &self.labels, t, range));
        self.open = Some(OpenChunk { mint: t, chunk });
    }

    /// Inserts an out-of-order sample (placement already checked).
    pub fn insert_ooo(&mut self, t: i64, v: f64) {
        let ooo = self.ooo.get_or_insert_default();
        match ooo.binary_search_by_key(&t, |s| s.0) {
            Ok(i) => ooo[i] = (t, v),
            Err(i) => ooo.insert(i, (t, v)),
        }
    }

    /// The out-of-order samples, sorted by time.
    pub fn ooo(&self) -> &[(i64, f64)] {
        self.ooo.as_deref().map_or(&[], Vec::as_slice)
    }

    /// Oldest and newest sample time, if any.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let mut lo = i64::MAX;
        let mut hi = i64::MIN;
        if let Some(c) = self.closed.first() {
            lo = lo.min(c.mint());
        }
        if let Some(o) = &self.open {
            lo = lo.min(o.mint);
            hi = hi.max(o.maxt());
        } else if let Some(c) = self.closed.last() {
            // Read from its cache entry: only series whose open chunk is gone get here.
            hi = hi.max(c.maxt(&cachefiles::files()).unwrap_or(c.mint()));
        }
        if let (Some(f), Some(l)) = (self.ooo().first(), self.ooo().last()) {
            lo = lo.min(f.0);
            hi = hi.max(l.0);
        }
        (lo <= hi).then_some((lo, hi))
    }

    /// The start of the chunk after closed chunk `i` (the next closed one or the open one): a
    /// bound on chunk `i`'s end, which only its cache entry holds.
    fn start_after(&self, i: usize) -> Option<i64> {
        match self.closed.get(i + 1) {
            Some(next) => Some(next.mint()),
            None => self.open.as_ref().map(|o| o.mint),
        }
    }

    /// Chunks that may overlap `[mint, maxt]` as (a bound on their newest time, chunk), in
    /// time order. A closed chunk's bound is just before the next chunk's start, known
    /// without reading its cache entry; a chunk that ends in the gap before the next one is
    /// read and yields nothing.
    pub fn chunks_in(&self, mint: i64, maxt: i64) -> Vec<(i64, PendingChunk)> {
        let mut out: Vec<(i64, PendingChunk)> = Vec::new();
        if self.closed.first().is_some_and(|c| c.mint() <= maxt) {
            let files = cachefiles::files();
            for (i, c) in self.closed.iter().enumerate() {
                if c.mint() > maxt {
                    break;
                }
                let bound = match self.start_after(i) {
                    Some(next) => next.saturating_sub(1),
                    // The newest chunk of a series without an open one (seldom): read.
                    None => c.maxt(&files).unwrap_or(i64::MAX),
                };
                if bound < mint {
                    continue;
                }
                if let Some(d) = c.data(&files) {
                    out.push((bound, PendingChunk::Ready(d)));
                }
            }
        }
        if let Some(o) = self.open.as_ref().filter(|o| o.maxt() >= mint && o.mint <= maxt) {
            let copy = ChunkData::Owned(std::sync::Arc::new(o.chunk.to_boxed()));
            out.push((o.maxt(), PendingChunk::Ready(copy)));
        }
        out
    }

    /// Out-of-order samples within `[mint, maxt]`.
    pub fn ooo_in(&self, mint: i64, maxt: i64) -> Vec<model::Sample> {
        self.ooo()
            .iter()
            .filter(|s| s.0 >= mint && s.0 <= maxt)
            .map(|&(t, v)| model::Sample::new(t, v))
            .collect()
    }

    /// Every sample in `[mint, maxt]`, merged and sorted (in-order data wins on equal times).
    pub fn samples_in(&self, mint: i64, maxt: i64) -> Vec<(i64, f64)> {
        let mut out: Vec<(i64, f64)> = Vec::new();
        for (_, c) in self.chunks_in(mint, maxt) {
            if let PendingChunk::Ready(d) = c {
                let mut it = crate::chunkenc::XorIterator::new(d);
                while let Some((t, v)) = it.next() {
                    if t >= mint && t <= maxt {
                        out.push((t, v));
                    }
                }
            }
        }
        if self.ooo().iter().any(|s| s.0 >= mint && s.0 <= maxt) {
            out.extend(self.ooo().iter().filter(|s| s.0 >= mint && s.0 <= maxt));
            out.sort_by_key(|s| s.0);
            out.dedup_by_key(|s| s.0);
        }
        out
    }

    /// Drops data older than `mint`: whole chunks ending before it and out-of-order samples.
    pub fn truncate_before(&mut self, mint: i64) {
        // The chunks are in time order: those that end before `mint` come first. A chunk ends
        // before the next one starts, so only a chunk that the next one's start does not
        // settle has its end read from its cache entry (one a series at most: reading every
        // entry's page would fault in the pages of the whole cache). A chunk whose file is
        // gone is older than the head.
        let files = cachefiles::files();
        let mut ended = 0;
        for (i, c) in self.closed.iter().enumerate() {
            let before = c.mint() < mint
                && match self.start_after(i) {
                    Some(n) if n <= mint => true,
                    _ => c.maxt(&files).is_none_or(|t| t < mint),
                };
            if !before {
                break;
            }
            ended += 1;
        }
        drop(files);
        if ended > 0 {
            self.closed.drain(..ended);
            // The chunks cut into a block leave no room behind (see `cut`).
            self.closed.shrink_to_fit();
        }
        if self.open.as_ref().is_some_and(|o| o.maxt() < mint) {
            self.open = None;
        }
        if let Some(ooo) = self.ooo.as_mut() {
            ooo.retain(|s| s.0 >= mint);
            if ooo.is_empty() {
                self.ooo = None;
            }
        }
    }

    /// Rewrites the series without samples in `[mint, maxt]` (deletion). With a mapper, the
    /// rewritten chunks are cached there anew: the caller has voided the series' earlier
    /// cached chunks ([`ChunkMapper::drop_series`]), or they would come back with them.
    pub fn delete_range(
        &mut self,
        mint: i64,
        maxt: i64,
        chunk_range: i64,
        mapper: Option<(&ChunkMapper, u64)>,
    ) {
        let all = self.samples_in(i64::MIN, i64::MAX);
        let last = self.last();
        let logged = self.logged;
        let mut fresh = MemSeries::new(self.labels.clone());
        fresh.logged = logged;
        fresh.dead = self.dead;
        for (t, v) in all.into_iter().filter(|s| s.0 < mint || s.0 > maxt) {
            fresh.append(t, v, chunk_range, mapper);
        }
        // Keep the order boundary so later appends still follow the original newest sample.
        let last = last.or(fresh.last());
        fresh.set_last(last);
        // Field by field: the label set stays where it is (appenders read it without the
        // series' lock, see `append_view`).
        let MemSeries {
            labels: _,
            last_t,
            last_v,
            wal_seg,
            has_last,
            logged: _,
            dead: _,
            empty_labels: _,
            open,
            closed,
            ooo,
        } = fresh;
        (self.last_t, self.last_v, self.wal_seg, self.has_last) =
            (last_t, last_v, wal_seg, has_last);
        (self.open, self.closed, self.ooo) = (open, closed, ooo);
    }

    /// Approximate heap bytes used by this series' sample data.
    pub fn data_bytes(&self) -> usize {
        self.closed
            .iter()
            .map(|c| {
                std::mem::size_of::<ClosedChunk>()
                    + match c {
                        // The box, the bytes and the `Arc`'s counts and box.
                        ClosedChunk::Owned(o) => 32 + o.bytes.as_ref().len() + 32,
                        ClosedChunk::Cached { .. } => 0,
                    }
            })
            .sum::<usize>()
            + self.open.as_ref().map_or(0, |o| o.chunk.len() + 64)
            + self.ooo().len() * 16
    }

    pub fn num_chunks(&self) -> usize {
        self.closed.len() + usize::from(self.open.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_rules() {
        let mut s = MemSeries::new(model::Labels::new([("a", "b")]));
        s.append(100, 1.0, 7_200_000, None);
        assert_eq!(s.place(None, 100, 1.0, 0, 0, i64::MIN), Ok(Placement::Duplicate));
        assert_eq!(
            s.place(None, 100, 2.0, 0, 0, i64::MIN),
            Err(StorageError::DuplicateSampleForTimestamp)
        );
        assert_eq!(s.place(None, 50, 2.0, 0, 0, i64::MIN), Err(StorageError::OutOfOrderSample));
        assert_eq!(s.place(None, 50, 2.0, 0, 100, i64::MIN), Ok(Placement::OutOfOrder));
        assert_eq!(s.place(None, -50, 2.0, 0, 100, i64::MIN), Err(StorageError::TooOldSample));
        assert_eq!(
            s.place(Some((200, 1.0)), 150, 1.0, 0, 0, i64::MIN),
            Err(StorageError::OutOfOrderSample)
        );
        assert_eq!(s.place(None, 150, 1.0, 200, 0, i64::MIN), Err(StorageError::OutOfBounds));
        // The window reaches back from the head's newest time, not the series' own.
        assert_eq!(s.place(None, 50, 2.0, 0, 100, 300), Err(StorageError::TooOldSample));
        assert_eq!(s.place(None, 50, 2.0, 0, 250, 300), Ok(Placement::OutOfOrder));
    }

    #[test]
    fn batch_placement_keeps_samples_older_than_the_in_order_bound_out_of_order() {
        let mut s = MemSeries::new(model::Labels::new([("a", "b")]));
        s.append(100, 1.0, 7_200_000, None);
        // head_max 1000, chunk range 1000: in order from 500 on.
        let off = BatchBounds::new(0, 1000, 0, 1000);
        assert_eq!(off.in_order_min, 500);
        assert_eq!(s.place_in_batch(None, 499, 2.0, &off), Err(StorageError::OutOfBounds));
        assert_eq!(s.place_in_batch(None, 500, 2.0, &off), Ok(Placement::InOrder));
        assert_eq!(
            MemSeries::new(model::Labels::new([("a", "c")])).place_in_batch(None, 499, 2.0, &off),
            Err(StorageError::OutOfBounds)
        );
        // The persisted bound still wins below it.
        let persisted = BatchBounds::new(600, 1000, 0, 1000);
        assert_eq!(persisted.in_order_min, 600);
        assert_eq!(s.place_in_batch(None, 550, 2.0, &persisted), Err(StorageError::OutOfBounds));
        let window = BatchBounds::new(0, 1000, 700, 1000);
        assert_eq!(s.place_in_batch(None, 499, 2.0, &window), Ok(Placement::OutOfOrder));
        assert_eq!(s.place_in_batch(None, 299, 2.0, &window), Err(StorageError::TooOldSample));
        let wide = BatchBounds::new(0, 1000, 1000, 1000);
        assert_eq!(s.place_in_batch(None, 100, 1.0, &wide), Ok(Placement::Duplicate));
        assert_eq!(
            s.place_in_batch(Some((450, 3.0)), 450, 2.0, &wide),
            Err(StorageError::DuplicateSampleForTimestamp)
        );
        // An empty head: no in-order bound.
        let empty = BatchBounds::new(i64::MIN, 1000, 0, i64::MIN);
        assert_eq!(s.place_in_batch(None, 101, 2.0, &empty), Ok(Placement::InOrder));
    }

    #[test]
    fn a_sample_at_the_smallest_time_is_a_newest_sample_like_any_other() {
        let mut s = MemSeries::new(model::Labels::new([("a", "b")]));
        assert_eq!(s.last(), None);
        s.append(i64::MIN, 1.0, 7_200_000, None);
        assert_eq!(s.last(), Some((i64::MIN, 1.0)));
        assert_eq!(s.place(None, i64::MIN, 1.0, i64::MIN, 0, i64::MIN), Ok(Placement::Duplicate));
        assert_eq!(
            s.place(None, i64::MIN, 2.0, i64::MIN, 0, i64::MIN),
            Err(StorageError::DuplicateSampleForTimestamp)
        );
        s.set_last(None);
        assert_eq!(s.last(), None);
    }

    #[test]
    fn chunks_cut_at_120_and_range_boundaries() {
        let mut s = MemSeries::new(model::Labels::new([("a", "b")]));
        for i in 0..250 {
            s.append(i * 1000, i as f64, 7_200_000, None);
        }
        assert_eq!(s.num_chunks(), 3);
        s.append(7_200_000, 1.0, 7_200_000, None);
        assert_eq!(s.num_chunks(), 4, "a chunk never crosses a range boundary");
        assert_eq!(s.samples_in(0, i64::MAX).len(), 251);
        s.delete_range(1000, 248_000, 7_200_000, None);
        assert_eq!(s.samples_in(0, i64::MAX).len(), 3);
    }

    /// A head series holds about one closed chunk per half hour at a 15 s interval, up to
    /// seven or eight before the head is cut into a block: their size is per-series memory.
    #[test]
    fn a_closed_chunk_takes_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<ChunkData>(), 16);
        assert_eq!(std::mem::size_of::<CacheRef>(), 8);
        assert_eq!(std::mem::size_of::<ClosedChunk>(), 16);
    }

    /// The closed chunks' list grows one at a time and gives back what truncation frees.
    #[test]
    fn the_closed_chunk_list_holds_no_room_it_does_not_use() {
        let mut s = series_cutting_at_120();
        let range = 1_000_000_000;
        for i in 0..120 * 9 {
            s.append(i * 1000, i as f64, range, None);
            assert_eq!(s.closed.capacity(), s.closed.len(), "after sample {i}");
        }
        assert_eq!(s.closed.len(), 8);
        s.truncate_before(120 * 3 * 1000);
        assert_eq!(s.closed.len(), 5);
        assert_eq!(s.closed.capacity(), 5);
    }

    /// Closed chunks carry no end time: a query bounds each by the next chunk's start. Every
    /// range, also ones that start or end in the gap between two chunks, finds exactly the
    /// samples in it, with chunks in the cache and on the heap alike.
    #[test]
    fn ranges_between_chunks_find_exactly_their_samples() {
        let dir = tempfile::tempdir().unwrap();
        let (mapper, _) = crate::head::mapper::ChunkMapper::open(dir.path());
        for cached in [true, false] {
            let mut s = series_cutting_at_120();
            // 10 s apart: a chunk ends 10 s before the next one starts.
            let times: Vec<i64> = (0..400).map(|i| i * 10_000).collect();
            for &t in &times {
                s.append(t, t as f64, 1_000_000_000, cached.then_some((&mapper, 9)));
            }
            assert_eq!(s.closed.len(), 3);
            assert_eq!(matches!(s.closed[0], ClosedChunk::Cached { .. }), cached);
            let edges = [0, 1_189_999, 1_190_000, 1_195_000, 1_199_999, 1_200_000, 3_995_000];
            for &lo in &edges {
                for &hi in &edges {
                    let want: Vec<i64> =
                        times.iter().copied().filter(|t| (lo..=hi).contains(t)).collect();
                    let got: Vec<i64> = s.samples_in(lo, hi).iter().map(|x| x.0).collect();
                    assert_eq!(got, want, "[{lo}, {hi}] cached: {cached}");
                }
            }
            // Truncation reads the exact end times.
            s.truncate_before(1_195_000);
            assert_eq!(s.closed.len(), 2);
            assert_eq!(s.time_range(), Some((1_200_000, 3_990_000)));
            // Settled by the next chunk's start; and a chunk that ends at `mint` stays.
            s.truncate_before(2_400_000);
            assert_eq!(s.closed.len(), 1);
            s.truncate_before(3_590_000);
            assert_eq!(s.closed.len(), 1);
            assert_eq!(s.samples_in(0, i64::MAX).first().map(|x| x.0), Some(2_400_000));
        }
    }

    /// The full chunk's buffer a cut frees counts toward the next heap trim: without it a
    /// wave of cuts left 235 B a series resident at 200 k series (BENCHMARKS.md).
    #[test]
    fn a_cut_to_the_head_chunk_cache_counts_the_freed_buffer_for_a_trim() {
        let dir = tempfile::tempdir().unwrap();
        let (mapper, _) = crate::head::mapper::ChunkMapper::open(dir.path());
        let mut s = series_cutting_at_120();
        for i in 0..120 {
            s.append(i * 1000, (i * i) as f64, 7_200_000, Some((&mapper, 1)));
        }
        let full = s.open.as_ref().unwrap().chunk.len() as u64;
        let before = crate::head::trim::noted();
        s.append(120_000, 1.0, 7_200_000, Some((&mapper, 1)));
        assert!(matches!(s.closed[0], ClosedChunk::Cached { .. }));
        assert!(crate::head::trim::noted() - before >= full);
    }

    /// A series whose first chunk of a range is not cut early (see [`chunk_limit`]).
    fn series_cutting_at_120() -> MemSeries {
        (0..)
            .map(|i| model::Labels::new([("a", i.to_string())]))
            .find(|l| chunk_limit(&[], l, 0, 7_200_000) == SAMPLES_PER_CHUNK)
            .map(MemSeries::new)
            .unwrap()
    }

    #[test]
    fn series_in_step_cut_their_first_chunk_of_a_range_at_different_counts() {
        let range = 7_200_000;
        let mut all: Vec<MemSeries> = (0..1000)
            .map(|i| MemSeries::new(model::Labels::new([("series", i.to_string())])))
            .collect();
        let append = |all: &mut Vec<MemSeries>, from: i64, to: i64| {
            for k in from..to {
                for s in all.iter_mut() {
                    s.append(k * 15_000, k as f64, range, None);
                }
            }
        };
        // From a range start, 150 samples at 15 s: open chunks of 30 to 119 samples.
        append(&mut all, 0, 150);
        let open: std::collections::BTreeSet<u16> =
            all.iter().map(|s| s.open.as_ref().unwrap().chunk.num_samples()).collect();
        assert!(open.len() > 60, "open chunks in step: {open:?}");
        // Then across the next range boundary (480 samples in) and on.
        append(&mut all, 150, 700);
        let files = cachefiles::files();
        for s in &all {
            let counts: Vec<(i64, usize)> = s
                .closed
                .iter()
                .map(|c| {
                    (
                        c.mint(),
                        crate::chunkenc::XorIterator::new(c.data(&files).unwrap()).num_samples()
                            as usize,
                    )
                })
                .collect();
            // The first chunk of each range holds 30 to 120 samples, the others 120 but
            // the one a range boundary cuts; none crosses a boundary.
            assert!((30..=120).contains(&counts[0].1), "{counts:?}");
            assert!(counts[1..].iter().all(|&(_, n)| n <= 120), "{counts:?}");
            let second_range = counts.iter().find(|&&(m, _)| m >= range).unwrap();
            assert!((30..=120).contains(&second_range.1), "{counts:?}");
            assert!(s.closed.iter().all(|c| c.mint() / range == c.maxt(&files).unwrap() / range));
        }
    }

    /// Node-like samples: 15 s apart, three in ten a few milliseconds late, a counter with
    /// irregular integer increments.
    fn node_sample(i: i64) -> (i64, f64) {
        let late = [0, 0, 2, 0, 0, 1, 0, 3, 0, 0][(i % 10) as usize];
        (1_700_000_000_000 + i * 15_000 + late, (i * 40 + i * i % 97) as f64)
    }

    #[test]
    fn the_open_chunk_is_sized_a_quarter_ahead_and_ends_without_a_third_unused() {
        let mut s = series_cutting_at_120();
        let range = 1_000_000_000;
        let len = |s: &MemSeries| s.open.as_ref().unwrap().chunk.len();
        let capacity = |s: &MemSeries| s.open.as_ref().unwrap().chunk.capacity();
        let mut at_step = Vec::new();
        for i in 0..120 {
            let (t, v) = node_sample(i);
            s.append(t, v, range, None);
            let n = i + 1;
            if n % 30 == 0 && n < 120 {
                at_step.push(capacity(&s));
            } else if n > 30 {
                // The buffer sized at the last step holds every sample up to the next.
                assert_eq!(capacity(&s), at_step[at_step.len() - 1], "sample {n}");
            }
        }
        let (used, full) = (len(&s), capacity(&s));
        assert!(full >= used && full <= used + used / 10 + 24, "{used} bytes in {full}");
        assert!(at_step.windows(2).all(|w| w[0] < w[1]), "{at_step:?}");
    }

    #[test]
    fn the_open_chunk_is_sized_only_up_to_its_chunk_range_end() {
        let mut s = MemSeries::new(model::Labels::new([("a", "b")]));
        // 35 samples left in the range after the 30th: sized for 5 more, not 30.
        let range = 35 * 15_000;
        for i in 0..30 {
            let (t, v) = node_sample(i);
            s.append(t - 1_700_000_000_000, v, range, None);
        }
        let o = &s.open.as_ref().unwrap().chunk;
        let per = o.len() / 30;
        assert!(o.capacity() <= o.len() + 5 * (per + 1) + 24, "{}", o.capacity());
    }

    #[test]
    fn a_chunk_after_a_cut_holds_its_first_step_at_the_full_chunks_pace_without_growing() {
        let mut s = series_cutting_at_120();
        let range = 1_000_000_000;
        for i in 0..120 {
            let (t, v) = node_sample(i);
            s.append(t, v, range, None);
        }
        let full = s.open.as_ref().unwrap().chunk.len();
        let capacity = |s: &MemSeries| s.open.as_ref().unwrap().chunk.capacity();
        let (t, v) = node_sample(120);
        s.append(t, v, range, None);
        assert_eq!(s.num_chunks(), 2);
        let first = capacity(&s);
        // A step's worth of the full chunk's bytes, not the whole chunk's.
        assert!(first < full / 2, "{first} bytes for a step of a {full}-byte chunk");
        // Samples 2 to 29 (the 30th may size the buffer for the next step) fit.
        for i in 121..149 {
            let (t, v) = node_sample(i);
            s.append(t, v, range, None);
            assert_eq!(capacity(&s), first, "sample {}", i - 119);
        }
    }

    #[test]
    fn a_cut_closes_the_full_chunk_and_starts_the_next_one_afresh() {
        let mut s = series_cutting_at_120();
        for i in 0..120 {
            s.append(i * 1000, (i * i) as f64, 7_200_000, None);
        }
        let full_bytes = s.open.as_ref().unwrap().chunk.to_boxed().to_vec();
        s.append(120_000, 1.0, 7_200_000, None);
        assert_eq!(s.num_chunks(), 2);
        assert_eq!(s.closed[0].data(&cachefiles::files()).unwrap().as_ref(), full_bytes.as_slice());
        let mut fresh = XorChunk::new();
        fresh.append(120_000, 1.0);
        let open = &s.open.as_ref().unwrap().chunk;
        assert_eq!(open.to_boxed(), fresh.to_boxed());
        assert!(open.len() < full_bytes.len() / 4);
    }

    #[test]
    fn chunks_cut_from_a_series_have_the_bytes_of_chunks_written_alone() {
        let mut s = MemSeries::new(model::Labels::new([("a", "b")]));
        let sample = |i: i64| (i * 15_000 + (i % 3), (i as f64 * 0.37).sin() * 1e3);
        for i in 0..400 {
            let (t, v) = sample(i);
            s.append(t, v, 7_200_000_000, None);
        }
        assert_eq!(s.num_chunks(), 4);
        let mut from = 0;
        let files = cachefiles::files();
        let closed: Vec<ChunkData> = s.closed.iter().map(|c| c.data(&files).unwrap()).collect();
        let open_copy: Option<Box<[u8]>> = s.open.as_ref().map(|o| o.chunk.to_boxed());
        for c in closed.iter().map(|c| c.as_ref()).chain(open_copy.iter().map(|b| &b[..])) {
            let mut fresh = XorChunk::new();
            let n = crate::chunkenc::XorIterator::new(c).num_samples();
            for i in from..from + n as i64 {
                let (t, v) = sample(i);
                fresh.append(t, v);
            }
            assert_eq!(c, fresh.bytes());
            from += n as i64;
        }
        assert_eq!(from, 400);
    }

    #[test]
    fn the_fields_an_append_reads_lead_the_series() {
        use std::mem::{offset_of, size_of};
        let hot = [
            offset_of!(MemSeries, labels),
            offset_of!(MemSeries, last_t),
            offset_of!(MemSeries, last_v),
            offset_of!(MemSeries, wal_seg),
            offset_of!(MemSeries, dead),
        ];
        assert!(hot.iter().all(|&o| o < 32), "{hot:?}");
        assert_eq!(offset_of!(MemSeries, open), 32);
        // With the series' lock and the `Arc`'s counts, 152 bytes: glibc's 160-byte chunk.
        assert!(size_of::<MemSeries>() <= 128, "{}", size_of::<MemSeries>());
        let arc_inner = 2 * size_of::<usize>() + size_of::<parking_lot::Mutex<MemSeries>>();
        assert!(arc_inner <= 152, "{arc_inner}");
    }
}
