//! Views of changes (`_since`, `_since_timestamp`): the rows changed in the commits after a
//! version, read from the table's change data feed by deltalake's CDF scan, with the columns
//! `_change_type`, `_commit_version` and `_commit_timestamp`: the rows the protocol's
//! `/changes` describes. The frame filters them like the table itself: scope first, then the
//! view's filters.

use std::collections::HashMap;
use std::sync::Arc;

use app::contract::grammar::{Since, TypeClass, CHANGE_COLUMNS};
use async_trait::async_trait;
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::datafusion::catalog::{Session, TableProvider};
use deltalake::datafusion::common::tree_node::{Transformed, TreeNode};
use deltalake::datafusion::common::Result as DfResult;
use deltalake::datafusion::datasource::physical_plan::{FileGroup, FileScanConfig};
use deltalake::datafusion::datasource::source::DataSourceExec;
use deltalake::datafusion::logical_expr::{TableProviderFilterPushDown, TableType};
use deltalake::datafusion::physical_plan::empty::EmptyExec;
use deltalake::datafusion::physical_plan::union::UnionExec;
use deltalake::datafusion::physical_plan::ExecutionPlan;
use deltalake::datafusion::prelude::Expr;
use deltalake::delta_datafusion::DeltaCdfTableProvider;
use deltalake::Path;

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

/// The commits `since` names, up to the version `state` is at, with the log's commit times it
/// read them from; a 400 saying why when the table cannot give its changes.
pub async fn range(t: &AuthorizedTable, state: &ScopedTable, since: &Since) -> Result<(ChangeRange, Vec<(i64, i64)>)> {
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
    // deltalake's change scan finds no file at all in Azure Blob Storage (and is not tested on
    // GCS here): refused rather than answered empty.
    let location = t.table.location.to_ascii_lowercase();
    if !(location.starts_with("s3://") || location.starts_with("s3a://") || !location.contains("://")) {
        return Err(PortalError::InvalidParameter(format!(
            "changes of {qualified} (stored in {}) can be read with a Delta Sharing client's change feed, not in the portal yet",
            location.split("://").next().unwrap_or("an object store")
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
    Ok((ChangeRange { first, last }, history))
}

/// deltalake's change data feed scan of `range` (`history`: the log's commit times).
pub async fn provider(state: &ScopedTable, range: ChangeRange, history: &[(i64, i64)]) -> Result<Arc<dyn TableProvider>> {
    let cdf = state
        .delta()?
        .clone()
        .scan_cdf()
        .with_starting_version(range.first.max(0) as u64)
        .with_ending_version(range.last.max(0) as u64)
        .with_allow_out_of_range();
    let scan = DeltaCdfTableProvider::try_new(cdf).map_err(|e| PortalError::fault("change data feed scan", e))?;
    Ok(Arc::new(ChangeScan { scan, keys: Arc::new(file_keys(state, range, history).await?) }))
}

/// Each file of the range's changes by its name: the key it has in the store, relative to the
/// table (the log's path, decoded).
async fn file_keys(state: &ScopedTable, range: ChangeRange, history: &[(i64, i64)]) -> Result<HashMap<String, String>> {
    let mut keys = HashMap::new();
    if range.is_empty() {
        return Ok(keys);
    }
    for commit in state.commits(history, range.first, range.last).await? {
        for (_, file) in state.changes(&commit, true) {
            if let Some(name) = file.path.rsplit('/').next() {
                keys.insert(name.to_string(), file.path.clone());
            }
        }
    }
    Ok(keys)
}

/// The scan with its files at their keys in the store. deltalake's change scan turns each log
/// path into an object path its own way, which for a partition value with a space, `=`, `%` or
/// `ü` names an object that does not exist (a 500 on S3, no rows at all on Azure). Each file is
/// put back at its key, found by its name, under whatever prefix the scan gave it.
fn store_keys(files: &DataSourceExec, keys: &HashMap<String, String>) -> Option<Arc<dyn ExecutionPlan>> {
    let config = files.data_source().downcast_ref::<FileScanConfig>()?;
    let mut config = config.clone();
    config.file_groups = config
        .file_groups
        .iter()
        .map(|group| {
            let files = group.iter().cloned().map(|mut file| {
                if let Some(location) = store_key(file.object_meta.location.as_ref(), keys) {
                    file.object_meta.location = location;
                }
                file
            });
            FileGroup::new(files.collect())
        })
        .collect();
    Some(DataSourceExec::from_data_source(config))
}

/// `location` (a prefix, then the file's path as the scan encoded it) with that path replaced
/// by the file's key.
fn store_key(location: &str, keys: &HashMap<String, String>) -> Option<Path> {
    let key = keys.get(location.rsplit('/').next()?)?;
    let segments: Vec<&str> = location.split('/').collect();
    let prefix = &segments[..segments.len().saturating_sub(key.split('/').count())];
    let full = if prefix.is_empty() { key.clone() } else { format!("{}/{key}", prefix.join("/")) };
    Path::parse(full).ok()
}

fn partitions(plan: &dyn ExecutionPlan) -> usize {
    plan.properties().output_partitioning().partition_count()
}

/// deltalake's change scan (a union of the commits' change, add and remove files), without the
/// inputs that plan no partition at all: the scope or the filters pruned every file of theirs
/// away, and the engine's plan checks refuse them under a sort.
#[derive(Debug)]
struct ChangeScan {
    scan: DeltaCdfTableProvider,
    keys: Arc<HashMap<String, String>>,
}

#[async_trait]
impl TableProvider for ChangeScan {
    fn schema(&self) -> SchemaRef {
        self.scan.schema()
    }

    fn table_type(&self) -> TableType {
        self.scan.table_type()
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DfResult<Vec<TableProviderFilterPushDown>> {
        self.scan.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let plan = self.scan.scan(session, projection, filters, limit).await?;
        // The engine moves a sort below a union, onto each input: an input without partitions
        // (every file pruned) leaves a sort with nothing to read, which its plan checks refuse.
        let plan = plan
            .transform_up(|node| {
                if let Some(files) = node.downcast_ref::<DataSourceExec>() {
                    return Ok(match store_keys(files, &self.keys) {
                        Some(fixed) => Transformed::yes(fixed),
                        None => Transformed::no(node),
                    });
                }
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
