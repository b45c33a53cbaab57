//! Scrape timestamp alignment, as Prometheus does it (`--scrape.adjust-timestamps`, on by
//! default, with `--scrape.timestamp-tolerance`, 2 ms): a scrape that starts at most the
//! tolerance after the time it was due is stamped with that time.
//!
//! Timers fire a millisecond or two late now and then. Stamped as they fire, every such
//! scrape gives its series' samples a delta of delta other than 0, which Prometheus' XOR
//! chunks code in 16 bits instead of 1: about a byte a sample, in the head's open chunks,
//! the WAL and the blocks. Aligned, a loop's timestamps step by exactly its interval.

use std::time::Duration;

/// Prometheus' default `--scrape.timestamp-tolerance`.
pub const SCRAPE_TIMESTAMP_TOLERANCE: Duration = Duration::from_millis(2);

/// The due times of one loop's scrapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alignment {
    /// The last due time: the loop's first scrape, then whole intervals after it.
    due: i64,
    interval: i64,
    tolerance: i64,
}

impl Alignment {
    /// Due times from `first` (when the loop's first scrape starts) on, every `interval`;
    /// `None` when there is no `tolerance`, or the interval is not above 100 tolerances (as
    /// in Prometheus: a 200 ms or shorter interval is never aligned at the default).
    pub fn new(first: i64, interval: Duration, tolerance: Option<Duration>) -> Option<Alignment> {
        let interval = i64::try_from(interval.as_millis()).ok()?;
        let tolerance = i64::try_from(tolerance?.as_millis()).ok()?;
        (interval > tolerance.saturating_mul(100)).then_some(Alignment {
            due: first,
            interval,
            tolerance,
        })
    }

    /// The timestamp of a scrape that starts at `now`: the time it was due if it starts at
    /// most the tolerance after it (or before it), else `now`. Skipped ticks move the due
    /// time on by whole intervals.
    pub fn stamp(&mut self, now: i64) -> i64 {
        while now.saturating_sub(self.due) >= self.interval {
            self.due = self.due.saturating_add(self.interval);
        }
        if now.saturating_sub(self.due) <= self.tolerance { self.due } else { now }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fifteen_seconds() -> Alignment {
        Alignment::new(1_000_000, Duration::from_secs(15), Some(SCRAPE_TIMESTAMP_TOLERANCE))
            .unwrap()
    }

    #[test]
    fn a_scrape_up_to_the_tolerance_late_gets_its_due_time() {
        let mut a = fifteen_seconds();
        assert_eq!(a.stamp(1_000_000), 1_000_000);
        assert_eq!(a.stamp(1_015_001), 1_015_000);
        assert_eq!(a.stamp(1_030_002), 1_030_000);
        assert_eq!(a.stamp(1_045_000), 1_045_000);
    }

    #[test]
    fn a_scrape_later_than_the_tolerance_keeps_its_own_time() {
        let mut a = fifteen_seconds();
        assert_eq!(a.stamp(1_015_003), 1_015_003);
        // The next due time still counts from the first scrape.
        assert_eq!(a.stamp(1_030_001), 1_030_000);
        assert_eq!(a.stamp(1_044_990), 1_044_990, "an early scrape of the last interval");
    }

    #[test]
    fn skipped_ticks_move_the_due_time_by_whole_intervals() {
        let mut a = fifteen_seconds();
        assert_eq!(a.stamp(1_060_001), 1_060_000);
        assert_eq!(a.stamp(1_075_000), 1_075_000);
    }

    #[test]
    fn short_intervals_and_no_tolerance_are_not_aligned() {
        let t = Some(SCRAPE_TIMESTAMP_TOLERANCE);
        assert_eq!(Alignment::new(0, Duration::from_millis(200), t), None);
        assert!(Alignment::new(0, Duration::from_millis(201), t).is_some());
        assert_eq!(Alignment::new(0, Duration::from_secs(15), None), None);
    }
}
