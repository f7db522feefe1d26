//! Views answered from the Delta log: when a view's filters touch only partition columns, its
//! row count and its facets on partition columns need no data file. They are computed over one
//! row per partition of the caller's files (the partition's values, typed as the table's
//! columns, and its row count from the log's statistics), by the same DataFusion expressions a
//! scan would use, so the operators mean exactly what they mean everywhere else.

use std::collections::HashMap;
use std::sync::Arc;

use deltalake::arrow::array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use deltalake::arrow::compute::{cast_with_options, CastOptions};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::datafusion::dataframe::DataFrame;
use deltalake::datafusion::datasource::MemTable;
use deltalake::datafusion::functions_aggregate::expr_fn::sum;
use deltalake::datafusion::prelude::{Expr, SessionContext};

use super::{exprs, Column};
use crate::auth::ScopedTable;
use crate::error::{PortalError, Result};
use crate::storage::Reads;

/// The row-count column of the partition frame.
const ROWS: &str = "__portal_partition_rows";

/// The caller's partitions as a frame, or `None` when the log cannot answer: a file without a
/// row count, or a partition value that does not read as its column's type.
pub fn frame(state: &ScopedTable, columns: &[Column]) -> Result<Option<DataFrame>> {
    let names = state.partition_columns()?;
    let Some(partition_columns) = names.iter().map(|n| columns.iter().find(|c| &c.name == n)).collect::<Option<Vec<&Column>>>() else {
        return Ok(None);
    };
    let mut rows_by_partition: HashMap<Vec<Option<String>>, i64> = HashMap::new();
    for file in state.candidates(Reads { partition_values: true, rows: true, ..Reads::default() })? {
        let file = file?;
        let Some(rows) = file.rows else { return Ok(None) };
        let key = names.iter().map(|n| file.partition_values.get(n).cloned().flatten()).collect();
        *rows_by_partition.entry(key).or_default() += (rows - file.deleted_rows).max(0);
    }
    let (keys, rows): (Vec<_>, Vec<_>) = rows_by_partition.into_iter().unzip();
    let strict = CastOptions { safe: false, ..Default::default() };
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (i, c) in partition_columns.iter().enumerate() {
        let text = StringArray::from(keys.iter().map(|k: &Vec<Option<String>>| k[i].as_deref()).collect::<Vec<_>>());
        let Ok(typed) = cast_with_options(&text, &c.data_type, &strict) else { return Ok(None) };
        fields.push(Field::new(&c.name, c.data_type.clone(), true));
        arrays.push(typed);
    }
    fields.push(Field::new(ROWS, DataType::Int64, false));
    arrays.push(Arc::new(Int64Array::from(rows)));
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| PortalError::fault("partition frame", e))?;
    let table = MemTable::try_new(schema, vec![vec![batch]])?;
    Ok(Some(SessionContext::new().read_table(Arc::new(table))?))
}

/// Rows of the view: the sum over the partitions it keeps.
pub async fn count(frame: DataFrame, predicate: &Expr) -> Result<u64> {
    let batches = frame.filter(predicate.clone())?.aggregate(vec![], vec![sum(exprs::column(ROWS))])?.collect().await?;
    let total = batches
        .first()
        .and_then(|b| b.column(0).as_any().downcast_ref::<Int64Array>().filter(|a| !a.is_null(0)).map(|a| a.value(0)))
        .unwrap_or(0);
    Ok(total.max(0) as u64)
}

/// What a facet counts over the partition frame: the rows each partition stands for.
pub fn rows() -> Expr {
    sum(exprs::column(ROWS))
}
