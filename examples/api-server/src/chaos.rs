//! The knobs a user turns to cause an incident: error ratio and latency, changeable live.

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::bail;

/// Current error ratio (stored as f64 bits) and median latency.
#[derive(Debug)]
pub struct Chaos {
    error_ratio_bits: AtomicU64,
    latency_ms: AtomicU64,
}

impl Chaos {
    pub fn new(error_ratio: f64, latency_ms: u64) -> anyhow::Result<Chaos> {
        let c = Chaos { error_ratio_bits: AtomicU64::new(0), latency_ms: AtomicU64::new(0) };
        c.set(Some(error_ratio), Some(latency_ms))?;
        Ok(c)
    }

    pub fn error_ratio(&self) -> f64 {
        f64::from_bits(self.error_ratio_bits.load(Ordering::Relaxed))
    }

    pub fn latency_ms(&self) -> u64 {
        self.latency_ms.load(Ordering::Relaxed)
    }

    /// Changes either knob; an error ratio outside [0, 1] is rejected and nothing changes.
    pub fn set(&self, error_ratio: Option<f64>, latency_ms: Option<u64>) -> anyhow::Result<()> {
        if let Some(r) = error_ratio {
            if !(0.0..=1.0).contains(&r) {
                bail!("error_ratio must be between 0 and 1, got {r}");
            }
            self.error_ratio_bits.store(r.to_bits(), Ordering::Relaxed);
        }
        if let Some(l) = latency_ms {
            self.latency_ms.store(l, Ordering::Relaxed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_out_of_range_ratios_without_changing_anything() {
        let c = Chaos::new(0.1, 5).unwrap();
        assert!(c.set(Some(1.5), Some(99)).is_err());
        assert_eq!((c.error_ratio(), c.latency_ms()), (0.1, 5));
        c.set(None, Some(7)).unwrap();
        assert_eq!((c.error_ratio(), c.latency_ms()), (0.1, 7));
    }
}
