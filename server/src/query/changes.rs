//! Views of changes (`_since`, `_since_timestamp`): the rows changed in the commits after a
//! version, read from the table's change data feed by deltalake's CDF scan, with the columns
//! `_change_type`, `_commit_version` and `_commit_timestamp`: the rows the protocol's
//! `/changes` describes. The frame filters them like the table itself: scope first, then the
//! view's filters.

use std::sync::Arc;

use app::contract::grammar::{Since, TypeClass, CHANGE_COLUMNS};
use async_trait::async_trait;
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::datafusion::catalog::{Session, TableProvider};
use deltalake::datafusion::common::tree_node::{Transformed, TreeNode};
use deltalake::datafusion::common::Result as DfResult;
use deltalake::datafusion::logical_expr::{TableProviderFilterPushDown, TableType};
use deltalake::datafusion::physical_plan::empty::EmptyExec;
use deltalake::datafusion::physical_plan::union::UnionExec;
use deltalake::datafusion::physical_plan::ExecutionPlan;
use deltalake::datafusion::prelude::Expr;
use deltalake::delta_datafusion::DeltaCdfTableProvider;

use super::Column;
use crate::auth::time_travel::{parse_timestamp, require_history};
use crate::auth::{AuthorizedTable, ScopedTable};
use crate::error::{PortalError, Result};
use crate::storage::versions::{resolve_timestamp, Direction};

/// The commits a view of changes reads: versions `first..=last` (empty when `first > last`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangeRange {
    pub first: i64,
    pub last: i64,
}

impl ChangeRange {
    pub fn is_empty(&self) -> bool {
        self.first > self.last
    }
}

/// The commits `since` names, up to the version `state` is at; a 400 saying why when the table
/// cannot give its changes.
pub async fn range(t: &AuthorizedTable, state: &ScopedTable, since: &Since) -> Result<ChangeRange> {
    let qualified = t.table.qualified_name();
    require_history(t).map_err(|_| {
        PortalError::InvalidParameter(format!("changes cannot be read from {qualified}: its data provider shares it without its history"))
    })?;
    if !state.cdf_enabled()? {
        return Err(PortalError::InvalidParameter(format!(
            "changes cannot be read from {qualified}: its change data feed is not turned on (delta.enableChangeDataFeed)"
        )));
    }
    if let Some(feature) = state.advanced_features()?.first() {
        return Err(PortalError::InvalidParameter(format!(
            "changes of {qualified} (a table with {feature}) can be read with a Delta Sharing client's change feed, not in the portal yet"
        )));
    }
    let last = state.version();
    let history = state.history().await?;
    let first = match since {
        Since::Version(v) if *v > last => {
            return Err(PortalError::InvalidParameter(format!("`_since` version {v} is after the latest version of {qualified}, {last}")))
        }
        Since::Version(v) => v + 1,
        Since::Timestamp(text) => resolve_timestamp(&history, parse_timestamp(text, "_since_timestamp")?, Direction::AtOrAfter)?,
    };
    if let Some((earliest, _)) = history.first() {
        if first < *earliest {
            return Err(PortalError::InvalidParameter(format!(
                "the changes before version {earliest} of {qualified} are no longer kept; ask for changes since version {} or later",
                earliest - 1
            )));
        }
    }
    Ok(ChangeRange { first, last })
}

/// deltalake's change data feed scan of `range`.
pub fn provider(state: &ScopedTable, range: ChangeRange) -> Result<Arc<dyn TableProvider>> {
    let cdf = state
        .delta()?
        .clone()
        .scan_cdf()
        .with_starting_version(range.first.max(0) as u64)
        .with_ending_version(range.last.max(0) as u64)
        .with_allow_out_of_range();
    Ok(Arc::new(ChangeScan(DeltaCdfTableProvider::try_new(cdf).map_err(|e| PortalError::fault("change data feed scan", e))?)))
}

fn partitions(plan: &dyn ExecutionPlan) -> usize {
    plan.properties().output_partitioning().partition_count()
}

/// deltalake's change scan (a union of the commits' change, add and remove files), without the
/// inputs that plan no partition at all: the scope or the filters pruned every file of theirs
/// away, and the engine's plan checks refuse them under a sort.
#[derive(Debug)]
struct ChangeScan(DeltaCdfTableProvider);

#[async_trait]
impl TableProvider for ChangeScan {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }

    fn table_type(&self) -> TableType {
        self.0.table_type()
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DfResult<Vec<TableProviderFilterPushDown>> {
        self.0.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let plan = self.0.scan(session, projection, filters, limit).await?;
        // The engine moves a sort below a union, onto each input: an input without partitions
        // (every file pruned) leaves a sort with nothing to read, which its plan checks refuse.
        let plan = plan
            .transform_up(|node| {
                let Some(union) = node.downcast_ref::<UnionExec>() else {
                    return Ok(Transformed::no(node));
                };
                let kept: Vec<_> = union.inputs().iter().filter(|input| partitions(input.as_ref()) > 0).cloned().collect();
                Ok(match kept.len() {
                    n if n == union.inputs().len() => Transformed::no(node),
                    0 => Transformed::yes(Arc::new(EmptyExec::new(node.schema())) as Arc<dyn ExecutionPlan>),
                    _ => Transformed::yes(UnionExec::try_new(kept)?),
                })
            })?
            .data;
        if partitions(plan.as_ref()) == 0 {
            return Ok(Arc::new(EmptyExec::new(plan.schema())));
        }
        Ok(plan)
    }
}

/// The change columns as the engine sees them, typed from the scan's schema.
pub fn columns(provider: &dyn TableProvider) -> Vec<Column> {
    let schema = provider.schema();
    let types = ["string", "long", "timestamp"];
    CHANGE_COLUMNS
        .iter()
        .zip(types)
        .filter_map(|(name, type_name)| {
            let data_type = schema.field_with_name(name).ok()?.data_type().clone();
            Some(Column { name: name.to_string(), type_name: type_name.into(), class: TypeClass::of_delta(type_name), data_type })
        })
        .collect()
}
