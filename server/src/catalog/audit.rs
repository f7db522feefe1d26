//! The append-only audit log.

use sqlx::Row;

use super::{new_id, AuditEvent, Catalog};
use crate::error::Result;

impl Catalog {
    pub async fn record(&self, e: &AuditEvent) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_events (id, at, actor, action, object, status, files, bytes, detail, user_agent, client_ip) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(new_id())
        .bind(e.at)
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.object)
        .bind(e.status)
        .bind(e.files)
        .bind(e.bytes)
        .bind(&e.detail)
        .bind(&e.user_agent)
        .bind(&e.client_ip)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest events first.
    pub async fn recent_events(&self, limit: i64) -> Result<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT at, actor, action, object, status, files, bytes, detail, user_agent, client_ip FROM audit_events \
             ORDER BY at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
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
                    detail: r.try_get("detail")?,
                    user_agent: r.try_get("user_agent")?,
                    client_ip: r.try_get("client_ip")?,
                })
            })
            .collect()
    }
}
