//! Grants: which recipient may read which share.

use super::{now_ms, Catalog};
use crate::error::Result;

impl Catalog {
    /// Grants the share; granting twice is not an error. Returns whether anything changed.
    pub async fn grant(&self, share: &str, recipient: &str) -> Result<bool> {
        let (share, recipient) = (self.share(share).await?, self.recipient(recipient).await?);
        let done = sqlx::query(
            "INSERT INTO grants (share_id, recipient_id, created_at) SELECT $1, $2, $3 \
             WHERE NOT EXISTS (SELECT 1 FROM grants WHERE share_id = $1 AND recipient_id = $2)",
        )
        .bind(&share.id)
        .bind(&recipient.id)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Revokes the share; returns whether a grant existed.
    pub async fn revoke(&self, share: &str, recipient: &str) -> Result<bool> {
        let (share, recipient) = (self.share(share).await?, self.recipient(recipient).await?);
        let done = sqlx::query("DELETE FROM grants WHERE share_id = $1 AND recipient_id = $2")
            .bind(&share.id)
            .bind(&recipient.id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Names of the recipients a share is granted to, in name order.
    pub async fn grantees_of(&self, share_id: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT r.name FROM grants g JOIN recipients r ON r.id = g.recipient_id WHERE g.share_id = $1 ORDER BY r.name_key",
        )
        .bind(share_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Names of the shares granted to a recipient, in name order.
    pub async fn grants_of(&self, recipient_id: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT s.name FROM grants g JOIN shares s ON s.id = g.share_id WHERE g.recipient_id = $1 ORDER BY s.name_key",
        )
        .bind(recipient_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Tables and grants per share id, for the shares list (one query each).
    pub async fn share_counts(&self) -> Result<std::collections::HashMap<String, (usize, usize)>> {
        let mut out: std::collections::HashMap<String, (usize, usize)> = std::collections::HashMap::new();
        let tables: Vec<(String, i64)> =
            sqlx::query_as("SELECT share_id, CAST(COUNT(*) AS BIGINT) FROM shared_tables GROUP BY share_id").fetch_all(&self.pool).await?;
        for (id, n) in tables {
            out.entry(id).or_default().0 = n as usize;
        }
        let grants: Vec<(String, i64)> =
            sqlx::query_as("SELECT share_id, CAST(COUNT(*) AS BIGINT) FROM grants GROUP BY share_id").fetch_all(&self.pool).await?;
        for (id, n) in grants {
            out.entry(id).or_default().1 = n as usize;
        }
        Ok(out)
    }
}
