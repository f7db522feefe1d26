//! OAuth clients of recipients (the client credentials grant) and the access tokens they were
//! given. Secrets and access tokens are stored only as SHA-256 hashes.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::recipients::{recipient_columns, recipient_from_row};
use super::{now_ms, Catalog, Recipient, TokenStatus};
use crate::error::{PortalError, Result};

/// A recipient's OAuth client, as listed (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OAuthClient {
    pub id: String,
    pub recipient_id: String,
    /// The pipeline it is for ("nightly orders load").
    pub name: String,
    /// The public half of the credentials, sent with every token request.
    pub client_id: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// Until when the secret before the last rotation still works.
    pub previous_until: Option<i64>,
}

impl OAuthClient {
    pub fn status(&self, now: i64) -> TokenStatus {
        TokenStatus::of(self.revoked_at, self.expires_at, now)
    }
}

/// A client as the token endpoint sees it: with its secrets' hashes and its recipient.
pub struct ClientSecrets {
    pub client: OAuthClient,
    pub secret_hash: String,
    /// The previous secret's hash, while its overlap lasts.
    pub previous_hash: Option<String>,
    pub recipient: Recipient,
}

/// Aliased, so that they can be read beside a recipient's columns.
const CLIENT_COLUMNS: &str = "c.id AS c_id, c.recipient_id AS c_recipient_id, c.name AS c_name, c.client_id AS c_client_id, \
     c.created_at AS c_created_at, c.expires_at AS c_expires_at, c.last_used_at AS c_last_used_at, c.revoked_at AS c_revoked_at, \
     c.previous_until AS c_previous_until";

impl Catalog {
    /// Stores a new client unless the recipient already holds `max_active` active ones; refused,
    /// it returns how many it holds. Counted and inserted under the recipient's lock.
    pub async fn store_client_within(
        &self,
        client: &OAuthClient,
        secret_hash: &str,
        max_active: i64,
    ) -> Result<std::result::Result<(), i64>> {
        let mut tx = self.pool.begin().await?;
        Self::lock_recipient(&mut tx, &client.recipient_id).await?;
        let active: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM oauth_clients WHERE recipient_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(&client.recipient_id)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        if active >= max_active {
            return Ok(Err(active));
        }
        sqlx::query(
            "INSERT INTO oauth_clients (id, recipient_id, name, client_id, secret_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&client.id)
        .bind(&client.recipient_id)
        .bind(&client.name)
        .bind(&client.client_id)
        .bind(secret_hash)
        .bind(client.created_at)
        .bind(client.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// The recipient's clients, oldest first.
    pub async fn clients_of(&self, recipient_id: &str) -> Result<Vec<OAuthClient>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM oauth_clients c WHERE c.recipient_id = $1 ORDER BY c.created_at, c.id");
        sqlx::query(&sql).bind(recipient_id).fetch_all(&self.pool).await?.iter().map(client_from_row).collect()
    }

    /// One client of a recipient, or `NotFound` (also for another recipient's client).
    pub async fn client_of(&self, recipient_id: &str, id: &str) -> Result<OAuthClient> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM oauth_clients c WHERE c.recipient_id = $1 AND (c.id = $2 OR c.client_id = $2)");
        sqlx::query(&sql)
            .bind(recipient_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(client_from_row)
            .transpose()?
            .ok_or_else(|| PortalError::NotFound(format!("there is no OAuth client {id}")))
    }

    /// The client with this public id, its secrets' hashes and its recipient.
    pub async fn client_secrets(&self, client_id: &str) -> Result<Option<ClientSecrets>> {
        let sql = format!(
            "SELECT {CLIENT_COLUMNS}, c.secret_hash, c.previous_secret_hash, {} FROM oauth_clients c \
             JOIN recipients r ON r.id = c.recipient_id WHERE c.client_id = $1",
            recipient_columns!()
        );
        let Some(row) = sqlx::query(&sql).bind(client_id).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let client = client_from_row(&row)?;
        let previous_hash =
            row.try_get::<Option<String>, _>("previous_secret_hash")?.filter(|_| client.previous_until.is_some_and(|u| u > now_ms()));
        Ok(Some(ClientSecrets { secret_hash: row.try_get("secret_hash")?, previous_hash, recipient: recipient_from_row(&row)?, client }))
    }

    /// A new secret for an active client; the old one keeps working until `previous_until`
    /// (now or earlier: it stops at once). The client's lifetime starts again at `expires_at`.
    pub async fn rotate_client_secret(
        &self,
        client: &OAuthClient,
        secret_hash: &str,
        previous_until: i64,
        expires_at: Option<i64>,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE oauth_clients SET previous_secret_hash = secret_hash, previous_until = $1, secret_hash = $2, expires_at = $3 \
             WHERE id = $4 AND recipient_id = $5 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $6)",
        )
        .bind(previous_until)
        .bind(secret_hash)
        .bind(expires_at)
        .bind(&client.id)
        .bind(&client.recipient_id)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() != 1 {
            return Err(PortalError::Conflict(format!("OAuth client {} is no longer active", client.client_id)));
        }
        Ok(())
    }

    /// Revokes a client: its secrets and every access token it was given stop at once.
    pub async fn revoke_client(&self, client: &OAuthClient) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE oauth_clients SET revoked_at = $1 WHERE id = $2 AND recipient_id = $3 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(&client.id)
            .bind(&client.recipient_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(PortalError::Conflict(format!("OAuth client {} is already revoked", client.client_id)));
        }
        sqlx::query("DELETE FROM oauth_tokens WHERE client_id = $1").bind(&client.id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores an access token given to `client` and forgets the client's expired ones, unless
    /// the client already holds `max_live` live ones (then `false`). The client's row is written
    /// first, as a revocation does, so the two never wait on each other in opposite orders.
    pub async fn insert_oauth_token(&self, client: &OAuthClient, token_hash: &str, expires_at: i64, max_live: i64) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE oauth_clients SET last_used_at = $1 WHERE id = $2").bind(now).bind(&client.id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM oauth_tokens WHERE client_id = $1 AND expires_at <= $2")
            .bind(&client.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let live: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM oauth_tokens WHERE client_id = $1").bind(&client.id).fetch_one(&mut *tx).await?;
        if live >= max_live {
            return Ok(false);
        }
        sqlx::query("INSERT INTO oauth_tokens (id, client_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(super::tokens::short_id())
            .bind(&client.id)
            .bind(token_hash)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// An access token's stored hash, expiry, client and recipient, whatever their status.
    pub async fn oauth_token_by_hash(&self, token_hash: &str) -> Result<Option<(String, i64, OAuthClient, Recipient)>> {
        let sql = format!(
            "SELECT {CLIENT_COLUMNS}, t.token_hash, t.expires_at AS token_expires_at, {} FROM oauth_tokens t \
             JOIN oauth_clients c ON c.id = t.client_id JOIN recipients r ON r.id = c.recipient_id WHERE t.token_hash = $1",
            recipient_columns!()
        );
        let Some(row) = sqlx::query(&sql).bind(token_hash).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        Ok(Some((row.try_get("token_hash")?, row.try_get("token_expires_at")?, client_from_row(&row)?, recipient_from_row(&row)?)))
    }
}

fn client_from_row(r: &AnyRow) -> Result<OAuthClient> {
    Ok(OAuthClient {
        id: r.try_get("c_id")?,
        recipient_id: r.try_get("c_recipient_id")?,
        name: r.try_get("c_name")?,
        client_id: r.try_get("c_client_id")?,
        created_at: r.try_get("c_created_at")?,
        expires_at: r.try_get("c_expires_at")?,
        last_used_at: r.try_get("c_last_used_at")?,
        revoked_at: r.try_get("c_revoked_at")?,
        previous_until: r.try_get("c_previous_until")?,
    })
}
