//! `LoadGuard`: stops a selection as soon as the samples it has loaded would exceed what the
//! query may still hold (`max_samples`) or what the shared [`SampleBudget`] has left, instead of
//! loading every matching series first and checking afterwards.
//!
//! Selections decode series on up to two threads, so the guard is shared and atomic. Budget it
//! takes is provisional: [`LoadGuard::finish`] gives it back, and the evaluator then accounts
//! the selection's samples as usual.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::{QueryError, SampleBudget};

pub(crate) struct LoadGuard {
    room: usize,
    budget: Option<Arc<SampleBudget>>,
    loaded: AtomicUsize,
    acquired: AtomicUsize,
    stopped: AtomicBool,
    error: Mutex<Option<QueryError>>,
}

impl LoadGuard {
    /// A guard allowing `room` more samples, also taken from `budget` if any.
    pub fn new(room: usize, budget: Option<Arc<SampleBudget>>) -> LoadGuard {
        LoadGuard {
            room,
            budget,
            loaded: AtomicUsize::new(0),
            acquired: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
            error: Mutex::new(None),
        }
    }

    /// True once the selection must stop loading.
    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Records `n` more samples held; false (and the selection stops) if that is too many.
    pub fn add(&self, n: usize) -> bool {
        if self.stopped() {
            return false;
        }
        let total = self.loaded.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        if total > self.room {
            self.stop(QueryError::TooManySamples);
            return false;
        }
        if let Some(b) = &self.budget {
            if let Err(e) = b.try_acquire(n) {
                self.stop(e);
                return false;
            }
            self.acquired.fetch_add(n, Ordering::Relaxed);
        }
        true
    }

    /// Records that `n` samples recorded by [`LoadGuard::add`] are no longer held.
    pub fn release(&self, n: usize) {
        self.loaded.fetch_sub(n.min(self.loaded.load(Ordering::Relaxed)), Ordering::Relaxed);
        if let Some(b) = &self.budget {
            let give = n.min(self.acquired.load(Ordering::Relaxed));
            self.acquired.fetch_sub(give, Ordering::Relaxed);
            b.release(give);
        }
    }

    fn stop(&self, e: QueryError) {
        self.stopped.store(true, Ordering::Relaxed);
        if let Ok(mut g) = self.error.lock()
            && g.is_none()
        {
            *g = Some(e);
        }
    }

    /// Gives back the provisional budget; the error that stopped the selection, if any.
    pub fn finish(self) -> Result<(), QueryError> {
        if let Some(b) = &self.budget {
            b.release(self.acquired.load(Ordering::Relaxed));
        }
        match self.error.into_inner() {
            Ok(Some(e)) => Err(e),
            Ok(None) => Ok(()),
            Err(_) => Err(QueryError::Execution("sample accounting failed".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_room_and_at_budget_and_gives_budget_back() {
        let g = LoadGuard::new(10, None);
        assert!(g.add(6));
        assert!(!g.add(5));
        assert!(g.stopped());
        assert!(matches!(g.finish(), Err(QueryError::TooManySamples)));

        let b = Arc::new(SampleBudget::new(8));
        let g = LoadGuard::new(100, Some(b.clone()));
        assert!(g.add(5));
        assert_eq!(b.in_use(), 5);
        assert!(!g.add(5));
        assert!(!g.add(1), "stays stopped");
        let e = g.finish().unwrap_err();
        assert_eq!(e.error_type(), "execution");
        assert_eq!(b.in_use(), 0);

        let g = LoadGuard::new(100, Some(b.clone()));
        assert!(g.add(8));
        assert!(g.finish().is_ok());
        assert_eq!(b.in_use(), 0);
    }
}
