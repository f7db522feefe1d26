//! The append-only audit log and its filters.

use sqlx::Row;

use super::{new_id, AuditEvent, Catalog};
use crate::error::Result;

const PARTNER_ACTOR: &str = "recipient:";

/// Events about one team's recipients and shares: `$1` is the team id, `''` all teams.
pub(super) const IN_TEAM: &str =
    "($1 = '' OR e.team_id = $1 OR LOWER(e.recipient) IN (SELECT name_key FROM recipients WHERE team_id = $1) \
     OR LOWER(e.share) IN (SELECT name_key FROM shares WHERE team_id = $1))";

/// What the audit page asks for; `None` = no condition. Names compare case-insensitively.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only events about this team's recipients and shares (team admins).
    pub team_id: Option<String>,
    pub recipient: Option<String>,
    pub share: Option<String>,
    /// An exact action, or a prefix ending in `.` (`admin.`).
    pub action: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub limit: i64,
}

/// What a request handler did, for the audit line its envelope writes: the protocol's handlers
/// leave it in the response, the portal's fill the request's slot (`web::envelope`).
#[derive(Clone, Debug, Default)]
pub struct AuditNote {
    pub action: &'static str,
    pub object: Option<String>,
    pub files: Option<i64>,
    pub bytes: Option<i64>,
    pub rows: Option<i64>,
    pub detail: Option<String>,
}

impl AuditNote {
    pub fn new(action: &'static str, object: impl Into<String>) -> Self {
        Self { action, object: Some(object.into()), ..Self::default() }
    }
}

impl Catalog {
    /// Writes an audit line. What it records already happened: a lost line is logged loudly
    /// (the one place that does) but does not undo the request.
    pub async fn audit(&self, e: &AuditEvent) {
        if let Err(error) = self.record(e).await {
            tracing::error!(%error, action = %e.action, "could not write audit event");
        }
    }

    pub async fn record(&self, e: &AuditEvent) -> Result<()> {
        let recipient = e.recipient.clone().or_else(|| e.actor.strip_prefix(PARTNER_ACTOR).map(String::from));
        let share =
            e.share.clone().or_else(|| e.object.as_deref().filter(|_| e.actor.starts_with(PARTNER_ACTOR)).and_then(share_of_object));
        sqlx::query(
            "INSERT INTO audit_events (id, at, actor, action, object, status, files, bytes, rows_read, detail, user_agent, client_ip, recipient, share, team_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(new_id())
        .bind(e.at)
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.object)
        .bind(e.status)
        .bind(e.files)
        .bind(e.bytes)
        .bind(e.rows)
        .bind(&e.detail)
        .bind(&e.user_agent)
        .bind(&e.client_ip)
        .bind(recipient)
        .bind(share)
        .bind(&e.team_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest events first.
    /// Removes the events older than `cutoff` (the retention sweep); returns how many went.
    pub async fn delete_events_before(&self, cutoff: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM audit_events WHERE at < $1").bind(cutoff).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    pub async fn recent_events(&self, limit: i64) -> Result<Vec<AuditEvent>> {
        self.events(&AuditFilter { limit, ..Default::default() }).await
    }

    /// Events matching the filter, newest first.
    pub async fn events(&self, f: &AuditFilter) -> Result<Vec<AuditEvent>> {
        let sql = format!(
            "SELECT at, actor, action, object, status, files, bytes, rows_read, detail, user_agent, client_ip, recipient, share, team_id \
             FROM audit_events e WHERE {IN_TEAM} AND ($2 = '' OR LOWER(e.recipient) = $2) AND ($3 = '' OR LOWER(e.share) = $3) \
             AND ($4 = '' OR e.action = $4 OR (SUBSTR($4, LENGTH($4), 1) = '.' AND SUBSTR(e.action, 1, LENGTH($4)) = $4)) \
             AND e.at >= $5 AND e.at <= $6 ORDER BY e.at DESC, e.id DESC LIMIT $7"
        );
        let rows = sqlx::query(&sql)
            .bind(f.team_id.clone().unwrap_or_default())
            .bind(f.recipient.as_deref().map(str::to_lowercase).unwrap_or_default())
            .bind(f.share.as_deref().map(str::to_lowercase).unwrap_or_default())
            .bind(f.action.clone().unwrap_or_default())
            .bind(f.from_ms.unwrap_or(i64::MIN))
            .bind(f.to_ms.unwrap_or(i64::MAX))
            .bind(f.limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEvent {
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    object: r.try_get("object")?,
                    status: r.try_get("status")?,
                    files: r.try_get("files")?,
                    bytes: r.try_get("bytes")?,
                    rows: r.try_get("rows_read")?,
                    detail: r.try_get("detail")?,
                    user_agent: r.try_get("user_agent")?,
                    client_ip: r.try_get("client_ip")?,
                    recipient: r.try_get("recipient")?,
                    share: r.try_get("share")?,
                    team_id: r.try_get("team_id")?,
                })
            })
            .collect()
    }
}

/// The share of a partner read's object (`share.schema.table`, `share.schema` or `share`).
fn share_of_object(object: &str) -> Option<String> {
    let parts: Vec<&str> = object.rsplitn(3, '.').collect();
    let share = match parts.as_slice() {
        [_, _, share] => share,
        [_, share] => share,
        [share] => share,
        _ => return None,
    };
    Some(share.to_string()).filter(|s| !s.is_empty() && !s.contains(' '))
}
