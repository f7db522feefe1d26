//! Admin identities: browser sessions, one-time sign-in links and API tokens, all stored as
//! hashes. `team_id` NULL means platform scope.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{new_id, now_ms, AdminToken, Catalog};
use crate::error::{PortalError, Result};

/// A stored admin session or sign-in link, as found by its secret's hash.
pub struct AdminGrant {
    pub id: String,
    pub secret_hash: String,
    pub actor: String,
    pub team_id: Option<String>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl Catalog {
    pub async fn insert_admin_session(&self, secret_hash: &str, actor: &str, team_id: Option<&str>, expires_at: i64) -> Result<()> {
        let now = now_ms();
        sqlx::query("DELETE FROM admin_sessions WHERE expires_at < $1").bind(now).execute(&self.pool).await?;
        sqlx::query("INSERT INTO admin_sessions (id, secret_hash, actor, team_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(new_id())
            .bind(secret_hash)
            .bind(actor)
            .bind(team_id)
            .bind(now)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn admin_session(&self, secret_hash: &str) -> Result<Option<AdminGrant>> {
        let row = sqlx::query("SELECT id, secret_hash, actor, team_id, expires_at FROM admin_sessions WHERE secret_hash = $1")
            .bind(secret_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(AdminGrant {
                id: r.try_get("id")?,
                secret_hash: r.try_get("secret_hash")?,
                actor: r.try_get("actor")?,
                team_id: r.try_get("team_id")?,
                expires_at: r.try_get("expires_at")?,
                used_at: None,
            })
        })
        .transpose()
    }

    pub async fn delete_admin_session(&self, secret_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM admin_sessions WHERE secret_hash = $1").bind(secret_hash).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn insert_admin_link(&self, code_hash: &str, team_id: Option<&str>, expires_at: i64) -> Result<()> {
        sqlx::query("INSERT INTO admin_links (id, code_hash, team_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(new_id())
            .bind(code_hash)
            .bind(team_id)
            .bind(now_ms())
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn admin_link(&self, code_hash: &str) -> Result<Option<AdminGrant>> {
        let row = sqlx::query("SELECT id, code_hash, team_id, expires_at, used_at FROM admin_links WHERE code_hash = $1")
            .bind(code_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(AdminGrant {
                id: r.try_get("id")?,
                secret_hash: r.try_get("code_hash")?,
                actor: "admin:login-link".into(),
                team_id: r.try_get("team_id")?,
                expires_at: r.try_get("expires_at")?,
                used_at: r.try_get("used_at")?,
            })
        })
        .transpose()
    }

    /// Spends a sign-in link; `Gone` when it was used or has expired (one winner under races).
    pub async fn spend_admin_link(&self, id: &str) -> Result<()> {
        let now = now_ms();
        let spent = sqlx::query("UPDATE admin_links SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        if spent.rows_affected() != 1 {
            return Err(PortalError::Gone("this sign-in link was already used or has expired".into()));
        }
        Ok(())
    }

    pub async fn insert_admin_token(&self, name: &str, token_hash: &str, team_id: Option<&str>, created_by: &str) -> Result<AdminToken> {
        let token = AdminToken {
            id: super::tokens::short_id(),
            name: name.into(),
            team_id: team_id.map(Into::into),
            created_by: created_by.into(),
            created_at: now_ms(),
            last_used_at: None,
            revoked_at: None,
        };
        sqlx::query("INSERT INTO admin_tokens (id, name, token_hash, team_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&token.id)
            .bind(&token.name)
            .bind(token_hash)
            .bind(&token.team_id)
            .bind(&token.created_by)
            .bind(token.created_at)
            .execute(&self.pool)
            .await?;
        Ok(token)
    }

    /// The token and its stored hash.
    pub async fn admin_token_by_hash(&self, token_hash: &str) -> Result<Option<(AdminToken, String)>> {
        let row = sqlx::query(&format!("SELECT {ADMIN_TOKEN_COLUMNS}, token_hash FROM admin_tokens WHERE token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((admin_token_from_row(&r)?, r.try_get("token_hash")?))).transpose()
    }

    pub async fn touch_admin_token(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE admin_tokens SET last_used_at = $1 WHERE id = $2").bind(now_ms()).bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Tokens of one team (or all), newest first.
    pub async fn admin_tokens(&self, team_id: Option<&str>) -> Result<Vec<AdminToken>> {
        let rows = sqlx::query(&format!(
            "SELECT {ADMIN_TOKEN_COLUMNS} FROM admin_tokens WHERE ($1 = '' OR team_id = $1) ORDER BY created_at DESC, id"
        ))
        .bind(team_id.unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(admin_token_from_row).collect()
    }

    pub async fn revoke_admin_token(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE admin_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

const ADMIN_TOKEN_COLUMNS: &str = "id, name, team_id, created_by, created_at, last_used_at, revoked_at";

fn admin_token_from_row(r: &AnyRow) -> Result<AdminToken> {
    Ok(AdminToken {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        team_id: r.try_get("team_id")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}
