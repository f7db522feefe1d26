//! The catalog: shares, tables, recipients, grants, tokens, activation links and the audit log.
//!
//! All SQL of the portal lives under this module, written once for SQLite and Postgres (sqlx `Any`,
//! `$n` placeholders, BIGINT epoch milliseconds). Callers get typed records and never see SQL.

mod activation;
mod admins;
mod async_queries;
mod audit;
mod backup;
mod contacts;
mod deliveries;
mod export_jobs;
mod federation;
mod grants;
mod keys;
mod locations;
pub mod model;
pub mod names;
mod oauth_clients;
mod outbox;
pub mod recipients;
mod reveals;
mod saved_views;
mod sessions;
pub mod shares;
mod teams;
mod throttle;
mod tokens;
mod usage;
mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::AnyPool;

use crate::error::Result;

pub use admins::AdminGrant;
pub use async_queries::{AsyncQuery, NewAsyncQuery, QueryStatus};
pub use audit::{AuditFilter, AuditNote};
pub use backup::restore;
pub use contacts::Contact;
pub use deliveries::{Delivery, Schedule};
pub use export_jobs::NewExportJob;
pub use federation::FederationPolicy;
pub use keys::SigningKey;
pub use model::*;
pub use oauth_clients::{ClientSecrets, OAuthClient};
pub use outbox::{Message, NewMessage};
pub use recipients::RecipientFields;
pub use saved_views::{NewSavedView, Saved, SavedView};
pub use sessions::SessionRecord;
pub use throttle::FailureWindow;
pub use usage::{DayUsage, TableUsage, Usage, UsageScope, DAY_MS};
pub use webhooks::{Webhook, MAX_WEBHOOKS};

/// A handle on the catalog database; cheap to clone.
#[derive(Clone)]
pub struct Catalog {
    pool: AnyPool,
    /// Postgres (many replicas) rather than SQLite (one writer at a time).
    postgres: bool,
}

impl Catalog {
    /// Connects (creating the SQLite file if needed) and applies pending migrations.
    pub async fn open(database_url: &str) -> Result<Self> {
        let pool = Self::open_pool(database_url).await?;
        // On Postgres the migrator holds an advisory lock: replicas starting together migrate once.
        // Migrations only add, so a replica of the previous release keeps running on a catalog
        // that a newer one migrated (a rolling upgrade): it ignores the migrations it does not know.
        let mut migrator = sqlx::migrate!("./migrations");
        migrator.set_ignore_missing(true);
        migrator.run(&pool).await?;
        Ok(Self { pool, postgres: database_url.starts_with("postgres") })
    }

    /// Whether the catalog answers at all (the readiness check).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Whether every migration this release knows is applied (the readiness check).
    pub async fn migrated(&self) -> Result<bool> {
        let latest = sqlx::migrate!("./migrations").iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success").fetch_one(&self.pool).await?;
        Ok(applied.unwrap_or(0) >= latest)
    }

    /// Connections open and idle, for the metrics.
    pub fn pool_use(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// Takes the row lock of one recipient inside `tx`, so that checks of the recipient's limits
    /// (count, then insert) run one at a time across replicas. On SQLite the write itself takes
    /// the database's one write lock.
    pub(crate) async fn lock_recipient(tx: &mut sqlx::Transaction<'_, sqlx::Any>, recipient_id: &str) -> Result<()> {
        sqlx::query("UPDATE recipients SET id = id WHERE id = $1").bind(recipient_id).execute(&mut **tx).await?;
        Ok(())
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
                        // In WAL mode NORMAL stays consistent after a crash of the process or the
                        // machine; only the last commits before a power cut may be lost. FULL would
                        // wait for the disk on every audit line.
                        sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await?;
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

pub(crate) use crate::primitives::time::now_ms;

impl Catalog {
    /// The text values of one column of a query, for tests that look at what is stored.
    #[cfg(test)]
    pub(crate) async fn texts(&self, sql: &str) -> Vec<String> {
        sqlx::query_scalar(sql).fetch_all(&self.pool).await.unwrap()
    }
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
