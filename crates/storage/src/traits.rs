//! The traits every storage implements and every reader and writer uses.

use model::{Labels, Matcher, Sample, Timestamp};

use crate::StorageError;

/// An opaque per-storage series reference. `0` means "unknown"; a non-zero ref returned by
/// [`Appender::append`] may be passed back as a hint to skip the label lookup.
pub type SeriesRef = u64;

/// Something that accepts writes.
pub trait Appendable: Send + Sync {
    /// A new batch. Nothing is visible to queriers until [`Appender::commit`].
    fn appender(&self) -> Box<dyn Appender>;
}

/// One batch of writes (one scrape, one rule evaluation, one remote-write request).
pub trait Appender: Send {
    /// Adds a float sample. `hint` is a ref from an earlier append of the same labels, or 0.
    /// Returns the series ref to use as the next hint. Errors apply to this sample only; the
    /// caller decides whether to roll back the whole batch.
    fn append(
        &mut self,
        hint: SeriesRef,
        labels: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, StorageError>;

    /// Adds `samples` in order, as one [`Appender::append`] call each would, and pushes each
    /// call's result to `out` (one per sample, in order). Storages may override it with a
    /// faster equivalent (one dynamic call per batch, series loaded ahead of use).
    fn append_batch(
        &mut self,
        samples: &[BatchSample<'_>],
        out: &mut Vec<Result<SeriesRef, StorageError>>,
    ) {
        out.reserve(samples.len());
        for s in samples {
            out.push(self.append(s.hint, s.labels, s.t, s.v));
        }
    }

    /// Makes the batch durable and visible as one unit: on `Ok` every sample kept is, on `Err`
    /// none is. As Prometheus' head, a storage may drop at commit the samples that other
    /// commits since their append made out of order or duplicate (counting them as refused)
    /// and keep the rest.
    fn commit(self: Box<Self>) -> Result<(), StorageError>;

    /// Discards the batch.
    fn rollback(self: Box<Self>);
}

/// One sample of [`Appender::append_batch`]: the arguments of one [`Appender::append`] call.
#[derive(Debug, Clone, Copy)]
pub struct BatchSample<'a> {
    pub hint: SeriesRef,
    pub labels: &'a Labels,
    pub t: Timestamp,
    pub v: f64,
}

/// Something that can be read.
pub trait Queryable: Send + Sync {
    /// A reader over samples with `mint <= t <= maxt` (milliseconds, both inclusive).
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError>;
}

/// Both halves, as most engines provide.
pub trait Storage: Appendable + Queryable {}

impl<T: Appendable + Queryable> Storage for T {}

/// Hints a querier may use to read less; it must return correct results if it ignores them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SelectHints {
    /// The range the caller will actually read (may be narrower than the querier's).
    pub start: Timestamp,
    pub end: Timestamp,
    /// Query step in ms (0 for instant queries).
    pub step: i64,
    /// The range of a range selector in ms (0 for instant vector selectors).
    pub range: i64,
}

/// A reader bound to a time range.
pub trait Querier: Send {
    /// Series whose labels satisfy every matcher (an absent label matches as `""`), sorted by
    /// labels when `sorted` is true. At least one matcher should not match the empty string.
    fn select(
        &self,
        sorted: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError>;

    /// Sorted, unique values of label `name` over series matching `matchers` (all series if empty).
    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError>;

    /// Sorted, unique label names over series matching `matchers` (all series if empty).
    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError>;
}

/// A lazily produced sequence of series.
pub type SeriesSet = Box<dyn Iterator<Item = Result<Series, StorageError>> + Send>;

/// One series: its labels and a pull iterator over its samples in time order.
pub struct Series {
    pub labels: Labels,
    pub samples: Box<dyn SampleIterator>,
}

impl std::fmt::Debug for Series {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Series").field("labels", &self.labels).finish_non_exhaustive()
    }
}

/// A pull iterator over one series' samples, strictly increasing in time.
pub trait SampleIterator: Send {
    /// The next sample, or `None` at the end (or on error: check [`SampleIterator::err`]).
    fn next(&mut self) -> Option<Sample>;

    /// Advances to the first sample with `t >= ts` and returns it. Never moves backwards: if the
    /// current position is already at or past `ts`, returns the current sample again.
    fn seek(&mut self, ts: Timestamp) -> Option<Sample>;

    /// The error that ended iteration early, if any.
    fn err(&self) -> Option<StorageError> {
        None
    }

    /// Appends to `out` what up to `max` calls of [`SampleIterator::next`] would return, in
    /// order, stopping early at the end; returns how many samples were appended (fewer than
    /// `max` only at the end or on error). Readers of many samples use it to avoid one dynamic
    /// call per sample; implementations may override it with a faster equivalent.
    fn next_batch(&mut self, out: &mut Vec<Sample>, max: usize) -> usize {
        let mut n = 0;
        while n < max {
            match self.next() {
                Some(s) => out.push(s),
                None => break,
            }
            n += 1;
        }
        n
    }
}
