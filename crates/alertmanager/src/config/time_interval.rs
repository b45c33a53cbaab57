//! `time_intervals` (and the deprecated `mute_time_intervals`): named sets of time windows.
//!
//! Semantics of Alertmanager's `timeinterval` package: every specified field must contain the
//! instant; an absent field matches everything; ranges are inclusive, `times` are half-open
//! `[start, end)` minutes of the day; negative `days_of_month` count from the month's end.
//! `location` names a zone of the system's tz database (as Go's `time.LoadLocation`).

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, TimeZone, Timelike, Utc};
use serde::Deserialize;

use crate::error::Error;

/// A named list of intervals.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedTimeInterval {
    pub name: String,
    #[serde(default)]
    pub time_intervals: Vec<TimeIntervalConfig>,
}

/// One interval as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeIntervalConfig {
    #[serde(default)]
    pub times: Vec<TimeRangeConfig>,
    #[serde(default)]
    pub weekdays: Vec<String>,
    #[serde(default)]
    pub days_of_month: Vec<String>,
    #[serde(default)]
    pub months: Vec<String>,
    #[serde(default)]
    pub years: Vec<String>,
    #[serde(default)]
    pub location: Option<String>,
}

/// `start_time`/`end_time` as `HH:MM`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeRangeConfig {
    pub start_time: String,
    pub end_time: String,
}

/// A compiled interval.
#[derive(Clone, Debug, Default)]
pub struct TimeInterval {
    times: Vec<(u32, u32)>,
    weekdays: Vec<(i64, i64)>,
    days_of_month: Vec<(i64, i64)>,
    months: Vec<(i64, i64)>,
    years: Vec<(i64, i64)>,
    /// `None` is UTC.
    location: Option<Arc<tz::TimeZone>>,
}

const WEEKDAYS: [&str; 7] =
    ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn parse_hhmm(s: &str) -> Result<u32, Error> {
    let bad = || Error::config(format!("couldn't parse timestamp {s}, invalid format"));
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 24 || m > 59 || (h == 24 && m != 0) || s.len() != 5 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn parse_item(s: &str, names: &[&str], base: i64) -> Result<i64, Error> {
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s.trim())) {
        return Ok(i as i64 + base);
    }
    s.trim().parse::<i64>().map_err(|_| Error::config(format!("{s:?} is not a valid value")))
}

fn parse_ranges(
    items: &[String],
    names: &[&str],
    base: i64,
    lo: i64,
    hi: i64,
) -> Result<Vec<(i64, i64)>, Error> {
    let mut out = Vec::new();
    for item in items {
        let (a, b) = match item.split_once(':') {
            Some((a, b)) => (parse_item(a, names, base)?, parse_item(b, names, base)?),
            None => {
                let v = parse_item(item, names, base)?;
                (v, v)
            }
        };
        for v in [a, b] {
            if v < lo || v > hi || v == 0 && lo < 0 {
                return Err(Error::config(format!("{item:?} is out of range")));
            }
        }
        if a.signum() == b.signum() && a > b {
            return Err(Error::config(format!("start day cannot be after end day in {item:?}")));
        }
        out.push((a, b));
    }
    Ok(out)
}

impl TimeInterval {
    /// Compiles and validates one interval.
    pub fn compile(c: &TimeIntervalConfig) -> Result<TimeInterval, Error> {
        let mut times = Vec::new();
        for t in &c.times {
            let (s, e) = (parse_hhmm(&t.start_time)?, parse_hhmm(&t.end_time)?);
            if s >= e {
                return Err(Error::config("start time cannot be equal or greater than end time"));
            }
            times.push((s, e));
        }
        let location = match c.location.as_deref() {
            None | Some("UTC") | Some("") => None,
            Some("Local") => Some(Arc::new(
                tz::TimeZone::local()
                    .map_err(|e| Error::config(format!("loading the local time zone: {e}")))?,
            )),
            Some(name) => Some(Arc::new(
                tz::TimeZone::from_posix_tz(name)
                    .map_err(|_| Error::config(format!("unknown time zone {name}")))?,
            )),
        };
        Ok(TimeInterval {
            times,
            weekdays: parse_ranges(&c.weekdays, &WEEKDAYS, 0, 0, 6)?,
            days_of_month: parse_ranges(&c.days_of_month, &[], 0, -31, 31)?,
            months: parse_ranges(&c.months, &MONTHS, 1, 1, 12)?,
            years: parse_ranges(&c.years, &[], 0, 0, 9999)?,
            location,
        })
    }

    /// True if the instant `ms` lies inside the interval.
    pub fn contains(&self, ms: i64) -> bool {
        let Some(utc) = Utc.timestamp_millis_opt(ms).single() else { return false };
        let offset_s = match &self.location {
            None => 0,
            Some(zone) => {
                zone.find_local_time_type(ms.div_euclid(1000)).map_or(0, |t| t.ut_offset())
            }
        };
        let naive = utc.naive_utc() + chrono::Duration::seconds(i64::from(offset_s));
        let minute = naive.hour() * 60 + naive.minute();
        if !self.times.is_empty() && !self.times.iter().any(|&(s, e)| minute >= s && minute < e) {
            return false;
        }
        let in_any = |ranges: &[(i64, i64)], v: i64| {
            ranges.is_empty() || ranges.iter().any(|&(a, b)| v >= a && v <= b)
        };
        let weekday = i64::from(naive.weekday().num_days_from_sunday());
        if !in_any(&self.weekdays, weekday) {
            return false;
        }
        let (y, m, d) = (i64::from(naive.year()), i64::from(naive.month()), i64::from(naive.day()));
        if !in_any(&self.months, m) || !in_any(&self.years, y) {
            return false;
        }
        if self.days_of_month.is_empty() {
            return true;
        }
        let days_in_month = days_in_month(naive.year(), naive.month());
        self.days_of_month.iter().any(|&(a, b)| {
            let fix = |v: i64| if v < 0 { days_in_month + v + 1 } else { v };
            let (a, b) = (fix(a).max(1), fix(b).min(days_in_month));
            d >= a && d <= b
        })
    }
}

fn days_in_month(year: i32, month: u32) -> i64 {
    let (ny, nm) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    match (NaiveDate::from_ymd_opt(year, month, 1), NaiveDate::from_ymd_opt(ny, nm, 1)) {
        (Some(a), Some(b)) => (b - a).num_days(),
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ti(yaml: &str) -> TimeInterval {
        let c: TimeIntervalConfig = serde_saphyr::from_str(yaml).unwrap();
        TimeInterval::compile(&c).unwrap()
    }

    #[test]
    fn weekdays_and_times() {
        // 2026-11-25 is a Wednesday.
        let wed_10h = Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap().timestamp_millis();
        let i =
            ti("weekdays: ['monday:friday']\ntimes:\n- start_time: '09:00'\n  end_time: '17:00'\n");
        assert!(i.contains(wed_10h));
        assert!(!i.contains(wed_10h + 8 * 3_600_000));
        assert!(!ti("weekdays: ['saturday', 'sunday']").contains(wed_10h));
    }

    #[test]
    fn negative_days_and_months() {
        let nov_30 = Utc.with_ymd_and_hms(2026, 11, 30, 1, 0, 0).unwrap().timestamp_millis();
        assert!(ti("days_of_month: ['-1']").contains(nov_30));
        assert!(ti("months: ['november']\nyears: ['2026']").contains(nov_30));
        assert!(!ti("months: ['1:10']").contains(nov_30));
    }

    #[test]
    fn locations_from_the_tz_database() {
        // 2026-11-25 10:00 UTC is 11:00 in Berlin (CET) and 05:00 in New York (EST).
        let t = Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap().timestamp_millis();
        let window = |loc: &str| {
            ti(&format!("times:\n- start_time: '11:00'\n  end_time: '12:00'\nlocation: '{loc}'\n"))
        };
        if std::path::Path::new("/usr/share/zoneinfo/Europe/Berlin").exists() {
            assert!(window("Europe/Berlin").contains(t));
            assert!(!window("America/New_York").contains(t));
        }
        assert!(!window("UTC").contains(t));
        let c: TimeIntervalConfig = serde_saphyr::from_str("location: 'Nowhere/Atlantis'").unwrap();
        assert!(TimeInterval::compile(&c).is_err());
    }

    #[test]
    fn rejects_bad_values() {
        let c: TimeIntervalConfig = serde_saphyr::from_str("weekdays: ['funday']").unwrap();
        assert!(TimeInterval::compile(&c).is_err());
        let c: TimeIntervalConfig =
            serde_saphyr::from_str("times:\n- start_time: '10:00'\n  end_time: '09:00'\n").unwrap();
        assert!(TimeInterval::compile(&c).is_err());
    }
}
