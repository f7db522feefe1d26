//! Async queries of the sharing protocol: one row per (recipient, table, idempotency key),
//! always read through its recipient and table (anything else is `NotFound`, worded like an
//! unknown id), and gone once expired.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{new_id, now_ms, Catalog};
use crate::error::{PortalError, Result};

const COLUMNS: &str = "id, params, max_files, status, version, error_code, error_message, lease_until, expires_at";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl QueryStatus {
    /// The words of the protocol (lower case since PROTOCOL.md #1000).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        [Self::Pending, Self::Succeeded, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| PortalError::Internal(format!("unknown async query status `{text}`")))
    }
}

#[derive(Clone, Debug)]
pub struct AsyncQuery {
    pub id: String,
    /// The query's parameters as canonical JSON.
    pub params: String,
    pub max_files: Option<i64>,
    pub status: QueryStatus,
    /// The table version it reads, once resolved.
    pub version: Option<i64>,
    /// How it failed: the protocol's error code and the message the client may see.
    pub error: Option<(String, String)>,
    /// Until when the replica that runs it holds it.
    pub lease_until: i64,
    pub expires_at: i64,
}

/// A query to submit.
pub struct NewAsyncQuery<'a> {
    pub recipient_id: &'a str,
    pub table_id: &'a str,
    pub idempotency_key: &'a str,
    pub params: &'a str,
    pub max_files: Option<i64>,
    pub lease_until: i64,
    pub expires_at: i64,
}

impl Catalog {
    /// The query of this key: a new one (`true`), or the one submitted before with the same key
    /// for the same table (`false`), whatever its parameters (the caller compares them).
    /// Concurrent submissions of one key on any replicas make one query.
    pub async fn submit_async_query(&self, q: &NewAsyncQuery<'_>) -> Result<(AsyncQuery, bool)> {
        let now = now_ms();
        sqlx::query("DELETE FROM async_queries WHERE expires_at < $1").bind(now).execute(&self.pool).await?;
        let inserted = sqlx::query(
            "INSERT INTO async_queries (id, recipient_id, table_id, idempotency_key, params, max_files, status, lease_until, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (recipient_id, table_id, idempotency_key) DO NOTHING",
        )
        .bind(new_id())
        .bind(q.recipient_id)
        .bind(q.table_id)
        .bind(q.idempotency_key)
        .bind(q.params)
        .bind(q.max_files)
        .bind(QueryStatus::Pending.as_str())
        .bind(q.lease_until)
        .bind(now)
        .bind(q.expires_at)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        let sql = format!("SELECT {COLUMNS} FROM async_queries WHERE recipient_id = $1 AND table_id = $2 AND idempotency_key = $3");
        let row = sqlx::query(&sql).bind(q.recipient_id).bind(q.table_id).bind(q.idempotency_key).fetch_one(&self.pool).await?;
        Ok((query_from_row(&row)?, inserted))
    }

    /// The recipient's query `id` on this table, unless it expired.
    pub async fn async_query(&self, recipient_id: &str, table_id: &str, id: &str) -> Result<AsyncQuery> {
        let sql = format!("SELECT {COLUMNS} FROM async_queries WHERE id = $1 AND recipient_id = $2 AND table_id = $3 AND expires_at >= $4");
        let row = sqlx::query(&sql).bind(id).bind(recipient_id).bind(table_id).bind(now_ms()).fetch_optional(&self.pool).await?;
        row.as_ref()
            .map(query_from_row)
            .transpose()?
            .ok_or_else(|| PortalError::NotFound(format!("there is no query {id} on this table, or it expired")))
    }

    /// Takes over a pending query whose lease lapsed (the replica running it died); false when
    /// it finished or another replica took it first.
    pub async fn take_over_async_query(&self, id: &str, lease_until: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE async_queries SET lease_until = $1 WHERE id = $2 AND status = $3 AND lease_until < $4")
            .bind(lease_until)
            .bind(id)
            .bind(QueryStatus::Pending.as_str())
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A pending query ended: with the version it reads, or with an error (code, message).
    /// The first ending wins.
    pub async fn finish_async_query(&self, id: &str, outcome: std::result::Result<i64, (&str, &str)>) -> Result<()> {
        let (status, version, code, message) = match outcome {
            Ok(v) => (QueryStatus::Succeeded, Some(v), None, None),
            Err((code, message)) => (QueryStatus::Failed, None, Some(code), Some(message)),
        };
        sqlx::query(
            "UPDATE async_queries SET status = $1, version = $2, error_code = $3, error_message = $4 WHERE id = $5 AND status = $6",
        )
        .bind(status.as_str())
        .bind(version)
        .bind(code)
        .bind(message)
        .bind(id)
        .bind(QueryStatus::Pending.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

fn query_from_row(row: &AnyRow) -> Result<AsyncQuery> {
    let code: Option<String> = row.try_get("error_code")?;
    let message: Option<String> = row.try_get("error_message")?;
    Ok(AsyncQuery {
        id: row.try_get("id")?,
        params: row.try_get("params")?,
        max_files: row.try_get("max_files")?,
        status: QueryStatus::parse(&row.try_get::<String, _>("status")?)?,
        version: row.try_get("version")?,
        error: code.map(|c| (c, message.unwrap_or_default())),
        lease_until: row.try_get("lease_until")?,
        expires_at: row.try_get("expires_at")?,
    })
}
