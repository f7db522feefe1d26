//! Which of the files in the recipient's scope (`auth::ScopedTable::candidates`) a query
//! hands out: predicate hints and the limit hint, both best effort (clients re-apply them).

use std::collections::HashMap;

use serde_json::Value as Json;

use super::predicates::{Expr, FileFacts};
use crate::error::Result;
use crate::storage::{Candidate, Reads};

/// A file a query hands out: its position in the snapshot and its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Picked {
    pub position: u32,
    pub size: i64,
}

/// What [`select`] reads of each file for this predicate and limit: statistics only when the
/// predicate names a column other than the partition columns (parsing them is most of the cost).
pub fn reads(predicate: Option<&Expr>, limit: Option<i64>, partition_columns: &[String]) -> Reads {
    Reads {
        partition_values: predicate.is_some(),
        stats: predicate.is_some_and(|p| !p.only_names(partition_columns)),
        rows: limit.is_some(),
    }
}

/// `column_types` (name → Delta type) lets predicates trust only statistics of the right type.
/// Only positions are kept, so a table of a million files costs a few megabytes here; `enough`
/// stops the reading once that many are picked (a page, and one more to know another follows).
pub fn select(
    files: impl Iterator<Item = Result<Candidate>>,
    predicate: Option<&Expr>,
    column_types: &HashMap<String, String>,
    limit: Option<i64>,
    enough: usize,
) -> Result<Vec<Picked>> {
    let mut rows_so_far: i64 = 0;
    let mut selected = Vec::new();
    for file in files {
        if selected.len() >= enough {
            break;
        }
        let file = file?;
        let stats: Option<Json> = predicate.and(file.stats.as_deref()).and_then(|s| serde_json::from_str(s).ok());
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
            let rows = file.rows.unwrap_or(0);
            rows_so_far += (rows - file.deleted_rows).max(0);
        }
        selected.push(Picked { position: file.position, size: file.size });
    }
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(position: u32, partner: &str, rows: i64) -> Candidate {
        Candidate {
            position,
            size: 10,
            partition_values: std::sync::Arc::new(HashMap::from([("partner_id".into(), Some(partner.into()))])),
            rows: Some(rows),
            stats: Some(format!(r#"{{"numRecords":{rows}}}"#)),
            deleted_rows: 0,
        }
    }

    #[test]
    fn the_limit_hint_stops_once_enough_rows_are_handed_out() {
        let files = || (0..3).map(|i| Ok(file(i, "P1", 5)));
        let select = |files, limit, enough| select(files, None, &HashMap::new(), limit, enough).unwrap();
        let first_two = [Picked { position: 0, size: 10 }, Picked { position: 1, size: 10 }];
        assert_eq!(select(files(), Some(6), usize::MAX), first_two);
        assert_eq!(select(files(), Some(0), usize::MAX).len(), 0);
        assert_eq!(select(files(), None, usize::MAX).len(), 3);
        assert_eq!(select(files(), None, 2), first_two, "enough for a page and one more");
    }
}
