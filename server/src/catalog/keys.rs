//! The portal's generated HMAC keys, shared by every replica on this catalog.

use sqlx::Row;

use super::{now_ms, Catalog};
use crate::error::Result;

/// One generated key; `secret` is hex.
#[derive(Clone, Debug)]
pub struct SigningKey {
    pub id: String,
    pub secret: String,
    pub created_at: i64,
    pub active_from: i64,
    pub retired_at: Option<i64>,
}

impl Catalog {
    /// Every key not yet retired at `now`, oldest first.
    pub async fn signing_keys(&self, now: i64) -> Result<Vec<SigningKey>> {
        let rows = sqlx::query(
            "SELECT id, secret, created_at, active_from, retired_at FROM signing_keys WHERE retired_at IS NULL OR retired_at > $1 ORDER BY active_from, id",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SigningKey {
                    id: r.try_get("id")?,
                    secret: r.try_get("secret")?,
                    created_at: r.try_get("created_at")?,
                    active_from: r.try_get("active_from")?,
                    retired_at: r.try_get("retired_at")?,
                })
            })
            .collect()
    }

    /// Stores the first key unless a replica starting at the same time stored one already.
    pub async fn insert_first_signing_key(&self, secret: &str) -> Result<()> {
        sqlx::query("INSERT INTO signing_keys (id, secret, created_at, active_from) VALUES ('k1', $1, $2, 0) ON CONFLICT (id) DO NOTHING")
            .bind(secret)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Adds a key that signs from `active_from`; every older key still in use retires at
    /// `retire_at`. Together, so no replica ever sees a ring without a signing key.
    pub async fn rotate_signing_key(&self, id: &str, secret: &str, active_from: i64, retire_at: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL OR retired_at > $1")
            .bind(retire_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO signing_keys (id, secret, created_at, active_from) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(secret)
            .bind(now_ms())
            .bind(active_from)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
