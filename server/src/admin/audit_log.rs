//! The audit log as admins read it: filtered, scoped to their team, and as CSV.

use app::contract::{AuditQuery, AuditRow};

use super::Admin;
use crate::catalog::AuditFilter;
use crate::error::{PortalError, Result};
use crate::export::neutralise_into;
use crate::primitives::time::rfc3339_ms;
use crate::query::values::{parse_date, parse_timestamp};
use crate::Services;

/// Most events one page or one CSV holds.
pub const MAX_EVENTS: i64 = 10_000;
/// How often a replica offers to sweep events past their retention.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes the events older than `audit_retention_days`; returns how many went. One replica at a
/// time does it (the `audit-retention` chore); the others return 0.
pub async fn sweep(s: &Services) -> Result<u64> {
    let now = crate::catalog::now_ms();
    let held_until = now + 2 * SWEEP_EVERY.as_millis() as i64;
    if !s.catalog.claim_chore("audit-retention", s.jobs.replica(), held_until).await? {
        return Ok(0);
    }
    let cutoff = now - i64::from(s.settings.audit_retention_days) * 86_400_000;
    s.catalog.delete_events_before(cutoff).await
}

/// Sweeps for as long as the server runs.
pub async fn sweep_forever(s: std::sync::Arc<Services>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    loop {
        tick.tick().await;
        match sweep(&s).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(events = n, "audit events past their retention removed"),
            Err(e) => tracing::warn!(error = %e, "could not sweep the audit log"),
        }
    }
}

pub async fn events(s: &Services, admin: &Admin, q: &AuditQuery, limit: i64) -> Result<Vec<AuditRow>> {
    let filter = AuditFilter {
        team_id: admin.team_filter().map(String::from),
        recipient: super::text(q.recipient.as_deref()),
        share: super::text(q.share.as_deref()),
        action: super::text(q.action.as_deref()),
        from_ms: instant(q.from.as_deref(), "from", false)?,
        to_ms: instant(q.to.as_deref(), "to", true)?,
        limit: limit.clamp(1, MAX_EVENTS),
    };
    let events = s.catalog.events(&filter).await?;
    Ok(events
        .into_iter()
        .map(|e| AuditRow {
            at: rfc3339_ms(e.at),
            actor: e.actor,
            action: e.action,
            object: e.object,
            status: e.status,
            rows: e.rows,
            files: e.files,
            bytes: e.bytes,
            detail: e.detail,
            client_ip: e.client_ip,
            user_agent: e.user_agent,
        })
        .collect())
}

/// RFC 3339, or a date (`to` then means the end of that day).
fn instant(text: Option<&str>, field: &'static str, end_of_day: bool) -> Result<Option<i64>> {
    let Some(text) = super::text(text) else { return Ok(None) };
    if let Some(date) = parse_date(&text) {
        let start = chrono::NaiveDateTime::from(date).and_utc().timestamp_millis();
        return Ok(Some(if end_of_day { start + 86_400_000 - 1 } else { start }));
    }
    parse_timestamp(&text)
        .map(|micros| Some(micros / 1000))
        .ok_or_else(|| PortalError::field(field, format!("`{text}` is not a date (2026-11-23) or a time (2026-11-23T10:00:00Z)")))
}

/// The events as CSV. Cells a spreadsheet would read as a formula are prefixed with `'`.
pub fn csv(rows: &[AuditRow]) -> Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = ["at", "actor", "action", "object", "status", "rows", "files", "bytes", "client_ip", "user_agent", "detail"];
    let internal = |e: csv::Error| PortalError::fault("audit csv", e);
    out.write_record(header).map_err(internal)?;
    for r in rows {
        let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        let record = [
            r.at.clone(),
            r.actor.clone(),
            r.action.clone(),
            r.object.clone().unwrap_or_default(),
            r.status.to_string(),
            number(r.rows),
            number(r.files),
            number(r.bytes),
            r.client_ip.clone().unwrap_or_default(),
            r.user_agent.clone().unwrap_or_default(),
            r.detail.clone().unwrap_or_default(),
        ];
        out.write_record(record.iter().map(|cell| {
            let mut safe = String::with_capacity(cell.len() + 1);
            neutralise_into(cell, true, &mut safe);
            safe
        }))
        .map_err(internal)?;
    }
    out.into_inner().map_err(|e| PortalError::fault("audit csv", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_never_become_formulas() {
        let row = AuditRow {
            at: "2026-11-23T10:00:00.000Z".into(),
            actor: "=cmd|' /C calc'!A0".into(),
            action: "portal.preview".into(),
            object: Some("+1".into()),
            status: 200,
            rows: Some(5),
            files: None,
            bytes: None,
            detail: Some("@SUM(A1)".into()),
            client_ip: None,
            user_agent: Some("-x".into()),
        };
        let text = String::from_utf8(csv(&[row]).unwrap()).unwrap();
        let line = text.lines().nth(1).unwrap();
        assert!(line.contains("'=cmd") && line.contains("'+1") && line.contains("'@SUM") && line.contains("'-x"), "{line}");
    }

    #[test]
    fn dates_and_times_filter_whole_days() {
        assert_eq!(instant(Some("2026-11-23"), "from", false).unwrap(), Some(1_795_392_000_000));
        assert_eq!(instant(Some("2026-11-23"), "to", true).unwrap(), Some(1_795_478_399_999));
        assert!(instant(Some("2026-11-23T10:00:00Z"), "from", false).unwrap().is_some());
        assert_eq!(instant(Some("yesterday"), "from", false).unwrap_err().status(), 400);
        assert_eq!(instant(Some(" "), "from", false).unwrap(), None);
    }
}
