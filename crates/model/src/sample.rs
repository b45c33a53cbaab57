//! Samples and timestamps.

/// Milliseconds since the Unix epoch, as everywhere in Prometheus.
pub type Timestamp = i64;

/// One float sample of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub t: Timestamp,
    pub v: f64,
}

impl Sample {
    pub fn new(t: Timestamp, v: f64) -> Self {
        Sample { t, v }
    }
}
