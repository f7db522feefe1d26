//! Background exports as the partner sees them: the `/exports` page and the JSON API share
//! this one shape.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::views::Loaded;

/// One export job. Times are RFC 3339 (UTC).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportJobView {
    pub id: String,
    /// `share.schema.table`.
    pub table: String,
    /// `xlsx` or `csv`.
    pub format: String,
    /// The CSV dialect; empty for xlsx.
    pub dialect: String,
    /// The view in the table page's grammar.
    pub view: String,
    pub description: String,
    /// `queued`, `running`, `done`, `failed`, `cancelled` or `expired`.
    pub status: String,
    pub rows_written: u64,
    /// Unknown while counting, or when counting took too long.
    pub rows_total: Option<u64>,
    pub bytes: Option<u64>,
    pub file_name: Option<String>,
    /// Why it failed, in words.
    pub error: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub expires_at: Option<String>,
    /// Where the file is, once done.
    pub download_url: Option<String>,
    /// The table page showing the exported view.
    pub view_href: String,
}

impl ExportJobView {
    pub fn is_unfinished(&self) -> bool {
        matches!(self.status.as_str(), "queued" | "running")
    }

    /// What the file is, in words: "Excel", "CSV for Excel"…
    pub fn kind(&self) -> &'static str {
        match (self.format.as_str(), self.dialect.as_str()) {
            ("xlsx", _) => "Excel (.xlsx)",
            (_, "excel") => "CSV for Excel",
            (_, "excel-eu") => "CSV for Excel (EU)",
            _ => "CSV",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportsView {
    pub jobs: Vec<ExportJobView>,
    /// The form token for the cancel buttons.
    pub csrf: String,
}

/// The signed-in partner's export jobs, newest first.
#[server(prefix = "/_fn", input = server_fn::codec::GetUrl)]
pub async fn get_exports() -> Result<Loaded<ExportsView>, ServerFnError> {
    let (backend, request) = crate::backend::current_request()?;
    let loaded = backend.exports(&request).await;
    crate::backend::answer(&request, &loaded);
    Ok(loaded)
}
