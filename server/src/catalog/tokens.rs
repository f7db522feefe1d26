//! Bearer tokens, stored only as SHA-256 hashes (the caller hashes; the catalog never sees a token).

use sqlx::any::AnyRow;
use sqlx::Row;

use super::recipients::recipient_from_row;
use super::{now_ms, Catalog, Recipient, TokenRecord};
use crate::error::{PortalError, Result};

/// Recording "last used" at most this often keeps reads from turning into writes.
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

impl Catalog {
    pub async fn insert_token(
        &self,
        recipient_id: &str,
        name: Option<&str>,
        token_hash: &str,
        expires_at: Option<i64>,
    ) -> Result<TokenRecord> {
        let record = TokenRecord::new(recipient_id, name, expires_at);
        self.store_token(&record, token_hash).await?;
        Ok(record)
    }

    /// Stores a record made by the caller (whose times it chose) with its token's hash.
    pub async fn store_token(&self, record: &TokenRecord, token_hash: &str) -> Result<()> {
        insert_token_row(&self.pool, record, token_hash).await
    }

    /// Stores a partner's new token unless the recipient already holds `max_active` active ones
    /// (single sign-on session tokens aside); refused, it returns how many it holds. The count and
    /// the insert run under the recipient's lock: concurrent requests on any replicas cannot
    /// both pass the limit.
    pub async fn store_token_within(
        &self,
        record: &TokenRecord,
        token_hash: &str,
        max_active: i64,
    ) -> Result<std::result::Result<(), i64>> {
        let mut tx = self.pool.begin().await?;
        Self::lock_recipient(&mut tx, &record.recipient_id).await?;
        let active = count_active(&mut tx, &record.recipient_id, None).await?;
        if active >= max_active {
            return Ok(Err(active));
        }
        insert_token_row(&mut *tx, record, token_hash).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// The token's record, its stored hash and its recipient, whatever the token's status.
    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<(TokenRecord, String, Recipient)>> {
        let sql = format!(
            "SELECT {TOKEN_AND_RECIPIENT}, k.token_hash FROM tokens k JOIN recipients r ON r.id = k.recipient_id WHERE k.token_hash = $1"
        );
        let Some(row) = sqlx::query(&sql).bind(token_hash).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let (record, recipient) = token_and_recipient(&row)?;
        Ok(Some((record, row.try_get("token_hash")?, recipient)))
    }

    /// Records that the token was used, at most once a minute: most reads write nothing.
    pub async fn touch_token(&self, record: &TokenRecord) -> Result<()> {
        let now = now_ms();
        if record.last_used_at.is_some_and(|at| at >= now - LAST_USED_GRANULARITY_MS) {
            return Ok(());
        }
        let token_id = &record.id;
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
            "SELECT id, recipient_id, name, created_at, expires_at, last_used_at, revoked_at FROM tokens \
             WHERE recipient_id = $1 ORDER BY created_at, id",
        )
        .bind(&recipient.id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(token_from_row)
        .collect()
    }

    /// Every token of the recipients of one team (or all teams), by recipient id: one query
    /// for the recipients page however many partners there are.
    pub async fn tokens_by_recipient(&self, team_id: Option<&str>) -> Result<std::collections::HashMap<String, Vec<TokenRecord>>> {
        let rows = sqlx::query(
            "SELECT k.id, k.recipient_id, k.name, k.created_at, k.expires_at, k.last_used_at, k.revoked_at FROM tokens k \
             JOIN recipients r ON r.id = k.recipient_id WHERE ($1 = '' OR r.team_id = $1) ORDER BY k.created_at, k.id",
        )
        .bind(team_id.unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        let mut out: std::collections::HashMap<String, Vec<TokenRecord>> = std::collections::HashMap::new();
        for row in &rows {
            let token = token_from_row(row)?;
            out.entry(token.recipient_id.clone()).or_default().push(token);
        }
        Ok(out)
    }

    /// One token of a recipient, or `NotFound` (also for another recipient's token).
    pub async fn token_of(&self, recipient_id: &str, token_id: &str) -> Result<TokenRecord> {
        sqlx::query("SELECT id, recipient_id, name, created_at, expires_at, last_used_at, revoked_at FROM tokens WHERE id = $1 AND recipient_id = $2")
            .bind(token_id)
            .bind(recipient_id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(token_from_row)
            .transpose()?
            .ok_or_else(|| PortalError::NotFound(format!("there is no token {token_id}")))
    }

    /// The recipient's own limits, where an admin set them (`None` = the portal's defaults).
    pub async fn token_policy(&self, recipient_id: &str) -> Result<(Option<i64>, Option<i64>)> {
        let row = sqlx::query("SELECT max_token_days, max_active_tokens FROM recipients WHERE id = $1")
            .bind(recipient_id)
            .fetch_one(&self.pool)
            .await?;
        Ok((row.try_get("max_token_days")?, row.try_get("max_active_tokens")?))
    }

    /// Sets the recipient's limits; a `None` leaves that limit as it was.
    pub async fn set_token_policy(
        &self,
        recipient: &str,
        max_days: Option<i64>,
        max_active: Option<i64>,
    ) -> Result<(Option<i64>, Option<i64>)> {
        let recipient = self.recipient(recipient).await?;
        sqlx::query("UPDATE recipients SET max_token_days = COALESCE($1, max_token_days), max_active_tokens = COALESCE($2, max_active_tokens) WHERE id = $3")
            .bind(max_days)
            .bind(max_active)
            .bind(&recipient.id)
            .execute(&self.pool)
            .await?;
        self.token_policy(&recipient.id).await
    }

    /// Stores `new`, brings the old token's expiry forward to `old_expires_at`, and moves the
    /// old token's browser sessions onto the new one, together: a rotation never leaves the
    /// partner without a working token or signed out. Refused when the old token is not active
    /// or already ends by then (it was rotated before), or when the recipient already holds
    /// `max_active` active tokens besides it (so only the overlapping old token may exceed it).
    pub async fn rotate_token(&self, old_id: &str, old_expires_at: i64, new: &TokenRecord, new_hash: &str, max_active: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        Self::lock_recipient(&mut tx, &new.recipient_id).await?;
        let now = now_ms();
        let moved = sqlx::query(
            "UPDATE tokens SET expires_at = $1 WHERE id = $2 AND recipient_id = $3 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $1) AND (expires_at IS NULL OR expires_at > $4)",
        )
        .bind(old_expires_at)
        .bind(old_id)
        .bind(&new.recipient_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() != 1 {
            return Err(PortalError::Conflict(format!("token {old_id} is no longer active or was rotated already")));
        }
        let others = count_active(&mut tx, &new.recipient_id, Some(old_id)).await?;
        if others >= max_active {
            return Err(PortalError::field(
                "limit",
                format!("you can have at most {max_active} active tokens; revoke one you no longer use first"),
            ));
        }
        insert_token_row(&mut *tx, new, new_hash).await?;
        sqlx::query("UPDATE sessions SET token_id = $1 WHERE token_id = $2").bind(&new.id).bind(old_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// An admin's rotation: every active token of the recipient now ends at `at` at the latest
    /// (the new token comes through a new activation link). Returns how many tokens changed.
    pub async fn expire_active_tokens(&self, recipient_id: &str, at: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE tokens SET expires_at = $1 WHERE recipient_id = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)",
        )
        .bind(at)
        .bind(recipient_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
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

/// The recipient's active tokens that count against its limit (single sign-on sessions aside),
/// leaving out `except`.
async fn count_active(tx: &mut sqlx::Transaction<'_, sqlx::Any>, recipient_id: &str, except: Option<&str>) -> Result<i64> {
    let prefix = super::SSO_TOKEN_PREFIX;
    // The length is a constant of ours, written into the SQL because Postgres' `substr` takes an INTEGER.
    let sql = format!(
        "SELECT COUNT(*) FROM tokens WHERE recipient_id = $1 AND id <> $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3) \
         AND NOT (name IS NOT NULL AND substr(name, 1, {}) = $4)",
        prefix.chars().count()
    );
    Ok(sqlx::query_scalar(&sql)
        .bind(recipient_id)
        .bind(except.unwrap_or_default())
        .bind(now_ms())
        .bind(prefix)
        .fetch_one(&mut **tx)
        .await?)
}

/// Stores a token record and its hash, on the pool or inside a caller's transaction.
pub(super) async fn insert_token_row<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    executor: E,
    record: &TokenRecord,
    token_hash: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO tokens (id, recipient_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&record.id)
        .bind(&record.recipient_id)
        .bind(&record.name)
        .bind(token_hash)
        .bind(record.created_at)
        .bind(record.expires_at)
        .execute(executor)
        .await?;
    Ok(())
}

/// Columns for [`token_and_recipient`], from `tokens k JOIN recipients r`.
pub(super) const TOKEN_AND_RECIPIENT: &str = concat!(
    super::recipients::recipient_columns!(),
    ", k.id AS token_id, k.name AS token_name, k.created_at AS token_created_at, k.expires_at, k.last_used_at, k.revoked_at"
);

pub(super) fn token_and_recipient(row: &AnyRow) -> Result<(TokenRecord, Recipient)> {
    let recipient = recipient_from_row(row)?;
    let record = TokenRecord {
        id: row.try_get("token_id")?,
        recipient_id: recipient.id.clone(),
        name: row.try_get("token_name")?,
        created_at: row.try_get("token_created_at")?,
        expires_at: row.try_get("expires_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    };
    Ok((record, recipient))
}

impl Catalog {
    /// Tokens that still work and end between `from` and `to` (reminders of their expiry).
    pub async fn tokens_ending_between(&self, from: i64, to: i64) -> Result<Vec<TokenRecord>> {
        let rows = sqlx::query(
            "SELECT id, recipient_id, name, created_at, expires_at, last_used_at, revoked_at FROM tokens \
             WHERE revoked_at IS NULL AND expires_at > $1 AND expires_at <= $2 ORDER BY expires_at",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Activation links not opened yet that end between `from` and `to`: (id, recipient id, end).
    pub async fn links_ending_between(&self, from: i64, to: i64) -> Result<Vec<(String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT id, recipient_id, expires_at FROM activation_links WHERE used_at IS NULL AND expires_at > $1 AND expires_at <= $2 ORDER BY expires_at",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("recipient_id")?, r.try_get("expires_at")?))).collect()
    }
}

fn token_from_row(r: &AnyRow) -> Result<TokenRecord> {
    Ok(TokenRecord {
        id: r.try_get("id")?,
        recipient_id: r.try_get("recipient_id")?,
        name: r.try_get("name")?,
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
