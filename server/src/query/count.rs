//! Row counts: exact from the Delta log's statistics when nothing but the scope narrows the
//! view (no scan at all), otherwise counted up to a cap, or in full when the partner asks.

use std::time::Duration;

use deltalake::datafusion::dataframe::DataFrame;

use crate::auth::ScopedTable;
use crate::error::Result;

/// Counting stops here unless the partner asks to count all (Datasette's limit).
pub const COUNT_CAP: u64 = 10_000;

/// `(count, exact)`; `(None, false)` when counting ran out of time.
pub async fn count(filtered: DataFrame, table: &ScopedTable, unfiltered: bool, all: bool, budget: Duration) -> Result<(Option<u64>, bool)> {
    if unfiltered {
        if let Some((rows, _)) = table.stats()? {
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
