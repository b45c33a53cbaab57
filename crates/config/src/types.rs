//! Scalar types of the configuration file: durations, secrets and byte sizes, each with the
//! YAML form Prometheus reads and writes.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration in Prometheus notation (`1h30m`, `15s`, `1d`, `1w`, `1y`), held in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub i64);

impl Duration {
    pub const fn from_secs(s: i64) -> Duration {
        Duration(s * 1000)
    }

    pub fn as_millis(self) -> i64 {
        self.0
    }

    pub fn as_std(self) -> std::time::Duration {
        std::time::Duration::from_millis(self.0.max(0) as u64)
    }

    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }
}

impl std::str::FromStr for Duration {
    type Err = String;
    fn from_str(s: &str) -> Result<Duration, String> {
        model::duration::parse_duration(s)
            .map(Duration)
            .map_err(|_| format!("not a valid duration string: {s:?}"))
    }
}

/// Formats exactly as Prometheus' `model.Duration.String()`: years and weeks only when exact.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&model::duration::format_duration(self.0))
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A secret string: read from YAML, written back as `<secret>` (as `/api/v1/status/config` shows).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.0.is_empty() { "" } else { "<secret>" })
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        Ok(Secret(String::deserialize(d)?))
    }
}

/// A byte size in Go `units.Base2Bytes` notation (`10MB`, `512KiB`, `1GB`; K/M/G are powers of 1024).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct ByteSize(pub u64);

impl ByteSize {
    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }
}

const BYTE_UNITS: [(&str, u64); 7] = [
    ("E", 1 << 60),
    ("P", 1 << 50),
    ("T", 1 << 40),
    ("G", 1 << 30),
    ("M", 1 << 20),
    ("K", 1 << 10),
    ("", 1),
];

impl std::str::FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> Result<ByteSize, String> {
        let bad = || format!("invalid size {s:?}");
        if s == "0" {
            return Ok(ByteSize(0));
        }
        let mut total: u64 = 0;
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad());
            }
            let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let prefix =
                unit.strip_suffix("iB").or_else(|| unit.strip_suffix('B')).ok_or_else(bad)?;
            let mult = BYTE_UNITS.iter().find(|(p, _)| *p == prefix).ok_or_else(bad)?.1;
            total = n.checked_mul(mult).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
        }
        Ok(ByteSize(total))
    }
}

/// Formats as Go's `Base2Bytes.String()` (`10MiB`, `1GiB512MiB`).
impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0B");
        }
        let mut rest = self.0;
        for (p, mult) in BYTE_UNITS {
            if rest >= mult {
                let suffix = if p.is_empty() { "B" } else { "iB" };
                write!(f, "{}{p}{suffix}", rest / mult)?;
                rest %= mult;
            }
        }
        Ok(())
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ByteSize, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(ByteSize(n)),
            Raw::S(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip_as_prometheus_prints_them() {
        for (input, ms, shown) in [
            ("1h30m", 5_400_000, "1h30m"),
            ("15s", 15_000, "15s"),
            ("1d", 86_400_000, "1d"),
            ("1w", 604_800_000, "1w"),
            ("1y", 31_536_000_000, "1y"),
            ("90d", 7_776_000_000, "90d"),
            ("0", 0, "0s"),
            ("1m500ms", 60_500, "1m500ms"),
        ] {
            let d: Duration = input.parse().unwrap();
            assert_eq!(d.0, ms, "{input}");
            assert_eq!(d.to_string(), shown, "{input}");
        }
        assert!("1.5h".parse::<Duration>().is_err());
        assert!("1s1m".parse::<Duration>().is_err());
        assert!("".parse::<Duration>().is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!("10MB".parse::<ByteSize>().unwrap().0, 10 << 20);
        assert_eq!("512KiB".parse::<ByteSize>().unwrap().0, 512 << 10);
        assert_eq!("100B".parse::<ByteSize>().unwrap().0, 100);
        assert_eq!(ByteSize(10 << 20).to_string(), "10MiB");
        assert!("10XB".parse::<ByteSize>().is_err());
    }

    #[test]
    fn secrets_are_hidden() {
        assert_eq!(format!("{:?}", Secret("pw".into())), "<secret>");
    }
}
