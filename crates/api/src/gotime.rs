//! Go's `time` as Prometheus' API uses it, so that every time parameter means what it means to
//! Prometheus: times from float seconds (Go's `strconv.ParseFloat`, `math.Modf`, the fraction
//! rounded to milliseconds, Go's float-to-int64 conversion and `time.Unix`'s normalisation,
//! all wrapping as Go's int64 arithmetic does) or from RFC 3339 (`time.Parse` with
//! `RFC3339Nano` as Go 1.19 does, which built Prometheus 2.42: one-digit hours, `,` before
//! the fraction, at most nine fraction digits, zone offsets of any two-digit hours and minutes), `Before` and the saturating `Sub`, and the two millisecond views:
//! `timestamp.FromTime` (series, labels, admin) and the engine's `UnixNano() / 1e6` (queries),
//! which differ before 1970 for sub-millisecond fractions and beyond ±292 years.

use model::go_atof;

/// Seconds between Go's internal epoch (year 1) and the Unix epoch.
const UNIX_TO_INTERNAL: i64 = 62_135_596_800;
const NANOS: i64 = 1_000_000_000;

/// Prometheus' `minTime` and `maxTime` as `time.RFC3339Nano` prints them: the API takes them
/// back although Go's parser reads only four-digit years.
const MIN_TIME_TEXT: &str = "-292273086-05-16T16:47:06Z";
const MAX_TIME_TEXT: &str = "292277025-08-18T07:12:54.999999999Z";

/// A Go `time.Time` in UTC: Unix seconds and nanoseconds in `[0, 1e9)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnixTime {
    sec: i64,
    nsec: i64,
}

impl UnixTime {
    /// Prometheus' `minTime`, the default start of optional ranges.
    pub const MIN: UnixTime = UnixTime { sec: i64::MIN / 1000 + UNIX_TO_INTERNAL + 1, nsec: 0 };
    /// Prometheus' `maxTime`, the default end of optional ranges.
    pub const MAX: UnixTime =
        UnixTime { sec: i64::MAX / 1000 - UNIX_TO_INTERNAL - 1, nsec: NANOS - 1 };

    /// Go's `time.Unix(sec, nsec)`: `nsec` outside `[0, 1e9)` carries into the seconds.
    pub fn unix(sec: i64, nsec: i64) -> UnixTime {
        if (0..NANOS).contains(&nsec) {
            return UnixTime { sec, nsec };
        }
        let n = nsec / NANOS;
        let (mut sec, mut nsec) = (sec.wrapping_add(n), nsec - n * NANOS);
        if nsec < 0 {
            nsec += NANOS;
            sec = sec.wrapping_sub(1);
        }
        UnixTime { sec, nsec }
    }

    /// A millisecond timestamp as a time (Pharos' clock).
    pub fn from_unix_ms(ms: i64) -> UnixTime {
        UnixTime { sec: ms.div_euclid(1000), nsec: ms.rem_euclid(1000) * 1_000_000 }
    }

    /// `timestamp.FromTime`: `t.Unix()*1000 + t.Nanosecond()/1e6`, wrapping.
    pub fn from_time_ms(self) -> i64 {
        self.sec.wrapping_mul(1000).wrapping_add(self.nsec / 1_000_000)
    }

    /// The engine's `timeMilliseconds`: `t.UnixNano() / 1e6` (UnixNano wraps, the division
    /// truncates toward zero).
    pub fn engine_ms(self) -> i64 {
        self.sec.wrapping_mul(NANOS).wrapping_add(self.nsec) / 1_000_000
    }

    /// Seconds since Go's internal epoch, as `Before` and `Sub` compare them (wrapping).
    fn internal_sec(self) -> i64 {
        self.sec.wrapping_add(UNIX_TO_INTERNAL)
    }

    /// `t.Before(u)`.
    pub fn before(self, u: UnixTime) -> bool {
        (self.internal_sec(), self.nsec) < (u.internal_sec(), u.nsec)
    }

    /// `t.Sub(u)` in nanoseconds: the difference, or the Duration's bound it exceeds.
    pub fn sub_ns(self, u: UnixTime) -> i64 {
        let d = (i128::from(self.internal_sec()) - i128::from(u.internal_sec()))
            * i128::from(NANOS)
            + i128::from(self.nsec - u.nsec);
        match i64::try_from(d) {
            Ok(d) => d,
            Err(_) if self.before(u) => i64::MIN,
            Err(_) => i64::MAX,
        }
    }
}

/// Go's conversion of a float64 to int64 on amd64: truncation, and the "integer indefinite"
/// value (`math.MinInt64`) for NaN and everything out of range.
pub fn go_int64(f: f64) -> i64 {
    if f.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// Prometheus' `parseTime`: float seconds, RFC 3339, or its own `minTime`/`maxTime` texts.
pub fn parse_time(s: &str) -> Result<UnixTime, String> {
    if let Ok(f) = go_atof::parse(s) {
        // math.Modf, then the fraction rounded to milliseconds (math.Round: half away from 0).
        let int = f.trunc();
        let frac = ((f - int) * 1000.0).round() / 1000.0;
        return Ok(UnixTime::unix(go_int64(int), go_int64(frac * 1e9)));
    }
    if let Some(t) = parse_rfc3339(s.as_bytes()) {
        return Ok(t);
    }
    match s {
        MIN_TIME_TEXT => Ok(UnixTime::MIN),
        MAX_TIME_TEXT => Ok(UnixTime::MAX),
        _ => Err(format!("cannot parse {} to a valid timestamp", model::go_quote(s))),
    }
}

/// Prometheus' `parseDuration`: float seconds or Prometheus' notation; nanoseconds.
#[allow(clippy::manual_range_contains)] // NaN compares false both ways and must pass, as in Go
pub fn parse_duration(s: &str) -> Result<i64, String> {
    if let Ok(d) = go_atof::parse(s) {
        let ns = d * 1e9;
        if ns > 9_223_372_036_854_775_807.0 || ns < -9_223_372_036_854_775_808.0 {
            let q = model::go_quote(s);
            return Err(format!("cannot parse {q} to a valid duration. It overflows int64"));
        }
        // NaN passes the check and converts to math.MinInt64, as in Go.
        return Ok(go_int64(ns));
    }
    model::duration::parse_duration(s)
        .ok()
        .and_then(|ms| ms.checked_mul(1_000_000))
        .ok_or_else(|| format!("cannot parse {} to a valid duration", model::go_quote(s)))
}

/// Go's `time.Parse(time.RFC3339Nano, s)` (`2006-01-02T15:04:05.999999999Z07:00`) in UTC.
fn parse_rfc3339(b: &[u8]) -> Option<UnixTime> {
    let mut i = 0;
    if b.len() < 4 || !b[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let year = number(&b[..4]);
    i += 4;
    let month = literal_then_num(b, &mut i, b'-', true)?;
    let day = literal_then_num(b, &mut i, b'-', true)?;
    let hour = literal_then_num(b, &mut i, b'T', false)?;
    let min = literal_then_num(b, &mut i, b':', true)?;
    let sec = literal_then_num(b, &mut i, b':', true)?;
    if !(1..=12).contains(&month) || hour >= 24 || min >= 60 || sec >= 60 {
        return None;
    }
    let nsec = fraction(b, &mut i);
    let offset = zone(b, &mut i)?;
    if i != b.len() || day < 1 || day > days_in(month, year) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + min * 60 + sec - offset;
    Some(UnixTime { sec: secs, nsec })
}

/// The decimal value of ASCII digits.
fn number(digits: &[u8]) -> i64 {
    digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0'))
}

/// `sep` then Go's `getnum`: two digits, or one when not `fixed`.
fn literal_then_num(b: &[u8], i: &mut usize, sep: u8, fixed: bool) -> Option<i64> {
    if b.get(*i) != Some(&sep) {
        return None;
    }
    *i += 1;
    let first = b.get(*i).filter(|c| c.is_ascii_digit())?;
    *i += 1;
    match b.get(*i).filter(|c| c.is_ascii_digit()) {
        Some(second) => {
            *i += 1;
            Some(number(&[*first, *second]))
        }
        None if !fixed => Some(i64::from(first - b'0')),
        None => None,
    }
}

/// An optional fraction: `.` or `,` and one to nine digits (Go 1.19 stops after nine, so a
/// tenth is left for the zone and fails it). Nanoseconds.
fn fraction(b: &[u8], i: &mut usize) -> i64 {
    if !matches!(b.get(*i), Some(b'.' | b',')) || !b.get(*i + 1).is_some_and(u8::is_ascii_digit) {
        return 0;
    }
    let start = *i + 1;
    let mut end = start;
    while end < b.len() && end < start + 9 && b[end].is_ascii_digit() {
        end += 1;
    }
    *i = end;
    let digits = &b[start..end];
    number(digits) * 10i64.pow(9 - digits.len() as u32)
}

/// `Z`, or `±hh:mm` with any two-digit hours and minutes (Go 1.19, which built Prometheus
/// 2.42, checks no range: `+99:99` is 100h39m); seconds east of UTC.
fn zone(b: &[u8], i: &mut usize) -> Option<i64> {
    if b.get(*i) == Some(&b'Z') {
        *i += 1;
        return Some(0);
    }
    let z = b.get(*i..*i + 6)?;
    let two = |d: &[u8]| d.iter().all(u8::is_ascii_digit).then(|| number(d));
    let (hh, mm) = (two(&z[1..3])?, two(&z[4..6])?);
    if z[3] != b':' {
        return None;
    }
    *i += 6;
    match z[0] {
        b'+' => Some((hh * 60 + mm) * 60),
        b'-' => Some(-(hh * 60 + mm) * 60),
        _ => None,
    }
}

fn days_in(month: i64, year: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        parse_time(s).map(UnixTime::from_time_ms).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn float_seconds() {
        assert_eq!(ms("1.5"), 1500);
        assert_eq!(ms("-1.5"), -1500);
        assert_eq!(ms("1.0004"), 1000);
        // 1.0005 - 1 is 0.000499999..., as in Go.
        assert_eq!(ms("1.0005"), 1000);
        assert_eq!(ms("1.0015"), 1002);
        assert_eq!(ms("1_700_000_000.5"), 1_700_000_000_500);
        assert_eq!(ms("0x1p4"), 16_000);
        assert!(parse_time("1e400").is_err());
        assert!(parse_time("0x10").is_err());
        assert!(parse_time("+nan").is_err());
    }

    #[test]
    fn out_of_range_floats_wrap_as_go() {
        // int64(±Inf), int64(NaN) and int64(1e19) are math.MinInt64 on amd64; time.Unix and
        // FromTime wrap.
        let min = UnixTime::unix(i64::MIN, 0);
        assert_eq!(parse_time("1e19"), Ok(min));
        assert_eq!(parse_time("Inf"), Ok(UnixTime::unix(i64::MIN, i64::MIN)));
        assert_eq!(min.from_time_ms(), 0);
        assert_eq!(
            parse_time("NaN"),
            Ok(UnixTime { sec: i64::MAX - 9_223_372_036, nsec: 145_224_192 })
        );
    }

    #[test]
    fn rfc3339_as_go() {
        assert_eq!(ms("2015-07-01T20:10:51.781Z"), 1_435_781_451_781);
        assert_eq!(ms("1970-01-01T01:00:00+01:00"), 0);
        assert_eq!(ms("1970-01-01T1:00:00Z"), 3_600_000);
        assert_eq!(ms("1970-01-01T00:00:01,5Z"), 1_500);
        assert_eq!(ms("1970-01-01T00:00:00.001999999Z"), 1);
        assert_eq!(ms("1970-01-02T00:00:00+24:00"), 0);
        assert_eq!(ms("1970-01-05T04:39:00+99:99"), 0);
        assert_eq!(ms("2024-02-29T00:00:00Z"), 1_709_164_800_000);
        assert_eq!(ms("0000-01-01T00:00:00Z"), -62_167_219_200_000);
        for bad in [
            "2023-11-14",
            "2023-11-14T22:13:20",
            "2023-11-14t22:13:20Z",
            "2023-11-14 22:13:20Z",
            "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20.1234567890Z",
            "2023-11-14T24:00:00Z",
            "2023-11-14T23:59:60Z",
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-11-14T22:13:20+0100",
            "12023-11-14T22:13:20Z",
            "2023-1-14T22:13:20Z",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prometheus_bounds_read_back() {
        assert_eq!(parse_time(MIN_TIME_TEXT), Ok(UnixTime::MIN));
        assert_eq!(parse_time(MAX_TIME_TEXT), Ok(UnixTime::MAX));
        assert_eq!(UnixTime::MIN.from_time_ms(), crate::params::MIN_TIME_MS);
        assert_eq!(UnixTime::MAX.from_time_ms(), crate::params::MAX_TIME_MS);
    }

    #[test]
    fn engine_and_api_milliseconds() {
        // Half a millisecond before 1970: FromTime floors, UnixNano()/1e6 truncates.
        let t = parse_time("1969-12-31T23:59:59.9995Z").unwrap();
        assert_eq!((t.from_time_ms(), t.engine_ms()), (-1, 0));
        assert_eq!(parse_time("-1.5").map(UnixTime::engine_ms), Ok(-1_500));
    }

    #[test]
    fn sub_saturates_and_before_compares_nanoseconds() {
        let a = parse_time("2023-01-01T00:00:00.0000001Z").unwrap();
        let b = parse_time("2023-01-01T00:00:00Z").unwrap();
        assert!(b.before(a));
        assert_eq!(a.sub_ns(b), 100);
        let far = parse_time("1e11").unwrap();
        assert_eq!(far.sub_ns(parse_time("0").unwrap()), i64::MAX);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15"), Ok(15_000_000_000));
        assert_eq!(parse_duration("0.5"), Ok(500_000_000));
        assert_eq!(parse_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_duration("NaN"), Ok(i64::MIN));
        assert_eq!(parse_duration("x"), Err("cannot parse \"x\" to a valid duration".into()));
        assert_eq!(
            parse_duration("1e400"),
            Err("cannot parse \"1e400\" to a valid duration".into())
        );
        assert!(parse_duration("1e300").unwrap_err().contains("overflows int64"));
        assert!(parse_duration("Inf").unwrap_err().contains("overflows int64"));
    }
}
