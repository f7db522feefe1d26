//! Downloads of a table view: the preview's grammar, scope and order, every row, streamed.

pub mod csv;
mod csv_fields;
pub mod format;

pub(crate) use csv_fields::neutralise_into;
pub mod jobs;
pub mod limits;
pub mod outputs;
pub mod png;
pub mod xlsx;

use crate::query::Extract;
use xlsx::About;

/// `<table>_<yyyy-mm-dd>[[_net]_changes_v<first>-v<last>][_filtered].<ext>`, the date being today's (UTC).
pub fn file_name(extract: &Extract, extension: &str) -> String {
    let safe = safe_name(&extract.meta.name);
    let day = chrono::Utc::now().format("%Y-%m-%d");
    let net = if extract.query.net { "_net" } else { "" };
    let changes = extract.changes.map(|r| format!("{net}_changes_v{}-v{}", r.first, r.last)).unwrap_or_default();
    let filtered = if extract.query.filters.is_empty() { "" } else { "_filtered" };
    format!("{safe}_{day}{changes}{filtered}.{extension}")
}

/// A table's name as a file name may hold it: letters, digits, `_` and `-`.
pub fn safe_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
}

/// What an Excel file's About sheet says of the view it holds.
pub fn about(extract: &Extract) -> About {
    let meta = &extract.meta;
    About {
        share: meta.share.clone(),
        schema: meta.schema.clone(),
        table: meta.name.clone(),
        version: meta.version,
        filters: extract.description.clone(),
        changes: extract.changes,
        exported_at: chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string(),
        dictionary: extract
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.type_name.clone(), meta.column(&c.name).and_then(|m| m.comment.clone()).unwrap_or_default()))
            .collect(),
    }
}
