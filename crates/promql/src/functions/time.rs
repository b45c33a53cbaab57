//! Date functions: `year`, `month`, `day_of_month`, `day_of_week`, `day_of_year`,
//! `days_in_month`, `hour`, `minute` (UTC).

use chrono::{DateTime, Datelike, Timelike};

/// The date function for `name`, applied to a Unix time in seconds.
pub(crate) fn date_fn(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "year" => |s| at(s).map_or(f64::NAN, |t| t.year() as f64),
        "month" => |s| at(s).map_or(f64::NAN, |t| t.month() as f64),
        "day_of_month" => |s| at(s).map_or(f64::NAN, |t| t.day() as f64),
        "day_of_week" => |s| at(s).map_or(f64::NAN, |t| t.weekday().num_days_from_sunday() as f64),
        "day_of_year" => |s| at(s).map_or(f64::NAN, |t| t.ordinal() as f64),
        "hour" => |s| at(s).map_or(f64::NAN, |t| t.hour() as f64),
        "minute" => |s| at(s).map_or(f64::NAN, |t| t.minute() as f64),
        "days_in_month" => {
            |s| at(s).map_or(f64::NAN, |t| days_in_month(t.year(), t.month()) as f64)
        }
        _ => return None,
    })
}

/// Go's `time.Unix(int64(v), 0)`: truncates toward zero.
fn at(secs: f64) -> Option<DateTime<chrono::Utc>> {
    if secs.is_nan() {
        return None;
    }
    DateTime::from_timestamp(secs as i64, 0)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
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
    }
}
