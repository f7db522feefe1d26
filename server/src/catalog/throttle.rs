//! Failed authentications per client address, counted in fixed windows that every replica shares.

use super::Catalog;
use crate::error::Result;

/// An address's failures in its current window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureWindow {
    pub started_at: i64,
    pub failures: i64,
}

impl Catalog {
    /// Counts one failure of `client` at `now`; a window older than `window_ms` starts afresh.
    /// Returns the window as it now stands.
    pub async fn record_auth_failure(&self, client: &str, now: i64, window_ms: i64) -> Result<FailureWindow> {
        let lapsed = now - window_ms;
        // Windows that lapsed are dead weight; removing them here keeps the table to the
        // addresses failing now.
        sqlx::query("DELETE FROM auth_failures WHERE window_start <= $1").bind(lapsed).execute(&self.pool).await?;
        // One statement, so that replicas counting the same address at once both count.
        let (started_at, failures): (i64, i64) = sqlx::query_as(
            "INSERT INTO auth_failures (client, window_start, failures) VALUES ($1, $2, 1) \
             ON CONFLICT (client) DO UPDATE SET \
               failures = CASE WHEN auth_failures.window_start <= $3 THEN 1 ELSE auth_failures.failures + 1 END, \
               window_start = CASE WHEN auth_failures.window_start <= $3 THEN $2 ELSE auth_failures.window_start END \
             RETURNING window_start, failures",
        )
        .bind(client)
        .bind(now)
        .bind(lapsed)
        .fetch_one(&self.pool)
        .await?;
        Ok(FailureWindow { started_at, failures })
    }

    /// The failures of `client` in its current window, if it has one.
    pub async fn auth_failures(&self, client: &str) -> Result<Option<FailureWindow>> {
        let row: Option<(i64, i64)> = sqlx::query_as("SELECT window_start, failures FROM auth_failures WHERE client = $1")
            .bind(client)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(started_at, failures)| FailureWindow { started_at, failures }))
    }
}
