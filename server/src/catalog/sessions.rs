//! Browser sessions, stored by the hash of their cookie value and tied to a token.

use sqlx::Row;

use super::tokens::{token_and_recipient, TOKEN_AND_RECIPIENT};
use super::{new_id, now_ms, Catalog, Recipient, TokenRecord};
use crate::error::Result;

/// A stored session with the token it stands on and that token's recipient.
pub struct SessionRecord {
    pub secret_hash: String,
    pub expires_at: i64,
    pub token: TokenRecord,
    pub recipient: Recipient,
}

impl Catalog {
    /// Unexpired browser sessions, partners' and admins' (the metrics).
    pub async fn active_sessions(&self, now: i64) -> Result<i64> {
        let partners: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE expires_at > $1").bind(now).fetch_one(&self.pool).await?;
        let admins: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM admin_sessions WHERE expires_at > $1").bind(now).fetch_one(&self.pool).await?;
        Ok(partners + admins)
    }

    pub async fn insert_session(&self, secret_hash: &str, token_id: &str, expires_at: i64) -> Result<()> {
        let now = now_ms();
        // Expired sessions are dead weight; sweeping them here keeps the table small.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now).execute(&self.pool).await?;
        sqlx::query("INSERT INTO sessions (id, secret_hash, token_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(new_id())
            .bind(secret_hash)
            .bind(token_id)
            .bind(now)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn session_by_hash(&self, secret_hash: &str) -> Result<Option<SessionRecord>> {
        let sql = format!(
            "SELECT {TOKEN_AND_RECIPIENT}, s.secret_hash, s.expires_at AS session_expires_at FROM sessions s \
             JOIN tokens k ON k.id = s.token_id JOIN recipients r ON r.id = k.recipient_id WHERE s.secret_hash = $1"
        );
        let Some(row) = sqlx::query(&sql).bind(secret_hash).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let (token, recipient) = token_and_recipient(&row)?;
        Ok(Some(SessionRecord {
            secret_hash: row.try_get("secret_hash")?,
            expires_at: row.try_get("session_expires_at")?,
            token,
            recipient,
        }))
    }

    pub async fn delete_session(&self, secret_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE secret_hash = $1").bind(secret_hash).execute(&self.pool).await?;
        Ok(())
    }
}
