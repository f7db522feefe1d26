//! The portal's clock and its one text form of an instant.

use chrono::{DateTime, Utc};

/// Now, in epoch milliseconds (the catalog's unit).
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// A day, in the catalog's unit.
pub const DAY_MS: i64 = 86_400_000;

/// `2026-12-01 10:00 UTC`: an instant in a sentence people read.
pub fn minutes_utc(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

/// RFC 3339 in UTC with milliseconds (`2026-12-01T10:00:00.000Z`), as profiles and APIs show it.
pub fn rfc3339_ms(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn instants_print_in_utc_with_milliseconds() {
        assert_eq!(super::rfc3339_ms(1_764_583_200_123), "2025-12-01T10:00:00.123Z");
        assert_eq!(super::minutes_utc(1_764_583_200_123), "2025-12-01 10:00 UTC");
    }
}
