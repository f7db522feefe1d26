//! When a timed delivery runs next: pure, so the scheduler's clock can be any instant.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};

use crate::catalog::Schedule;

/// The first run of `schedule` strictly after `after` (epoch ms); `None` for on-new-version.
pub fn next_run(schedule: Schedule, after: i64) -> Option<i64> {
    let after = DateTime::<Utc>::from_timestamp_millis(after)?;
    let at_hour = |day: DateTime<Utc>, hour: u32| Utc.with_ymd_and_hms(day.year(), day.month(), day.day(), hour, 0, 0).single();
    let next = match schedule {
        Schedule::OnNewVersion => return None,
        Schedule::Daily { hour } => {
            let today = at_hour(after, hour)?;
            if today > after {
                today
            } else {
                today + Duration::days(1)
            }
        }
        Schedule::Weekly { weekday, hour } => {
            let ahead = (i64::from(weekday) - i64::from(after.weekday().num_days_from_monday())).rem_euclid(7);
            let candidate = at_hour(after + Duration::days(ahead), hour)?;
            if candidate > after {
                candidate
            } else {
                candidate + Duration::days(7)
            }
        }
    };
    debug_assert!(next.minute() == 0);
    Some(next.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text).unwrap().timestamp_millis()
    }

    #[test]
    fn daily_runs_at_its_hour_today_or_tomorrow() {
        let daily = Schedule::Daily { hour: 6 };
        assert_eq!(next_run(daily, at("2026-12-03T05:59:00Z")), Some(at("2026-12-03T06:00:00Z")));
        assert_eq!(next_run(daily, at("2026-12-03T06:00:00Z")), Some(at("2026-12-04T06:00:00Z")));
        assert_eq!(next_run(daily, at("2026-12-31T23:00:00Z")), Some(at("2027-01-01T06:00:00Z")));
    }

    #[test]
    fn weekly_runs_on_its_weekday() {
        // 2026-12-03 is a Thursday.
        let monday = Schedule::Weekly { weekday: 0, hour: 6 };
        assert_eq!(next_run(monday, at("2026-12-03T12:00:00Z")), Some(at("2026-12-07T06:00:00Z")));
        assert_eq!(next_run(monday, at("2026-12-07T05:00:00Z")), Some(at("2026-12-07T06:00:00Z")));
        assert_eq!(next_run(monday, at("2026-12-07T06:00:00Z")), Some(at("2026-12-14T06:00:00Z")));
        let thursday = Schedule::Weekly { weekday: 3, hour: 18 };
        assert_eq!(next_run(thursday, at("2026-12-03T12:00:00Z")), Some(at("2026-12-03T18:00:00Z")));
        assert_eq!(next_run(Schedule::OnNewVersion, at("2026-12-03T12:00:00Z")), None);
    }
}
