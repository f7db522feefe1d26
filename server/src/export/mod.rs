//! Downloads of a table view: the preview's grammar, scope and order, every row, streamed.

pub mod csv;
pub mod xlsx;

use app::contract::TableMeta;

/// `<table>_<yyyy-mm-dd>[_filtered].<ext>`, the date being today's (UTC).
pub fn file_name(meta: &TableMeta, filtered: bool, extension: &str) -> String {
    let safe: String = meta.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    let day = chrono::Utc::now().format("%Y-%m-%d");
    format!("{safe}_{day}{}.{extension}", if filtered { "_filtered" } else { "" })
}
