//! Date functions: `year`, `month`, `day_of_month`, `day_of_week`, `day_of_year`,
//! `days_in_month`, `hour`, `minute` (UTC).

/// The date function for `name`, applied to a Unix time in seconds.
pub(crate) fn date_fn(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "year" => |s| GoTime::unix(s).date().0 as f64,
        "month" => |s| GoTime::unix(s).date().1 as f64,
        "day_of_month" => |s| GoTime::unix(s).date().2 as f64,
        "day_of_week" => |s| GoTime::unix(s).weekday() as f64,
        "day_of_year" => |s| GoTime::unix(s).date().3 as f64 + 1.0,
        "hour" => |s| (GoTime::unix(s).abs % SECONDS_PER_DAY / 3600) as f64,
        "minute" => |s| (GoTime::unix(s).abs % 3600 / 60) as f64,
        "days_in_month" => |s| {
            let (year, month, _, _) = GoTime::unix(s).date();
            days_in_month(year, month) as f64
        },
        _ => return None,
    })
}

const SECONDS_PER_DAY: u64 = 86_400;
const DAYS_PER_400_YEARS: u64 = 365 * 400 + 97;
const DAYS_PER_100_YEARS: u64 = 365 * 100 + 24;
const DAYS_PER_4_YEARS: u64 = 365 * 4 + 1;
const ABSOLUTE_ZERO_YEAR: i64 = -292_277_022_399;
/// Go's `unixToInternal + internalToAbsolute`: seconds from the absolute zero year to 1970.
const UNIX_TO_ABSOLUTE: i64 = {
    let unix_to_internal: i64 = (1969 * 365 + 1969 / 4 - 1969 / 100 + 1969 / 400) * 86_400;
    // absoluteToInternal = (absoluteZeroYear - internalYear) * 365.2425 * secondsPerDay
    // (365.2425 days are exactly 31,556,952 s).
    let absolute_to_internal: i64 = (ABSOLUTE_ZERO_YEAR - 1) * 31_556_952;
    unix_to_internal - absolute_to_internal
};

/// Go's `time.Unix(int64(v), 0).UTC()` as the unsigned "absolute" seconds Go's calendar
/// functions start from, with Go's wrapping arithmetic: a NaN or out-of-range value converts
/// to `i64::MIN` (amd64), and times beyond Go's range wrap around as they do in Go.
struct GoTime {
    abs: u64,
}

impl GoTime {
    fn unix(v: f64) -> GoTime {
        const TWO_63: f64 = 9_223_372_036_854_775_808.0;
        let sec = if v.is_nan() || !(-TWO_63..TWO_63).contains(&v) { i64::MIN } else { v as i64 };
        GoTime { abs: sec.wrapping_add(UNIX_TO_ABSOLUTE) as u64 }
    }

    /// Sunday = 0; the absolute zero is a Monday.
    fn weekday(&self) -> u64 {
        (self.abs.wrapping_add(SECONDS_PER_DAY) % (7 * SECONDS_PER_DAY)) / SECONDS_PER_DAY
    }

    /// Go's `absDate`: year, month (1-12), day of month (1-31), day of year (0-based).
    fn date(&self) -> (i64, u64, u64, u64) {
        let mut d = self.abs / SECONDS_PER_DAY;
        let mut n = d / DAYS_PER_400_YEARS;
        let mut y = 400 * n;
        d -= DAYS_PER_400_YEARS * n;
        n = d / DAYS_PER_100_YEARS;
        n -= n >> 2;
        y += 100 * n;
        d -= DAYS_PER_100_YEARS * n;
        n = d / DAYS_PER_4_YEARS;
        y += 4 * n;
        d -= DAYS_PER_4_YEARS * n;
        n = d / 365;
        n -= n >> 2;
        y += n;
        d -= 365 * n;
        let year = (y as i64).wrapping_add(ABSOLUTE_ZERO_YEAR);
        let yday = d;
        let mut day = yday;
        if is_leap(year) {
            if day == 31 + 29 - 1 {
                return (year, 2, 29, yday);
            }
            if day > 31 + 29 - 1 {
                day -= 1;
            }
        }
        const DAYS_BEFORE: [u64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
        let mut month = day / 31;
        let end = DAYS_BEFORE[month as usize + 1];
        let begin = if day >= end {
            month += 1;
            end
        } else {
            DAYS_BEFORE[month as usize]
        };
        (year, month + 1, day - begin + 1, yday)
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u64) -> u64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_utc() {
        // 2020-02-29T13:45:00Z
        let t = 1_582_983_900.0;
        assert_eq!(date_fn("year").unwrap()(t), 2020.0);
        assert_eq!(date_fn("month").unwrap()(t), 2.0);
        assert_eq!(date_fn("days_in_month").unwrap()(t), 29.0);
        assert_eq!(date_fn("day_of_week").unwrap()(t), 6.0);
        assert_eq!(date_fn("hour").unwrap()(t), 13.0);
        assert_eq!(date_fn("minute").unwrap()(t), 45.0);
        assert_eq!(date_fn("day_of_year").unwrap()(t), 60.0);
        // 1969-12-31T23:59:59Z (truncation toward zero), 1600-01-01T00:00:00Z.
        assert_eq!(date_fn("year").unwrap()(-0.5), 1970.0);
        assert_eq!(date_fn("year").unwrap()(-1.0), 1969.0);
        assert_eq!(date_fn("day_of_week").unwrap()(-1.0), 3.0);
        assert_eq!(date_fn("year").unwrap()(-11_676_096_000.0), 1600.0);
        assert_eq!(date_fn("days_in_month").unwrap()(-11_673_417_600.0), 29.0);
    }

    #[test]
    fn out_of_range_times_wrap_as_in_go() {
        // Go converts NaN and out-of-range floats to i64::MIN on amd64; Prometheus 2.42 then
        // prints year 292277026596 for them.
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300] {
            assert_eq!(date_fn("year").unwrap()(v), 292_277_026_596.0, "{v}");
        }
    }
}
