//! `SampleBudget`: a memory budget shared by all running queries, counted in samples.
//!
//! Each query still has its own `max_samples`; the budget bounds the sum over every query in
//! flight, so many heavy queries at once make some of them fail instead of exhausting memory.
//! A query takes samples from the budget as it loads them and gives back everything it still
//! holds when its evaluation ends (also on error, timeout or cancellation).

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::QueryError;

/// Samples held in memory by all queries sharing this budget, with a maximum.
#[derive(Debug)]
pub struct SampleBudget {
    max: usize,
    in_use: AtomicUsize,
}

impl SampleBudget {
    /// A budget of at most `max` samples held at once by all queries sharing it.
    pub fn new(max: usize) -> SampleBudget {
        SampleBudget { max, in_use: AtomicUsize::new(0) }
    }

    /// The maximum number of samples held at once.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Samples currently held by running queries.
    pub fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Relaxed)
    }

    /// Takes `n` samples, or fails (taking nothing) if that would exceed the maximum.
    pub(crate) fn try_acquire(&self, n: usize) -> Result<(), QueryError> {
        let mut cur = self.in_use.load(Ordering::Relaxed);
        loop {
            let next = cur.checked_add(n).filter(|v| *v <= self.max).ok_or_else(|| {
                QueryError::Execution(format!(
                    "query processing would load too many samples into memory in query execution \
                     (samples held by all running queries would exceed {})",
                    self.max
                ))
            })?;
            match self.in_use.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Gives back `n` samples.
    pub(crate) fn release(&self, n: usize) {
        let _ = self
            .in_use
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |c| Some(c.saturating_sub(n)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acquire_up_to_max_then_fail_without_taking() {
        let b = SampleBudget::new(10);
        assert!(b.try_acquire(6).is_ok());
        let e = b.try_acquire(5).unwrap_err();
        assert_eq!(e.error_type(), "execution");
        assert!(e.to_string().starts_with(
            "query processing would load too many samples into memory in query execution"
        ));
        assert_eq!(b.in_use(), 6);
        assert!(b.try_acquire(4).is_ok());
        b.release(10);
        assert_eq!(b.in_use(), 0);
        b.release(3);
        assert_eq!(b.in_use(), 0);
        assert!(b.try_acquire(usize::MAX).is_err());
    }
}
