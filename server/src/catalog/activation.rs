//! One-time activation links, stored as hashes of their codes.

use std::collections::HashMap;

use sqlx::Row;

use super::recipients::{recipient_from_row, RECIPIENT_COLUMNS};
use super::{new_id, now_ms, ActivationLink, Catalog, LinkRecord, Recipient, TokenRecord};
use crate::error::{PortalError, Result};

/// The name of the token an activation link hands out.
pub const ACTIVATION_TOKEN_NAME: &str = "Activation link";

impl Catalog {
    pub async fn insert_activation_link(&self, recipient: &str, code_hash: &str, expires_at: i64) -> Result<Recipient> {
        let recipient = self.recipient(recipient).await?;
        sqlx::query("INSERT INTO activation_links (id, recipient_id, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(new_id())
            .bind(&recipient.id)
            .bind(code_hash)
            .bind(now_ms())
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(recipient)
    }

    pub async fn activation_link(&self, code_hash: &str) -> Result<Option<(ActivationLink, String)>> {
        let sql = format!(
            "SELECT {RECIPIENT_COLUMNS}, a.id AS link_id, a.code_hash, a.expires_at, a.used_at \
             FROM activation_links a JOIN recipients r ON r.id = a.recipient_id WHERE a.code_hash = $1"
        );
        let Some(row) = sqlx::query(&sql).bind(code_hash).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let link = ActivationLink {
            id: row.try_get("link_id")?,
            recipient: recipient_from_row(&row)?,
            expires_at: row.try_get("expires_at")?,
            used_at: row.try_get("used_at")?,
        };
        Ok(Some((link, row.try_get("code_hash")?)))
    }

    /// The recipient's links, newest first.
    pub async fn links_of(&self, recipient_id: &str) -> Result<Vec<LinkRecord>> {
        Ok(self.links_where("a.recipient_id = $1", recipient_id).await?.into_values().next().unwrap_or_default())
    }

    /// The links of the recipients of one team (or all teams), by recipient id, newest first.
    pub async fn links_by_recipient(&self, team_id: Option<&str>) -> Result<HashMap<String, Vec<LinkRecord>>> {
        self.links_where("($1 = '' OR r.team_id = $1)", team_id.unwrap_or_default()).await
    }

    async fn links_where(&self, condition: &str, value: &str) -> Result<HashMap<String, Vec<LinkRecord>>> {
        let sql = format!(
            "SELECT a.id, a.recipient_id, a.created_at, a.expires_at, a.used_at FROM activation_links a \
             JOIN recipients r ON r.id = a.recipient_id WHERE {condition} ORDER BY a.created_at DESC, a.id"
        );
        let rows = sqlx::query(&sql).bind(value).fetch_all(&self.pool).await?;
        let mut out: HashMap<String, Vec<LinkRecord>> = HashMap::new();
        for r in &rows {
            let link = LinkRecord {
                id: r.try_get("id")?,
                created_at: r.try_get("created_at")?,
                expires_at: r.try_get("expires_at")?,
                used_at: r.try_get("used_at")?,
            };
            out.entry(r.try_get("recipient_id")?).or_default().push(link);
        }
        Ok(out)
    }

    /// Spends the link and stores the new token in one transaction: either both happen or neither.
    /// A second redeem, or a redeem after expiry, fails with `Gone` and changes nothing.
    pub async fn redeem_activation_link(&self, link_id: &str, token_hash: &str, token_expires_at: Option<i64>) -> Result<TokenRecord> {
        let mut tx = self.pool.begin().await?;
        let now = now_ms();
        let spent = sqlx::query("UPDATE activation_links SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1")
            .bind(now)
            .bind(link_id)
            .execute(&mut *tx)
            .await?;
        if spent.rows_affected() != 1 {
            return Err(PortalError::Gone("this activation link was already used or has expired".into()));
        }
        let recipient_id: String =
            sqlx::query_scalar("SELECT recipient_id FROM activation_links WHERE id = $1").bind(link_id).fetch_one(&mut *tx).await?;
        let record = TokenRecord::new(&recipient_id, Some(ACTIVATION_TOKEN_NAME), token_expires_at);
        super::tokens::insert_token_row(&mut *tx, &record, token_hash).await?;
        tx.commit().await?;
        Ok(record)
    }
}
