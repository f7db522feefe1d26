//! Row counts: exact from the Delta log's statistics when nothing but the scope narrows the
//! view (no scan at all), otherwise counted up to a cap, or in full when the partner asks.

use std::time::Duration;

use deltalake::datafusion::dataframe::DataFrame;

use crate::auth::RowScope;
use crate::error::Result;
use crate::storage::TableState;

/// Counting stops here unless the partner asks to count all (Datasette's limit).
pub const COUNT_CAP: u64 = 10_000;

/// Rows and bytes of the files the scope allows, from the log: `None` if a file lacks stats.
pub fn from_stats(state: &TableState, scope: &RowScope) -> Result<Option<(u64, u64)>> {
    let (mut rows, mut bytes) = (0u64, 0u64);
    for file in state.files(false)? {
        if !scope.allows(&file.partition_values) {
            continue;
        }
        let records = file.stats.as_deref().and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok()).and_then(|s| s["numRecords"].as_i64());
        let Some(records) = records else { return Ok(None) };
        rows += (records - file.deleted_rows).max(0) as u64;
        bytes += file.size.max(0) as u64;
    }
    Ok(Some((rows, bytes)))
}

/// `(count, exact)`; `(None, false)` when counting ran out of time.
pub async fn count(filtered: DataFrame, state: &TableState, scope: &RowScope, unfiltered: bool, all: bool, budget: Duration) -> Result<(Option<u64>, bool)> {
    if unfiltered {
        if let Some((rows, _)) = from_stats(state, scope)? {
            return Ok((Some(rows), true));
        }
    }
    let counting = async move {
        if all {
            filtered.count().await
        } else {
            filtered.limit(0, Some(COUNT_CAP as usize + 1))?.count().await
        }
    };
    Ok(match tokio::time::timeout(budget, counting).await {
        Err(_) => (None, false),
        Ok(n) => {
            let n = n? as u64;
            if n > COUNT_CAP && !all {
                (Some(COUNT_CAP), false)
            } else {
                (Some(n), true)
            }
        }
    })
}
