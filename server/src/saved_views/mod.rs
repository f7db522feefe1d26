//! Partners' saved views: a name for a table view (filters, sort, columns), private to the
//! recipient. A view is saved only on a table the recipient is granted (the one authorization
//! function), and is listed and opened only while that grant lasts; anything else reads as a
//! missing view.

use app::contract::grammar::TableQuery;
use app::contract::{LastDownload, SavedViewRow, TableMeta};

use crate::auth::access::Access;
use crate::catalog::{names, Catalog, NewSavedView, Recipient, Saved, SavedView};
use crate::error::{PortalError, Result};
use crate::primitives::time::rfc3339_ms;

/// The most views one recipient may keep.
pub const MAX_VIEWS: i64 = 200;
/// The longest name, in characters.
pub const MAX_NAME: usize = 80;

/// One recipient's saved views.
pub struct SavedViews<'a> {
    catalog: &'a Catalog,
    recipient: &'a Recipient,
}

impl<'a> SavedViews<'a> {
    pub fn new(catalog: &'a Catalog, recipient: &'a Recipient) -> Self {
        Self { catalog, recipient }
    }

    /// Saves `view` of a granted table under `name` (replacing the query of that table's view of
    /// the same name). Only what the view shows is kept: not its page, version or count request.
    pub async fn save(&self, share: &str, schema: &str, table: &str, view: &TableQuery, name: &str) -> Result<(SavedView, Saved)> {
        let name = valid_name(name)?;
        let granted = Access::new(self.catalog, self.recipient).table(share, schema, table).await?.table;
        let query = view.saved().to_query_string(false);
        let new = NewSavedView {
            recipient_id: &self.recipient.id,
            share: &granted.share_name,
            schema: &granted.schema_name,
            table: &granted.name,
            name: &name,
            query: &query,
        };
        self.catalog.save_view(&new, MAX_VIEWS).await?.map_err(|held| {
            PortalError::field("limit", format!("you have {held} saved views, the most you can keep; delete one you no longer use first"))
        })
    }

    /// The recipient's views of the tables granted to it now.
    pub async fn list(&self) -> Result<Vec<SavedView>> {
        self.catalog.saved_views_of(&self.recipient.id).await
    }

    /// One of the recipient's views; another recipient's, or one whose table is no longer
    /// granted, is not found.
    pub async fn get(&self, id: &str) -> Result<SavedView> {
        self.catalog.saved_view(&self.recipient.id, id).await?.ok_or_else(|| not_found(id))
    }

    pub async fn rename(&self, id: &str, name: &str) -> Result<SavedView> {
        let name = valid_name(name)?;
        self.get(id).await?;
        if !self.catalog.rename_saved_view(&self.recipient.id, id, &name).await? {
            return Err(not_found(id));
        }
        self.get(id).await
    }

    /// Notes that the recipient downloaded `view` of a table, complete, at `version`: the saved
    /// views showing that view then offer the changes since.
    pub async fn downloaded(&self, share: &str, schema: &str, table: &str, view: &TableQuery, version: i64) -> Result<()> {
        let query = view.saved().to_query_string(false);
        self.catalog.mark_views_downloaded(&self.recipient.id, share, schema, table, &query, version).await
    }

    pub async fn delete(&self, id: &str) -> Result<SavedView> {
        let view = self.get(id).await?;
        if !self.catalog.delete_saved_view(&self.recipient.id, id).await? {
            return Err(not_found(id));
        }
        Ok(view)
    }
}

/// Notes a complete download of `view` of the table `meta` describes on the recipient's saved
/// views. Logged, never failing the download it follows.
pub async fn note_download(catalog: &Catalog, recipient: &Recipient, meta: &TableMeta, view: &TableQuery) {
    let noted = SavedViews::new(catalog, recipient).downloaded(&meta.share, &meta.schema, &meta.name, view, meta.version).await;
    if let Err(e) = noted {
        tracing::warn!(error = %e, "could not note a download on the saved views");
    }
}

/// Whether a view is of this table (names match as the catalog matches them).
pub fn is_of(view: &SavedView, share: &str, schema: &str, table: &str) -> bool {
    [(&view.share, share), (&view.schema, schema), (&view.table, table)].iter().all(|(a, b)| names::key(a) == names::key(b))
}

impl From<SavedView> for SavedViewRow {
    fn from(v: SavedView) -> Self {
        Self {
            updated: rfc3339_ms(v.updated_at),
            last_download: v.last_download.map(|(version, at)| LastDownload { version, at: rfc3339_ms(at) }),
            id: v.id,
            name: v.name,
            share: v.share,
            schema: v.schema,
            table: v.table,
            query: v.query,
            delivery: None,
        }
    }
}

fn valid_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(PortalError::field("name", format!("give the view a name of 1 to {MAX_NAME} characters")));
    }
    Ok(name.to_string())
}

fn not_found(id: &str) -> PortalError {
    PortalError::NotFound(format!("saved view `{id}` does not exist"))
}

#[cfg(test)]
mod tests;
