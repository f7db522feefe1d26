//! Row counts: exact from the Delta log's statistics when nothing but the scope narrows the
//! view (no scan at all), from the sort's own scan for a sorted view (it reads every row the
//! filters keep anyway), otherwise counted up to a cap, or in full when the partner asks.

use std::sync::Arc;
use std::time::Duration;

use deltalake::arrow::array::RecordBatch;
use deltalake::datafusion::dataframe::DataFrame;
use deltalake::datafusion::physical_plan::sorts::sort::SortExec;
use deltalake::datafusion::physical_plan::{collect, ExecutionPlan};

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

/// The rows of a sorted view's frame, and how many rows its sort read: every row the filters
/// kept, so the view's exact count without a second scan. `None` when the plan does not say.
/// The frame's session must not push the sort's running bound into the scan (a dynamic
/// filter), which would hide rows from the count.
pub async fn collect_counting_sorted(frame: DataFrame) -> Result<(Vec<RecordBatch>, Option<u64>)> {
    let task = Arc::new(frame.task_ctx());
    let plan = frame.create_physical_plan().await?;
    let batches = collect(plan.clone(), task).await?;
    Ok((batches, sort_input_rows(&plan)))
}

/// Rows into the topmost sort of `plan`, summed over its partitions.
fn sort_input_rows(plan: &Arc<dyn ExecutionPlan>) -> Option<u64> {
    if plan.is::<SortExec>() {
        let input = plan.children().into_iter().next()?;
        return input.metrics()?.output_rows().map(|n| n as u64);
    }
    plan.children().into_iter().find_map(sort_input_rows)
}
