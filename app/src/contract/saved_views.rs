//! Saved views: a partner's names for table views, listed on the home and table pages and
//! reachable at `/views/{id}`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::grammar::{Since, TableQuery};
use super::views::{table_href, Loaded};

/// A saved view as the pages list it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedViewRow {
    pub id: String,
    pub name: String,
    pub share: String,
    pub schema: String,
    pub table: String,
    /// The view's canonical query string (no `?`).
    pub query: String,
    /// When it was last saved or renamed (RFC 3339).
    pub updated: String,
    /// The partner's last complete download of this view.
    pub last_download: Option<LastDownload>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastDownload {
    /// The table version the file held.
    pub version: i64,
    /// When the download ended (RFC 3339).
    pub at: String,
}

impl SavedViewRow {
    /// The table page showing this view.
    pub fn href(&self) -> String {
        let base = table_href(&self.share, &self.schema, &self.table);
        if self.query.is_empty() {
            base
        } else {
            format!("{base}?{}", self.query)
        }
    }

    /// The table page showing the rows changed since the last download, if there was one.
    pub fn changes_href(&self) -> Option<String> {
        let last = self.last_download.as_ref()?;
        let base = table_href(&self.share, &self.schema, &self.table);
        let view = TableQuery::parse_query_string(&self.query).ok()?.changed_since(Some(Since::Version(last.version)));
        Some(format!("{base}{}", view.href_suffix()))
    }

    /// Whether `query` shows what this view shows (whatever its page, version or count).
    pub fn shows(&self, query: &TableQuery) -> bool {
        query.saved().to_query_string(false) == self.query
    }
}

/// `/views/{id}`: the saved view's table page (a redirect), or not found.
#[server(prefix = "/_fn", input = server_fn::codec::GetUrl)]
pub async fn open_saved_view(id: String) -> Result<Loaded<()>, ServerFnError> {
    let (backend, request) = crate::backend::current_request()?;
    let loaded = backend.saved_view(&request, &id).await;
    crate::backend::answer(&request, &loaded);
    Ok(loaded)
}
