//! Partners' webhooks, and the key their signing secrets derive from.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{new_id, now_ms, Catalog};
use crate::error::{PortalError, Result};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Webhook {
    pub id: String,
    pub recipient_id: String,
    pub name: String,
    pub url: String,
    pub created_at: i64,
}

/// Webhooks one recipient may have.
pub const MAX_WEBHOOKS: i64 = 10;

impl Catalog {
    pub async fn add_webhook(&self, recipient_id: &str, name: &str, url: &str) -> Result<Webhook> {
        let id = format!("wh_{}", &new_id().replace('-', "")[..16]);
        let mut tx = self.pool.begin().await?;
        Self::lock_recipient(&mut tx, recipient_id).await?;
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE recipient_id = $1").bind(recipient_id).fetch_one(&mut *tx).await?;
        if count >= MAX_WEBHOOKS {
            return Err(PortalError::field("url", format!("you have {count} webhooks, the most you can have; remove one first")));
        }
        sqlx::query("INSERT INTO webhooks (id, recipient_id, name, url, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&id)
            .bind(recipient_id)
            .bind(name)
            .bind(url)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.webhook(recipient_id, &id).await?.ok_or_else(|| PortalError::Internal("a webhook just added is missing".into()))
    }

    pub async fn webhooks_of(&self, recipient_id: &str) -> Result<Vec<Webhook>> {
        let rows =
            sqlx::query("SELECT id, recipient_id, name, url, created_at FROM webhooks WHERE recipient_id = $1 ORDER BY created_at, id")
                .bind(recipient_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(webhook_from_row).collect()
    }

    /// The recipient's webhook (another recipient's is none).
    pub async fn webhook(&self, recipient_id: &str, id: &str) -> Result<Option<Webhook>> {
        let row = sqlx::query("SELECT id, recipient_id, name, url, created_at FROM webhooks WHERE id = $1 AND recipient_id = $2")
            .bind(id)
            .bind(recipient_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(webhook_from_row).transpose()
    }

    pub async fn remove_webhook(&self, recipient_id: &str, id: &str) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM webhooks WHERE id = $1 AND recipient_id = $2").bind(id).bind(recipient_id).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    /// The portal's secret `name`, made from `fresh` by the first replica that asks.
    pub async fn portal_secret(&self, name: &str, fresh: &str) -> Result<String> {
        sqlx::query("INSERT INTO portal_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(fresh)
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_scalar("SELECT value FROM portal_secrets WHERE name = $1").bind(name).fetch_one(&self.pool).await?)
    }
}

fn webhook_from_row(r: &AnyRow) -> Result<Webhook> {
    Ok(Webhook {
        id: r.try_get("id")?,
        recipient_id: r.try_get("recipient_id")?,
        name: r.try_get("name")?,
        url: r.try_get("url")?,
        created_at: r.try_get("created_at")?,
    })
}
