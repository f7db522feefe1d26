//! Values waiting to be shown or used once, sealed by the caller (see `auth::reveals`).

use sqlx::Row;

use super::Catalog;
use crate::error::Result;

impl Catalog {
    /// Stores a sealed value; expired ones of any kind go at the same time.
    pub async fn put_reveal(&self, id_hash: &str, kind: &str, owner: &str, sealed: &str, expires_at: i64, now: i64) -> Result<()> {
        sqlx::query("DELETE FROM reveals WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
        sqlx::query("INSERT INTO reveals (id_hash, kind, owner, sealed, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id_hash)
            .bind(kind)
            .bind(owner)
            .bind(sealed)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The sealed value, removed in the same statement: of two replicas asking at once, one gets it.
    pub async fn take_reveal(&self, id_hash: &str, kind: &str, owner: &str, now: i64) -> Result<Option<String>> {
        let row = sqlx::query("DELETE FROM reveals WHERE id_hash = $1 AND kind = $2 AND owner = $3 AND expires_at > $4 RETURNING sealed")
            .bind(id_hash)
            .bind(kind)
            .bind(owner)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("sealed")).transpose()?)
    }
}
