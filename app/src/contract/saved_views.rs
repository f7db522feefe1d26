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
    /// Its scheduled delivery, if it has one.
    #[serde(default)]
    pub delivery: Option<DeliveryView>,
}

/// A saved view's scheduled delivery: the JSON API's body and answer, and the form's fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryView {
    /// `daily`, `weekly` or `version` (on every new table version).
    pub schedule: String,
    /// For weekly deliveries: `monday` … `sunday`.
    #[serde(default)]
    pub weekday: Option<String>,
    /// The hour (UTC, 0–23) timed deliveries start at.
    #[serde(default = "six")]
    pub hour: u32,
    /// `full` (the whole view) or `changes` (the rows changed since the last delivery).
    #[serde(default = "full")]
    pub content: String,
    /// `xlsx` or `csv`.
    #[serde(default = "xlsx")]
    pub format: String,
    /// The CSV dialect (`excel`, `excel-eu`, `plain`).
    #[serde(default)]
    pub dialect: Option<String>,
    /// When it runs next (RFC 3339), as the portal answers.
    #[serde(default, skip_deserializing)]
    pub next_at: Option<String>,
    /// When it ran last (RFC 3339), as the portal answers.
    #[serde(default, skip_deserializing)]
    pub last_run_at: Option<String>,
}

fn six() -> u32 {
    6
}

fn full() -> String {
    "full".into()
}

fn xlsx() -> String {
    "xlsx".into()
}

pub const WEEKDAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

impl DeliveryView {
    /// "Every Monday at 06:00 UTC: the changes since the last delivery, as Excel".
    pub fn describe(&self) -> String {
        let when = match self.schedule.as_str() {
            "daily" => format!("Every day at {:02}:00 UTC", self.hour),
            "weekly" => {
                let day = self.weekday.as_deref().unwrap_or("monday");
                let mut chars = day.chars();
                let day: String = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
                format!("Every {day} at {:02}:00 UTC", self.hour)
            }
            _ => "On every new version of the table".into(),
        };
        let what = if self.content == "changes" { "the changes since the last delivery" } else { "the whole view" };
        let format = if self.format == "csv" { "CSV" } else { "Excel" };
        format!("{when}: {what}, as {format}")
    }
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
