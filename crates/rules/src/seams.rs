//! The seams between rules and the rest of Pharos: a query function, an alert sink and a clock.
//!
//! Rules never see the PromQL engine, the storage engine or the notifier directly: the server
//! wires an engine-backed [`QueryFunc`], a `storage::Appendable`/`Queryable` pair and an
//! [`AlertSink`] (the notifier, the built-in Alertmanager, or both). Tests use fakes and a
//! [`ManualClock`].

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use model::Labels;

use crate::RuleError;
pub use notifier::Alert;

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySample {
    pub labels: Labels,
    pub t: i64,
    pub v: f64,
}

/// Evaluates a PromQL expression at one instant. A scalar result is returned as one sample
/// with empty labels (as Prometheus' `EngineQueryFunc` does); strings and matrices are
/// [`RuleError::NotAVector`].
pub trait QueryFunc: Send + Sync {
    fn query(&self, expr: &str, t_ms: i64) -> Result<Vec<QuerySample>, RuleError>;
}

impl<F> QueryFunc for F
where
    F: Fn(&str, i64) -> Result<Vec<QuerySample>, RuleError> + Send + Sync,
{
    fn query(&self, expr: &str, t_ms: i64) -> Result<Vec<QuerySample>, RuleError> {
        self(expr, t_ms)
    }
}

/// Receives alerts to notify (Prometheus' `NotifyFunc`). Must not block.
pub trait AlertSink: Send + Sync {
    fn send(&self, alerts: Vec<Alert>);
}

impl AlertSink for notifier::Notifier {
    fn send(&self, alerts: Vec<Alert>) {
        notifier::Notifier::send(self, alerts);
    }
}

/// Sends every alert to several sinks (external Alertmanagers and the built-in one).
pub struct FanoutSink(pub Vec<Arc<dyn AlertSink>>);

impl AlertSink for FanoutSink {
    fn send(&self, alerts: Vec<Alert>) {
        for s in &self.0 {
            s.send(alerts.clone());
        }
    }
}

/// A sink that drops everything (no Alertmanager configured).
pub struct NullSink;

impl AlertSink for NullSink {
    fn send(&self, _alerts: Vec<Alert>) {}
}

/// A sink that records what it receives (tests, the unit-test runner).
#[derive(Default)]
pub struct RecordingSink(pub parking_lot::Mutex<Vec<Alert>>);

impl AlertSink for RecordingSink {
    fn send(&self, alerts: Vec<Alert>) {
        self.0.lock().extend(alerts);
    }
}

impl RecordingSink {
    /// Takes what was received so far.
    pub fn take(&self) -> Vec<Alert> {
        std::mem::take(&mut *self.0.lock())
    }
}

/// The current time in milliseconds.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A clock that moves only when told to.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start_ms: i64) -> ManualClock {
        ManualClock(AtomicI64::new(start_ms))
    }

    pub fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
