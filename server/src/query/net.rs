//! Net changes (`_net=1` on a view of changes): each changed key once, in its latest state.
//! Of the change rows the recipient's scope keeps, the pre-images go (a post-image follows
//! each), then per key the row of the latest commit stays: an insert or post-image is the key's
//! state now, a delete says it is gone. Within one commit a delete and an insert of the same key
//! (a MERGE that replaced the row) leave the insert. The view's filters apply after that, to
//! each key's latest state.

use deltalake::datafusion::dataframe::DataFrame;
use deltalake::datafusion::functions_window::expr_fn::row_number;
use deltalake::datafusion::logical_expr::{when, ExprFunctionExt};
use deltalake::datafusion::prelude::lit;

use super::exprs::column;
use super::Column;
use crate::error::{PortalError, Result};

/// The window's own column, never shown.
pub const RANK: &str = "_net_rank";

/// The key columns a table declares, checked against the columns of its changes.
pub fn keys<'a>(declared: &'a [String], columns: &[Column], table: &str) -> Result<&'a [String]> {
    if declared.is_empty() {
        return Err(PortalError::InvalidParameter(format!(
            "net changes of {table} need its key columns, and its data provider has not declared them; download every change instead (without `_net`)"
        )));
    }
    if let Some(missing) = declared.iter().find(|k| !columns.iter().any(|c| &c.name == *k)) {
        return Err(PortalError::InvalidParameter(format!(
            "net changes of {table} are keyed by `{missing}`, which the table no longer has; ask its data provider to declare its key columns again"
        )));
    }
    Ok(declared)
}

/// `changes` (rows of a change feed), each key's latest change only.
pub fn latest_per_key(changes: DataFrame, keys: &[String]) -> Result<DataFrame> {
    let change_type = column("_change_type");
    let latest = row_number()
        .partition_by(keys.iter().map(|k| column(k)).collect())
        .order_by(vec![
            column("_commit_version").sort(false, false),
            when(change_type.clone().eq(lit("delete")), lit(1)).otherwise(lit(0))?.sort(true, false),
        ])
        .build()?
        .alias(RANK);
    Ok(changes.filter(change_type.not_eq(lit("update_preimage")))?.window(vec![latest])?.filter(column(RANK).eq(lit(1u64)))?)
}
