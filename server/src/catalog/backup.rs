//! Backups of a SQLite catalog: a consistent copy taken while the portal serves (`VACUUM INTO`),
//! and its restore while the portal is stopped. A Postgres catalog is backed up with `pg_dump`.

use std::path::{Path, PathBuf};

use sqlx::Connection;

use super::Catalog;
use crate::error::{PortalError, Result};

impl Catalog {
    /// Writes a consistent copy of the catalog to `to` (a new file).
    pub async fn backup_into(&self, to: &Path) -> Result<()> {
        if self.postgres {
            return Err(PortalError::Unsupported(
                "the catalog is on Postgres: back it up with pg_dump (see docs/deployment.md, Backups)".into(),
            ));
        }
        if to.exists() {
            return Err(PortalError::Conflict(format!("{} already exists; name a new file", to.display())));
        }
        let path = to.to_str().ok_or_else(|| PortalError::InvalidParameter(format!("{} is not a UTF-8 path", to.display())))?;
        sqlx::query("VACUUM INTO $1").bind(path).execute(&self.pool).await?;
        Ok(())
    }
}

/// Replaces the SQLite catalog of `database_url` with the backup `from`, once the backup has
/// passed SQLite's integrity check and proved to be a portal catalog. Every replica must be
/// stopped: the file is swapped underneath them.
pub async fn restore(database_url: &str, from: &Path) -> Result<()> {
    let target = sqlite_file(database_url)?;
    if !from.is_file() {
        return Err(PortalError::InvalidParameter(format!("{} is not a file", from.display())));
    }
    check_backup(from).await?;
    let staged = with_suffix(&target, ".restoring");
    std::fs::copy(from, &staged)?;
    std::fs::File::open(&staged)?.sync_all()?;
    // The write-ahead log and its index belong to the catalog being replaced.
    for stale in [with_suffix(&target, "-wal"), with_suffix(&target, "-shm")] {
        match std::fs::remove_file(&stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    std::fs::rename(&staged, &target)?;
    Ok(())
}

async fn check_backup(from: &Path) -> Result<()> {
    let not_a_backup = |why: String| PortalError::InvalidParameter(format!("{} is not a portal catalog backup: {why}", from.display()));
    // Read-only, and without the catalog's connection settings (they would write to it).
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", from.display());
    let mut conn = sqlx::AnyConnection::connect(&url).await.map_err(|e| not_a_backup(e.to_string()))?;
    let integrity: String =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await.map_err(|e| not_a_backup(e.to_string()))?;
    if integrity != "ok" {
        return Err(not_a_backup(format!("the integrity check says {integrity}")));
    }
    let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut conn)
        .await
        .map_err(|_| not_a_backup("it has no portal migrations".into()))?;
    let _ = conn.close().await;
    version.map(|_| ()).ok_or_else(|| not_a_backup("it has no portal migrations".into()))
}

/// The file of a `sqlite://path?options` URL.
fn sqlite_file(database_url: &str) -> Result<PathBuf> {
    let rest = database_url.strip_prefix("sqlite://").or_else(|| database_url.strip_prefix("sqlite:")).ok_or_else(|| {
        PortalError::Unsupported("the catalog is on Postgres: restore it with pg_restore or psql (see docs/deployment.md, Backups)".into())
    })?;
    Ok(PathBuf::from(rest.split('?').next().unwrap_or(rest)))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_backup_restores_the_catalog_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/catalog.db?mode=rwc", dir.path().display());
        let catalog = Catalog::open(&url).await.unwrap();
        catalog.create_team("before").await.unwrap();
        let backup = dir.path().join("backup.db");
        catalog.backup_into(&backup).await.unwrap();
        assert!(catalog.backup_into(&backup).await.is_err(), "an existing file is never overwritten");
        catalog.create_team("after").await.unwrap();
        catalog.pool.close().await;

        restore(&url, &backup).await.unwrap();
        let catalog = Catalog::open(&url).await.unwrap();
        assert!(catalog.team("before").await.is_ok());
        assert!(catalog.team("after").await.is_err());
    }

    #[tokio::test]
    async fn what_is_not_a_catalog_backup_is_refused_and_nothing_changes() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/catalog.db?mode=rwc", dir.path().display());
        Catalog::open(&url).await.unwrap().create_team("kept").await.unwrap();
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, b"not a database at all").unwrap();
        let e = restore(&url, &junk).await.unwrap_err();
        assert!(e.to_string().contains("is not a portal catalog backup"), "{e}");
        assert!(Catalog::open(&url).await.unwrap().team("kept").await.is_ok());
    }
}
