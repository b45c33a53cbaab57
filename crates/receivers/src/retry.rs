//! Bounded exponential backoff: retry retryable failures until success, a permanent
//! failure, or the deadline (the group's next flush), as Alertmanager's `RetryStage`.

use std::future::Future;
use std::time::Duration;

use crate::error::NotifyError;

/// Backoff parameters.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub multiplier: u32,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff { initial: Duration::from_millis(500), max: Duration::from_secs(60), multiplier: 2 }
    }
}

/// Calls `attempt` until it succeeds, fails permanently, or `budget` runs out; returns the
/// last error and the number of attempts made.
pub async fn retry<F, Fut>(
    backoff: Backoff,
    budget: Duration,
    attempt: F,
) -> (Result<(), NotifyError>, u32)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), NotifyError>>,
{
    retry_with_pause(backoff, budget, attempt, tokio::time::sleep).await
}

/// [`retry`] with the wait between attempts done by `pause(delay)` (which must take about
/// `delay`), so a caller can give up resources while it waits.
pub async fn retry_with_pause<F, Fut, P, PFut>(
    backoff: Backoff,
    budget: Duration,
    mut attempt: F,
    mut pause: P,
) -> (Result<(), NotifyError>, u32)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), NotifyError>>,
    P: FnMut(Duration) -> PFut,
    PFut: Future<Output = ()>,
{
    let start = tokio::time::Instant::now();
    let mut delay = backoff.initial;
    let mut n = 0;
    loop {
        n += 1;
        let res = attempt().await;
        match res {
            Ok(()) => return (Ok(()), n),
            Err(e) if !e.retryable => return (Err(e), n),
            Err(e) => {
                let elapsed = start.elapsed();
                if elapsed + delay > budget {
                    return (Err(e), n);
                }
                tracing::debug!(error = %e, attempt = n, "notify attempt failed, retrying");
                pause(delay).await;
                delay = (delay * backoff.multiplier).min(backoff.max);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn retries_retryable_until_success() {
        let calls = AtomicU32::new(0);
        let (res, n) = retry(Backoff::default(), Duration::from_secs(300), || {
            let c = calls.fetch_add(1, Ordering::SeqCst);
            async move { if c < 3 { Err(NotifyError::retryable("down")) } else { Ok(()) } }
        })
        .await;
        assert!(res.is_ok());
        assert_eq!(n, 4);
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_stops_and_budget_bounds() {
        let (res, n) = retry(Backoff::default(), Duration::from_secs(300), || async {
            Err(NotifyError::permanent("400"))
        })
        .await;
        assert!(res.is_err() && n == 1);
        let (res, n) = retry(Backoff::default(), Duration::from_secs(10), || async {
            Err(NotifyError::retryable("503"))
        })
        .await;
        // 0.5 + 1 + 2 + 4 = 7.5 s of sleeps fit in 10 s; the next 8 s would not.
        assert!(res.is_err());
        assert_eq!(n, 5);
    }
}
