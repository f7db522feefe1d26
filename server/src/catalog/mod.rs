//! The catalog: shares, tables, recipients, grants, tokens, activation links and the audit log.
//!
//! All SQL of the portal lives under this module, written once for SQLite and Postgres (sqlx `Any`,
//! `$n` placeholders, BIGINT epoch milliseconds). Callers get typed records and never see SQL.

mod activation;
mod admins;
mod audit;
mod export_jobs;
mod grants;
mod locations;
pub mod model;
pub mod names;
pub mod recipients;
mod sessions;
pub mod shares;
mod teams;
mod tokens;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::AnyPool;

use crate::error::Result;

pub use admins::AdminGrant;
pub use audit::{AuditFilter, Usage};
pub use export_jobs::NewExportJob;
pub use model::*;
pub use recipients::RecipientFields;
pub use sessions::SessionRecord;

/// A handle on the catalog database; cheap to clone.
#[derive(Clone)]
pub struct Catalog {
    pool: AnyPool,
}

impl Catalog {
    /// Connects (creating the SQLite file if needed) and applies pending migrations.
    pub async fn open(database_url: &str) -> Result<Self> {
        let pool = Self::open_pool(database_url).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    /// A pool on the database, without migrating it.
    async fn open_pool(database_url: &str) -> Result<AnyPool> {
        sqlx::any::install_default_drivers();
        let is_sqlite = database_url.starts_with("sqlite:");
        let options = AnyConnectOptions::from_str(database_url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if is_sqlite { 4 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if is_sqlite {
                        // WAL lets the CLI write while the server reads; the busy timeout makes
                        // concurrent writers wait instead of failing.
                        sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(pool)
    }
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Maps a unique-constraint failure to a clear "already exists" message.
pub(crate) fn conflict_or(err: sqlx::Error, what: impl FnOnce() -> String) -> crate::error::PortalError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => crate::error::PortalError::Conflict(what()),
        _ => err.into(),
    }
}

/// A fresh catalog for one test: a SQLite file, or a new database on the Postgres server named by
/// `PORTAL_TEST_POSTGRES` (the test suite runs once per backend).
#[cfg(test)]
pub(crate) async fn test_catalog() -> (Catalog, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = match std::env::var("PORTAL_TEST_POSTGRES") {
        Ok(server) => {
            let name = format!("t_{}", uuid::Uuid::new_v4().simple());
            let admin = Catalog::open_pool(&server).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
            admin.close().await;
            let base = server.rsplit_once('/').map_or(server.as_str(), |(base, _)| base).to_string();
            format!("{base}/{name}")
        }
        Err(_) => format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display()),
    };
    (Catalog::open(&url).await.unwrap(), dir)
}

#[cfg(test)]
mod tests;
