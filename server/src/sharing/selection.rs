//! Which of the files in the recipient's scope (`auth::ScopedTable::positioned_files`) a query
//! hands out: predicate hints and the limit hint, both best effort (clients re-apply them).

use std::collections::HashMap;

use serde_json::Value as Json;

use super::predicates::{Expr, FileFacts};
use crate::storage::FileAction;

/// A file a query hands out: its position in the snapshot and its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Picked {
    pub position: u32,
    pub size: i64,
}

/// `column_types` (name → Delta type) lets predicates trust only statistics of the right type.
/// Only positions are kept, so a table of a million files costs a few megabytes here.
pub fn select(
    files: impl Iterator<Item = (u32, FileAction)>,
    predicate: Option<&Expr>,
    column_types: &HashMap<String, String>,
    limit: Option<i64>,
) -> Vec<Picked> {
    let mut rows_so_far: i64 = 0;
    let mut selected = Vec::new();
    for (position, file) in files {
        let stats: Option<Json> =
            (predicate.is_some() || limit.is_some()).then(|| file.stats.as_deref().and_then(|s| serde_json::from_str(s).ok())).flatten();
        if let Some(p) = predicate {
            if !(FileFacts { partition_values: &file.partition_values, stats: stats.as_ref(), column_types }).may_match(p) {
                continue;
            }
        }
        if let Some(limit) = limit {
            if rows_so_far >= limit {
                break;
            }
            // A file without a row count might hold anything: keep it and keep counting on.
            // Rows a deletion vector removed are not there for the reader.
            let rows = stats.as_ref().and_then(|s| s["numRecords"].as_i64()).unwrap_or(0);
            rows_so_far += (rows - file.deleted_rows).max(0);
        }
        selected.push(Picked { position, size: file.size });
    }
    selected
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(partner: &str, rows: i64) -> FileAction {
        FileAction {
            path: format!("partner_id={partner}/{rows}.parquet"),
            size: 10,
            partition_values: HashMap::from([("partner_id".into(), Some(partner.into()))]),
            stats: Some(format!(r#"{{"numRecords":{rows}}}"#)),
            deleted_rows: 0,
            raw: Json::Null,
        }
    }

    #[test]
    fn the_limit_hint_stops_once_enough_rows_are_handed_out() {
        let files = || (0..3).map(|i| (i, file("P1", 5)));
        assert_eq!(select(files(), None, &HashMap::new(), Some(6)), [Picked { position: 0, size: 10 }, Picked { position: 1, size: 10 }]);
        assert_eq!(select(files(), None, &HashMap::new(), Some(0)).len(), 0);
        assert_eq!(select(files(), None, &HashMap::new(), None).len(), 3);
    }
}
