//! Durations in config files, in Prometheus notation (`30s`, `5m`, `1h30m`).

use serde::{Deserialize, Deserializer};

/// A config duration in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Duration(pub i64);

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        model::duration::parse_duration(&s)
            .map(Duration)
            .map_err(|e| serde::de::Error::custom(format!("invalid duration {s:?}: {e}")))
    }
}
