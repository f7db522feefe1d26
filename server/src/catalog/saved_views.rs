//! Partners' saved table views. Every read and change names the recipient, so one recipient's
//! views are never reached through another's id.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{conflict_or, names, new_id, now_ms, Catalog};
use crate::error::{PortalError, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedView {
    pub id: String,
    pub recipient_id: String,
    pub share: String,
    pub schema: String,
    pub table: String,
    pub name: String,
    /// The view's canonical query string (no `?`), as the grammar writes it.
    pub query: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// The table version of the last complete download of this view, and when it ended.
    pub last_download: Option<(i64, i64)>,
}

/// A view to save: the table as granted, a name and the canonical query.
pub struct NewSavedView<'a> {
    pub recipient_id: &'a str,
    pub share: &'a str,
    pub schema: &'a str,
    pub table: &'a str,
    pub name: &'a str,
    pub query: &'a str,
}

/// Whether a save made a new view or replaced the query of the one with that name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saved {
    Created,
    Replaced,
}

const COLUMNS: &str = "v.id, v.recipient_id, v.share_name, v.schema_name, v.table_name, v.name, v.query, v.created_at, v.updated_at, \
     v.last_download_version, v.last_download_at";

/// The recipient's grant still reaches the view's table.
const STILL_GRANTED: &str = "EXISTS (SELECT 1 FROM shared_tables t JOIN shares s ON s.id = t.share_id \
     JOIN grants g ON g.share_id = s.id WHERE g.recipient_id = v.recipient_id \
     AND s.name_key = v.share_key AND t.schema_key = v.schema_key AND t.name_key = v.table_key)";

fn from_row(row: &AnyRow) -> Result<SavedView> {
    Ok(SavedView {
        id: row.try_get("id")?,
        recipient_id: row.try_get("recipient_id")?,
        share: row.try_get("share_name")?,
        schema: row.try_get("schema_name")?,
        table: row.try_get("table_name")?,
        name: row.try_get("name")?,
        query: row.try_get("query")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        last_download: match (row.try_get("last_download_version")?, row.try_get("last_download_at")?) {
            (Some(version), Some(at)) => Some((version, at)),
            _ => None,
        },
    })
}

impl Catalog {
    /// Saves a view under its name: the table's view of that name gets the new query, else a new
    /// view is stored unless the recipient already holds `max` (refused, it returns how many).
    /// Counted and written under the recipient's lock, so concurrent saves cannot pass the limit.
    pub async fn save_view(&self, new: &NewSavedView<'_>, max: i64) -> Result<std::result::Result<(SavedView, Saved), i64>> {
        let (share_key, schema_key, table_key) = (names::key(new.share), names::key(new.schema), names::key(new.table));
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        Self::lock_recipient(&mut tx, new.recipient_id).await?;
        let existing: Option<String> = sqlx::query_scalar(
            "SELECT id FROM saved_views WHERE recipient_id = $1 AND share_key = $2 AND schema_key = $3 AND table_key = $4 AND name = $5",
        )
        .bind(new.recipient_id)
        .bind(&share_key)
        .bind(&schema_key)
        .bind(&table_key)
        .bind(new.name)
        .fetch_optional(&mut *tx)
        .await?;
        let (id, saved) = match existing {
            Some(id) => {
                sqlx::query("UPDATE saved_views SET query = $1, updated_at = $2 WHERE id = $3")
                    .bind(new.query)
                    .bind(now)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                (id, Saved::Replaced)
            }
            None => {
                let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM saved_views WHERE recipient_id = $1")
                    .bind(new.recipient_id)
                    .fetch_one(&mut *tx)
                    .await?;
                if held >= max {
                    return Ok(Err(held));
                }
                let id = new_id();
                sqlx::query(
                    "INSERT INTO saved_views (id, recipient_id, share_key, schema_key, table_key, share_name, schema_name, table_name, \
                     name, query, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
                )
                .bind(&id)
                .bind(new.recipient_id)
                .bind(&share_key)
                .bind(&schema_key)
                .bind(&table_key)
                .bind(new.share)
                .bind(new.schema)
                .bind(new.table)
                .bind(new.name)
                .bind(new.query)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                (id, Saved::Created)
            }
        };
        tx.commit().await?;
        let view = self.saved_view(new.recipient_id, &id).await?.ok_or_else(|| PortalError::NotFound("the saved view is gone".into()))?;
        Ok(Ok((view, saved)))
    }

    /// The recipient's views of tables still granted to it, by table then name.
    pub async fn saved_views_of(&self, recipient_id: &str) -> Result<Vec<SavedView>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM saved_views v WHERE v.recipient_id = $1 AND {STILL_GRANTED} \
             ORDER BY v.share_key, v.schema_key, v.table_key, v.name"
        );
        let rows = sqlx::query(&sql).bind(recipient_id).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// One of the recipient's views, if its table is still granted.
    pub async fn saved_view(&self, recipient_id: &str, id: &str) -> Result<Option<SavedView>> {
        let sql = format!("SELECT {COLUMNS} FROM saved_views v WHERE v.id = $1 AND v.recipient_id = $2 AND {STILL_GRANTED}");
        sqlx::query(&sql).bind(id).bind(recipient_id).fetch_optional(&self.pool).await?.map(|r| from_row(&r)).transpose()
    }

    /// Renames one of the recipient's views; `false` when it holds no such view. Another view of
    /// the same table with that name is a conflict.
    pub async fn rename_saved_view(&self, recipient_id: &str, id: &str, name: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE saved_views SET name = $1, updated_at = $2 WHERE id = $3 AND recipient_id = $4")
            .bind(name)
            .bind(now_ms())
            .bind(id)
            .bind(recipient_id)
            .execute(&self.pool)
            .await
            .map_err(|e| conflict_or(e, || format!("you already have a view named “{name}” of this table")))?;
        Ok(done.rows_affected() > 0)
    }

    /// Notes a complete download of `query` of a table at `version` on the recipient's views
    /// that show exactly that.
    pub async fn mark_views_downloaded(
        &self,
        recipient_id: &str,
        share: &str,
        schema: &str,
        table: &str,
        query: &str,
        version: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE saved_views SET last_download_version = $1, last_download_at = $2 WHERE recipient_id = $3 \
             AND share_key = $4 AND schema_key = $5 AND table_key = $6 AND query = $7",
        )
        .bind(version)
        .bind(now_ms())
        .bind(recipient_id)
        .bind(names::key(share))
        .bind(names::key(schema))
        .bind(names::key(table))
        .bind(query)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes one of the recipient's views; `false` when it holds no such view.
    pub async fn delete_saved_view(&self, recipient_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM saved_views WHERE id = $1 AND recipient_id = $2")
            .bind(id)
            .bind(recipient_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
