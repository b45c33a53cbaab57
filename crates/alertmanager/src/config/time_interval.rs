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

pub(super) const WEEKDAYS: [&str; 7] =
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

/// `HH:MM` as Alertmanager's `parseTime`: `^(([01][0-9]|2[0-3]):[0-5][0-9])$` or `24:00`.
pub(super) fn parse_hhmm(s: &str) -> Result<u32, Error> {
    let bad = || Error::config(format!("couldn't parse timestamp {s}, invalid format"));
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).filter(|c| c.is_ascii_digit()).map(|c| u32::from(c - b'0'));
    if b.len() != 5 || b[2] != b':' {
        return Err(bad());
    }
    let (Some(h1), Some(h2), Some(m1), Some(m2)) = (digit(0), digit(1), digit(3), digit(4)) else {
        return Err(bad());
    };
    let (h, m) = (h1 * 10 + h2, m1 * 10 + m2);
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// The four range fields, each with Alertmanager's own parsing and checks.
#[derive(Clone, Copy)]
pub(super) enum RangeKind {
    Weekday,
    DayOfMonth,
    Month,
    Year,
}

/// One end of a range (`memberFromString`): weekday names only; month names or integers;
/// integers for days of the month and years (Go's `strconv.Atoi`).
fn range_member(kind: RangeKind, s: &str) -> Result<i64, Error> {
    let atoi = |s: &str| {
        s.parse::<i64>()
            .map_err(|_| Error::config(format!("strconv.Atoi: parsing {s:?}: invalid syntax")))
    };
    match kind {
        RangeKind::Weekday => WEEKDAYS
            .iter()
            .position(|n| *n == s)
            .map(|i| i as i64)
            .ok_or_else(|| Error::config(format!("{s} is not a valid weekday"))),
        RangeKind::Month => match MONTHS.iter().position(|n| *n == s) {
            Some(i) => Ok(i as i64 + 1),
            None => s.parse().map_err(|_| Error::config(format!("{s} is not a valid month"))),
        },
        RangeKind::DayOfMonth | RangeKind::Year => atoi(s),
    }
}

/// `stringableRangeFromString` and the field's `UnmarshalYAML` checks, with its words.
fn parse_range(kind: RangeKind, item: &str) -> Result<(i64, i64), Error> {
    let lower = item.to_lowercase();
    let (a, b) = if lower.contains(':') {
        let parts: Vec<&str> = lower.split(':').collect();
        if parts.len() != 2 {
            return Err(Error::config(format!("couldn't parse range {lower}, invalid format")));
        }
        (range_member(kind, parts[0])?, range_member(kind, parts[1])?)
    } else {
        let v = range_member(kind, &lower)?;
        (v, v)
    };
    let err = |m: String| Err(Error::config(m));
    match kind {
        RangeKind::Weekday if a > b => return err("start day cannot be before end day".into()),
        RangeKind::DayOfMonth => {
            for v in [a, b] {
                if v == 0 || !(-31..=31).contains(&v) {
                    return err(format!("{v} is not a valid day of the month: out of range"));
                }
            }
            if a < 0 && b > 0 {
                return err("end day must be negative if start day is negative".into());
            }
            let check = |v: i64| if v < 0 { 28 + v } else { v };
            if check(a) > check(b) {
                return err(format!("end day {b} is always before start day {a}"));
            }
        }
        RangeKind::Month if a > b => {
            let name = |v: i64| {
                usize::try_from(v - 1).ok().and_then(|i| MONTHS.get(i)).copied().unwrap_or("")
            };
            return err(format!("end month {} is before start month {}", name(b), name(a)));
        }
        RangeKind::Year if a > b => return err(format!("end year {b} is before start year {a}")),
        _ => {}
    }
    Ok((a, b))
}

pub(super) fn parse_ranges(kind: RangeKind, items: &[String]) -> Result<Vec<(i64, i64)>, Error> {
    items.iter().map(|i| parse_range(kind, i)).collect()
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
            weekdays: parse_ranges(RangeKind::Weekday, &c.weekdays)?,
            days_of_month: parse_ranges(RangeKind::DayOfMonth, &c.days_of_month)?,
            months: parse_ranges(RangeKind::Month, &c.months)?,
            years: parse_ranges(RangeKind::Year, &c.years)?,
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
    fn ranges_are_checked_as_alertmanager_does() {
        let check = |field: &str, v: &str| {
            let c: TimeIntervalConfig =
                serde_saphyr::from_str(&format!("{field}: ['{v}']")).unwrap();
            TimeInterval::compile(&c).map(|_| ()).map_err(|e| e.to_string())
        };
        // Sunday is day 0: monday:sunday is backwards.
        assert_eq!(
            check("weekdays", "monday:sunday"),
            Err("start day cannot be before end day".into())
        );
        assert_eq!(check("weekdays", "Sunday:SATURDAY"), Ok(()));
        assert_eq!(check("weekdays", "1"), Err("1 is not a valid weekday".into()));
        assert_eq!(check("weekdays", " monday"), Err(" monday is not a valid weekday".into()));
        assert_eq!(
            check("days_of_month", "-5:3"),
            Err("end day must be negative if start day is negative".into())
        );
        assert_eq!(
            check("days_of_month", "-1:-5"),
            Err("end day -5 is always before start day -1".into())
        );
        assert_eq!(check("days_of_month", "3:-3"), Ok(()));
        assert_eq!(
            check("days_of_month", "0"),
            Err("0 is not a valid day of the month: out of range".into())
        );
        // Months and years are not range-checked beyond their order.
        assert_eq!(check("months", "13"), Ok(()));
        assert_eq!(
            check("months", "may:march"),
            Err("end month march is before start month may".into())
        );
        assert_eq!(check("years", "-5:10000"), Ok(()));
        assert_eq!(
            check("years", "2030:2020"),
            Err("end year 2020 is before start year 2030".into())
        );
        assert_eq!(
            check("years", "1:2:3"),
            Err("couldn't parse range 1:2:3, invalid format".into())
        );
        let times = |s: &str, e: &str| {
            let c: TimeIntervalConfig = serde_saphyr::from_str(&format!(
                "times:\n- start_time: '{s}'\n  end_time: '{e}'\n"
            ))
            .unwrap();
            TimeInterval::compile(&c).is_ok()
        };
        assert!(times("00:00", "24:00") && times("09:05", "23:59"));
        assert!(!times("+1:00", "02:00") && !times("9:00", "10:00") && !times("24:01", "24:02"));
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
