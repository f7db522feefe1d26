//! Bearer tokens, stored only as SHA-256 hashes (the caller hashes; the catalog never sees a token).

use sqlx::any::AnyRow;
use sqlx::Row;

use super::recipients::recipient_from_row;
use super::{now_ms, Catalog, Recipient, TokenRecord};
use crate::error::{PortalError, Result};

/// Recording "last used" at most this often keeps reads from turning into writes.
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

impl Catalog {
    pub async fn insert_token(&self, recipient_id: &str, token_hash: &str, expires_at: Option<i64>) -> Result<TokenRecord> {
        let record = TokenRecord {
            id: short_id(),
            recipient_id: recipient_id.into(),
            created_at: now_ms(),
            expires_at,
            last_used_at: None,
            revoked_at: None,
        };
        sqlx::query("INSERT INTO tokens (id, recipient_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&record.id)
            .bind(recipient_id)
            .bind(token_hash)
            .bind(record.created_at)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(record)
    }

    /// The token's record, its stored hash and its recipient, whatever the token's status.
    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<(TokenRecord, String, Recipient)>> {
        let sql = format!("SELECT {TOKEN_AND_RECIPIENT}, k.token_hash FROM tokens k JOIN recipients r ON r.id = k.recipient_id WHERE k.token_hash = $1");
        let Some(row) = sqlx::query(&sql).bind(token_hash).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let (record, recipient) = token_and_recipient(&row)?;
        Ok(Some((record, row.try_get("token_hash")?, recipient)))
    }

    pub async fn touch_token(&self, token_id: &str) -> Result<()> {
        let now = now_ms();
        sqlx::query("UPDATE tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
            .bind(now)
            .bind(token_id)
            .bind(now - LAST_USED_GRANULARITY_MS)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn tokens_of(&self, recipient: &str) -> Result<Vec<TokenRecord>> {
        let recipient = self.recipient(recipient).await?;
        sqlx::query(
            "SELECT id, recipient_id, created_at, expires_at, last_used_at, revoked_at FROM tokens \
             WHERE recipient_id = $1 ORDER BY created_at, id",
        )
        .bind(&recipient.id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(token_from_row)
        .collect()
    }

    pub async fn revoke_token(&self, recipient: &str, token_id: &str) -> Result<()> {
        let recipient = self.recipient(recipient).await?;
        let done = sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND recipient_id = $3 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(token_id)
            .bind(&recipient.id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            let known = self.tokens_of(&recipient.name).await?.into_iter().any(|t| t.id == token_id);
            return Err(if known {
                PortalError::Conflict(format!("token {token_id} is already revoked"))
            } else {
                PortalError::NotFound(format!("recipient `{}` has no token {token_id}", recipient.name))
            });
        }
        Ok(())
    }
}

/// Columns for [`token_and_recipient`], from `tokens k JOIN recipients r`.
pub(super) const TOKEN_AND_RECIPIENT: &str = "r.id, r.name, r.comment, r.properties, r.created_at, k.id AS token_id, \
     k.created_at AS token_created_at, k.expires_at, k.last_used_at, k.revoked_at";

pub(super) fn token_and_recipient(row: &AnyRow) -> Result<(TokenRecord, Recipient)> {
    let recipient = recipient_from_row(row)?;
    let record = TokenRecord {
        id: row.try_get("token_id")?,
        recipient_id: recipient.id.clone(),
        created_at: row.try_get("token_created_at")?,
        expires_at: row.try_get("expires_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    };
    Ok((record, recipient))
}

fn token_from_row(r: &AnyRow) -> Result<TokenRecord> {
    Ok(TokenRecord {
        id: r.try_get("id")?,
        recipient_id: r.try_get("recipient_id")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

/// Token ids are printed and typed by admins: 16 hex characters are plenty and easy to copy.
pub(super) fn short_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_string()
}
