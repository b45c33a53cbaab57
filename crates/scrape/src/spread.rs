//! Where in its interval a target is scraped. Prometheus spreads a pool's targets over the
//! interval by a stable per-target offset (a hash of the target), so each scrape wakes the
//! scraper on its own. Pharos spreads them the same way but in slots: the interval is cut
//! into one slot per `group` targets of the pool, and the targets whose Prometheus offset
//! falls in a slot are scraped together at its start. A wake-up costs far more than the
//! system calls it makes: the caches and page-walk caches of a core that went idle are cold
//! (on a virtual machine the host may have run something else on it), and the scrape after
//! it pays for that. Measured at 100 targets of 1,000 series every second, one wake-up per
//! ten targets instead of one per target took a third off the CPU per scraped sample
//! (BENCHMARKS.md, "Scraping"). A `group` of 1 or less is Prometheus' spread.

use crate::target::fnv64;

/// The shortest slot: below it targets are spread as Prometheus does.
const MIN_SLOT_MS: u64 = 10;

/// Targets of a pool scraped together at one wake-up by default (`--scrape.group-size`).
pub const DEFAULT_GROUP_SIZE: usize = 10;

/// How a pool's targets are placed in their interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Spread {
    /// Slots per interval (0: no slots, Prometheus' spread).
    slots: u64,
    /// Where the slots start within the interval, from the pool's name, so that pools (and
    /// the many small pools with a single slot) do not all start at the interval's boundary.
    phase: u64,
}

impl Spread {
    /// Prometheus' spread: every target at its own offset.
    pub const EXACT: Spread = Spread { slots: 0, phase: 0 };

    /// The spread of pool `job` with `targets` targets scraped every `interval_ms`, `group`
    /// targets to a slot.
    pub fn for_pool(job: &str, targets: usize, group: usize, interval_ms: i64) -> Spread {
        let interval = interval_ms.max(0) as u64;
        if group <= 1 || interval < MIN_SLOT_MS {
            return Spread::EXACT;
        }
        let slots = (targets.div_ceil(group) as u64).clamp(1, interval / MIN_SLOT_MS);
        Spread { slots, phase: fnv64(job.as_bytes()) }
    }

    /// The offset within an interval of `interval_ms` of a target whose Prometheus offset is
    /// `exact` (below `interval_ms`): the start of the slot it falls in.
    pub fn place(self, exact: u64, interval_ms: u64) -> u64 {
        let width = match interval_ms.checked_div(self.slots) {
            Some(w) if w > 0 => w,
            _ => return exact,
        };
        let phase = self.phase % width;
        // The slots run from `phase`; an offset before it belongs to the last slot.
        let from_phase = (exact + interval_ms - phase) % interval_ms;
        let slot = (from_phase / width).min(self.slots - 1);
        (phase + slot * width) % interval_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_of_one_or_a_tiny_interval_is_prometheus_spread() {
        assert_eq!(Spread::for_pool("j", 100, 1, 15_000), Spread::EXACT);
        assert_eq!(Spread::for_pool("j", 100, 0, 15_000), Spread::EXACT);
        assert_eq!(Spread::for_pool("j", 100, 10, 5), Spread::EXACT);
        for exact in [0, 1, 7_777, 14_999] {
            assert_eq!(Spread::EXACT.place(exact, 15_000), exact);
        }
    }

    #[test]
    fn targets_share_a_slot_per_group_and_stay_within_the_interval() {
        let s = Spread::for_pool("node", 100, 10, 1_000);
        let mut offsets: Vec<u64> =
            (0..1_000).map(|e| s.place(e, 1_000)).inspect(|&o| assert!(o < 1_000)).collect();
        offsets.sort_unstable();
        offsets.dedup();
        assert_eq!(offsets.len(), 10, "{offsets:?}");
        // Evenly spaced, from the pool's phase.
        let phase = fnv64(b"node") % 100;
        let mut want: Vec<u64> = (0..10).map(|k| (phase + k * 100) % 1_000).collect();
        want.sort_unstable();
        assert_eq!(offsets, want);
    }

    #[test]
    fn a_target_lands_at_or_before_its_prometheus_offset_within_one_slot() {
        let s = Spread::for_pool("api", 1_000, 10, 15_000);
        let width = 15_000 / 100;
        for exact in (0..15_000).step_by(37) {
            let o = s.place(exact, 15_000);
            let back = (exact + 15_000 - o) % 15_000;
            assert!(back < width, "exact {exact} placed at {o}");
        }
    }

    #[test]
    fn a_small_pool_has_one_slot_and_pools_differ_in_phase() {
        let a = Spread::for_pool("a", 3, 10, 15_000);
        let b = Spread::for_pool("b", 3, 10, 15_000);
        let first = a.place(0, 15_000);
        assert!((0..15_000).all(|e| a.place(e, 15_000) == first));
        assert_ne!(first, b.place(0, 15_000));
    }

    #[test]
    fn slots_are_never_shorter_than_the_minimum() {
        let s = Spread::for_pool("many", 100_000, 2, 1_000);
        let mut offsets: Vec<u64> = (0..1_000).map(|e| s.place(e, 1_000)).collect();
        offsets.sort_unstable();
        offsets.dedup();
        assert_eq!(offsets.len(), 100);
    }
}
