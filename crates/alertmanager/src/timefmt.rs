//! Timestamps as Alertmanager writes and reads them.
//!
//! Times are `i64` milliseconds since the epoch. The API v2 writes RFC 3339 with exactly three
//! fraction digits (go-openapi's `strfmt.DateTime`); the webhook payload writes Go's
//! `time.Time` JSON form (RFC 3339 with trailing fraction zeros trimmed). Go's zero time is
//! `0001-01-01T00:00:00Z`.

use std::fmt::Write;

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};

/// Go's zero `time.Time` in milliseconds since the epoch.
pub const GO_ZERO_MS: i64 = -62_135_596_800_000;

fn to_datetime(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

/// RFC 3339 with milliseconds, as the API v2 writes it.
pub fn format_api(ms: i64) -> String {
    to_datetime(ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `YYYY-MM-DD<sep>hh:mm:ss` (chrono's `%Y-%m-%d<sep>%H:%M:%S`), written without parsing a
/// format string: this runs for every alert of every notification.
pub(crate) fn date_time(ms: i64, sep: char) -> String {
    let t = to_datetime(ms);
    if !(0..=9999).contains(&t.year()) {
        return t.format(&format!("%Y-%m-%d{sep}%H:%M:%S")).to_string();
    }
    let mut s = String::with_capacity(32);
    let _ = write!(
        s,
        "{:04}-{:02}-{:02}{sep}{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    s
}

/// RFC 3339 with the shortest exact fraction, as Go's `time.Time` JSON writes it.
pub fn format_go(ms: i64) -> String {
    let mut s = date_time(ms, 'T');
    push_fraction(&mut s, ms);
    s.push('Z');
    s
}

/// Appends `.f`, `.ff` or `.fff` (trailing zeros trimmed), or nothing for whole seconds.
pub(crate) fn push_fraction(s: &mut String, ms: i64) {
    let frac = ms.rem_euclid(1000);
    if frac == 0 {
        return;
    }
    let digits = format!("{frac:03}");
    s.push('.');
    s.push_str(digits.trim_end_matches('0'));
}

/// Parses RFC 3339 (any fraction, any offset) to milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp_millis())
}

/// Parses a time as go-openapi's `strfmt.DateTime` does (Alertmanager's API v2 bodies): RFC
/// 3339 with any fraction and a `Z` or `+hh:mm` zone; `+hhmm` only after exactly three or six
/// fraction digits; no zone (UTC) as `2006-01-02T15:04:05[.f]`, `2006-01-02 15:04:05[.f]` or
/// `2006-01-02T15:04`; and `2006-01-02T15:04Z`.
pub fn parse_api(s: &str) -> Option<i64> {
    use chrono::NaiveDateTime;
    let naive = |body: &str, formats: &[&str]| {
        formats.iter().find_map(|f| NaiveDateTime::parse_from_str(body, f).ok())
    };
    let with_seconds = ["%Y-%m-%dT%H:%M:%S%.f"];
    let utc = |t: NaiveDateTime| t.and_utc().timestamp_millis();
    if let Some(body) = s.strip_suffix('Z') {
        return naive(body, &["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]).map(utc);
    }
    let b = s.as_bytes();
    let zone_at =
        |len: usize| s.len().checked_sub(len).filter(|&i| matches!(b.get(i), Some(b'+' | b'-')));
    if let Some(i) = zone_at(6).filter(|&i| b.get(i + 3) == Some(&b':')) {
        let off = offset_seconds(&s[i..])?;
        return naive(&s[..i], &with_seconds).map(|t| utc(t) - i64::from(off) * 1000);
    }
    if let Some(i) = zone_at(5) {
        let body = &s[..i];
        let frac = body.rsplit_once('.').map(|(_, f)| f.len());
        if !matches!(frac, Some(3 | 6)) {
            return None;
        }
        let off = offset_seconds(&format!("{}:{}", &s[i..i + 3], &s[i + 3..]))?;
        return naive(body, &with_seconds).map(|t| utc(t) - i64::from(off) * 1000);
    }
    naive(s, &["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"]).map(utc)
}

/// A `+hh:mm`/`-hh:mm` zone offset in seconds east of UTC.
fn offset_seconds(s: &str) -> Option<i32> {
    let sign = match s.as_bytes().first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return None,
    };
    let (h, m) = s[1..].split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    Some(sign * (h * 3600 + m * 60))
}

/// True if `ms` is Go's zero time (or earlier): "unset".
pub fn is_zero(ms: i64) -> bool {
    ms <= GO_ZERO_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        assert_eq!(format_api(1_500), "1970-01-01T00:00:01.500Z");
        assert_eq!(format_go(1_500), "1970-01-01T00:00:01.5Z");
        assert_eq!(format_go(2_000), "1970-01-01T00:00:02Z");
        assert_eq!(format_go(GO_ZERO_MS), "0001-01-01T00:00:00Z");
        assert_eq!(format_go(1_800_000_000_120), "2027-01-15T08:00:00.12Z");
        assert_eq!(format_go(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(format_go(253_402_300_800_000), "+10000-01-01T00:00:00Z");
        assert_eq!(parse_rfc3339("1970-01-01T01:00:01.5+01:00"), Some(1_500));
        assert!(is_zero(parse_rfc3339("0001-01-01T00:00:00Z").unwrap()));
    }

    #[test]
    fn parses_go_openapi_date_times() {
        let t = 1_500; // 1970-01-01T00:00:01.5Z
        for s in [
            "1970-01-01T00:00:01.5Z",
            "1970-01-01T01:00:01.5+01:00",
            "1970-01-01T01:00:01.500+0100",
            "1970-01-01T00:00:01.500000-0000",
            "1970-01-01T00:00:01.5",
            "1970-01-01 00:00:01.5",
        ] {
            assert_eq!(parse_api(s), Some(t), "{s}");
        }
        assert_eq!(parse_api("1970-01-01T00:01Z"), Some(60_000));
        assert_eq!(parse_api("1970-01-01T00:01"), Some(60_000));
        for bad in ["tomorrow", "1970-01-01T00:00:01+0100", "1970-01-01 00:01", "1970-01-01"] {
            assert_eq!(parse_api(bad), None, "{bad}");
        }
    }
}
