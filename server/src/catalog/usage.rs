//! The usage figures admins see, summed from the audit log: per recipient (last access, rows and
//! bytes read), per day (reads, rows, bytes, refused sign-ins) and per table (the most read).

use std::collections::HashMap;

use sqlx::Row;

use super::audit::IN_TEAM;
use super::Catalog;
use crate::error::Result;

/// A recipient's reads, summed from the log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub last_access: Option<i64>,
    pub rows: i64,
    pub bytes: i64,
}

/// Whose events a usage figure sums: a team's (`None` = all teams) and, within it, one
/// recipient's; over `[from_ms, to_ms)`.
#[derive(Clone, Debug, Default)]
pub struct UsageScope {
    pub team_id: Option<String>,
    pub recipient: Option<String>,
    pub from_ms: i64,
    pub to_ms: i64,
}

/// One UTC day's figures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DayUsage {
    /// Days since 1970-01-01.
    pub day: i64,
    /// Reads of data that succeeded (protocol queries, pages, downloads, charts).
    pub reads: i64,
    pub rows: i64,
    pub bytes: i64,
    /// Requests turned away for their credentials or their network before a caller was known,
    /// and refused sign-ins.
    pub refused_sign_ins: i64,
}

/// One table's reads in the scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableUsage {
    /// `share.schema.table` as the reads named it.
    pub table: String,
    pub reads: i64,
    pub rows: i64,
    pub bytes: i64,
    pub recipients: i64,
}

pub const DAY_MS: i64 = 86_400_000;

/// The actions that read a table's data; the other partner actions list, sign in or manage.
const READ_ACTIONS: &str = "('queryTable', 'queryTableChanges', 'getQueryInfo', 'portal.preview', 'api.rows', 'export.csv', \
                            'export.xlsx', 'export.chart', 'export.jobDownload')";
/// A partner's request that was answered.
const PARTNER_OK: &str = "SUBSTR(e.actor, 1, 10) = 'recipient:' AND e.status < 400";
const REFUSED_SIGN_IN: &str =
    "e.status IN (401, 403, 429) AND (e.actor = 'anonymous' OR e.action IN ('portal.signIn', 'admin.signIn', 'oauth.token'))";
/// `$1` team, `$2` recipient (lower-cased, `''` = all), `$3`..`$4` the time range.
const IN_SCOPE: &str = "($2 = '' OR LOWER(e.recipient) = $2) AND e.at >= $3 AND e.at < $4";

impl Catalog {
    /// Last successful access, rows and bytes read, per recipient name (lower-cased); of one
    /// recipient, or of all.
    pub async fn usage(&self, recipient: Option<&str>) -> Result<HashMap<String, Usage>> {
        let rows = sqlx::query(
            "SELECT LOWER(recipient) AS who, MAX(at) AS last_at, CAST(SUM(COALESCE(rows_read, 0)) AS BIGINT) AS rows_read, CAST(SUM(COALESCE(bytes, 0)) AS BIGINT) AS bytes \
             FROM audit_events WHERE SUBSTR(actor, 1, 10) = 'recipient:' AND status < 400 AND ($1 = '' OR actor = 'recipient:' || $1) \
             GROUP BY LOWER(recipient)",
        )
        .bind(recipient.unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        let mut usage = HashMap::new();
        for r in &rows {
            let who: Option<String> = r.try_get("who")?;
            if let Some(who) = who {
                usage.insert(who, Usage { last_access: r.try_get("last_at")?, rows: r.try_get("rows_read")?, bytes: r.try_get("bytes")? });
            }
        }
        Ok(usage)
    }

    /// The scope's figures per UTC day, oldest first; days without events are left out.
    pub async fn daily_usage(&self, scope: &UsageScope) -> Result<Vec<DayUsage>> {
        let sql = format!(
            "SELECT e.at / {DAY_MS} AS day, \
               CAST(SUM(CASE WHEN {PARTNER_OK} AND e.action IN {READ_ACTIONS} THEN 1 ELSE 0 END) AS BIGINT) AS reads, \
               CAST(SUM(CASE WHEN {PARTNER_OK} THEN COALESCE(e.rows_read, 0) ELSE 0 END) AS BIGINT) AS rows_read, \
               CAST(SUM(CASE WHEN {PARTNER_OK} THEN COALESCE(e.bytes, 0) ELSE 0 END) AS BIGINT) AS bytes, \
               CAST(SUM(CASE WHEN {REFUSED_SIGN_IN} THEN 1 ELSE 0 END) AS BIGINT) AS refused \
             FROM audit_events e WHERE {IN_TEAM} AND {IN_SCOPE} GROUP BY e.at / {DAY_MS} ORDER BY day"
        );
        let rows = self.bind_scope(&sql, scope).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(DayUsage {
                    day: r.try_get("day")?,
                    reads: r.try_get("reads")?,
                    rows: r.try_get("rows_read")?,
                    bytes: r.try_get("bytes")?,
                    refused_sign_ins: r.try_get("refused")?,
                })
            })
            .collect()
    }

    /// The `limit` tables read most often in the scope.
    pub async fn top_tables(&self, scope: &UsageScope, limit: i64) -> Result<Vec<TableUsage>> {
        let sql = format!(
            "SELECT e.object AS object, COUNT(*) AS reads, CAST(SUM(COALESCE(e.rows_read, 0)) AS BIGINT) AS rows_read, \
               CAST(SUM(COALESCE(e.bytes, 0)) AS BIGINT) AS bytes, COUNT(DISTINCT LOWER(e.recipient)) AS recipients \
             FROM audit_events e WHERE {IN_TEAM} AND {IN_SCOPE} AND {PARTNER_OK} AND e.action IN {READ_ACTIONS} AND e.object LIKE '%.%.%' \
             GROUP BY e.object ORDER BY reads DESC, object LIMIT $5"
        );
        let rows = self.bind_scope(&sql, scope).bind(limit).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(TableUsage {
                    table: r.try_get("object")?,
                    reads: r.try_get("reads")?,
                    rows: r.try_get("rows_read")?,
                    bytes: r.try_get("bytes")?,
                    recipients: r.try_get("recipients")?,
                })
            })
            .collect()
    }

    fn bind_scope<'q>(&self, sql: &'q str, scope: &UsageScope) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        sqlx::query(sql)
            .bind(scope.team_id.clone().unwrap_or_default())
            .bind(scope.recipient.as_deref().map(str::to_lowercase).unwrap_or_default())
            .bind(scope.from_ms)
            .bind(scope.to_ms)
    }
}
