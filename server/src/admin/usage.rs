//! Usage over time for the console and the admin API: the catalog's per-day figures for the
//! admin's team (or one recipient of it), every day of the period filled in.

use app::contract::{TableUsageView, UsageDay, UsageView};

use super::Admin;
use crate::catalog::{Recipient, UsageScope, DAY_MS};
use crate::error::{PortalError, Result};
use crate::Services;

/// The days the console shows.
pub const DEFAULT_DAYS: u32 = 30;
/// The longest period one request may sum.
pub const MAX_DAYS: u32 = 366;
/// How many tables the "most read" list holds.
const TOP_TABLES: i64 = 10;

/// `days` as the API's query string gives it: empty = the default.
pub fn days(text: Option<&str>) -> Result<u32> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(DEFAULT_DAYS),
        Some(t) => t
            .parse()
            .ok()
            .filter(|d| (1..=MAX_DAYS).contains(d))
            .ok_or_else(|| PortalError::field("days", format!("days must be a whole number from 1 to {MAX_DAYS}; got `{t}`"))),
    }
}

/// The last `days` UTC days up to and including the one `now_ms` falls in, of the admin's team
/// or of one recipient the caller already looked up (and checked) for this admin.
pub async fn usage(s: &Services, admin: &Admin, recipient: Option<&Recipient>, days: u32, now_ms: i64) -> Result<UsageView> {
    let today = now_ms.div_euclid(DAY_MS);
    let first = today - i64::from(days.clamp(1, MAX_DAYS)) + 1;
    let scope = UsageScope {
        team_id: admin.team_filter().map(String::from),
        recipient: recipient.map(|r| r.name.clone()),
        from_ms: first * DAY_MS,
        to_ms: (today + 1) * DAY_MS,
    };
    let found = s.catalog.daily_usage(&scope).await?;
    let days = (first..=today)
        .map(|day| {
            let figures = found.iter().find(|d| d.day == day);
            UsageDay {
                date: date_of(day),
                reads: figures.map_or(0, |d| d.reads),
                rows: figures.map_or(0, |d| d.rows),
                bytes: figures.map_or(0, |d| d.bytes),
                refused_sign_ins: figures.map_or(0, |d| d.refused_sign_ins),
            }
        })
        .collect();
    let top_tables = s
        .catalog
        .top_tables(&scope, TOP_TABLES)
        .await?
        .into_iter()
        .map(|t| TableUsageView { table: t.table, reads: t.reads, rows: t.rows, bytes: t.bytes, recipients: t.recipients })
        .collect();
    Ok(UsageView { days, top_tables, counts_unattributed: admin.team.is_none() && recipient.is_none() })
}

fn date_of(day: i64) -> String {
    chrono::DateTime::from_timestamp_millis(day * DAY_MS).map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_whole_days_within_bounds() {
        assert_eq!(days(None).unwrap(), DEFAULT_DAYS);
        assert_eq!(days(Some(" 7 ")).unwrap(), 7);
        for bad in ["0", "367", "a week", "-1"] {
            let e = days(Some(bad)).unwrap_err();
            assert_eq!(e.status(), 400, "{bad}");
            assert!(e.to_string().contains("1 to 366"), "{e}");
        }
        assert_eq!(date_of(20_425), "2025-12-03");
    }
}
