//! A snapshot read as plain parquet: DataFusion's own parquet scan over the snapshot's file list,
//! for tables whose files need no Delta decoding (no deletion vectors, no column mapping, every
//! file under the table root). deltalake's scan replays the snapshot through the Delta kernel on
//! every query and rewrites each batch to add partition values; here the file list is the
//! scoped snapshot's, partition values are the scan's partition columns, and files the log's
//! statistics rule out are never opened. Files are chosen when a scan is planned: first by
//! partition values (kept with the cached snapshot), then by the statistics of those left, so a
//! view of one partition of a 50,000-file table reads the log's actions of that partition only.
//! Other tables keep deltalake's scan.

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use deltalake::arrow::array::StringArray;
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{Field, FieldRef, Schema, SchemaRef};
use deltalake::datafusion::catalog::{Session, TableProvider};
use deltalake::datafusion::common::{DFSchema, DataFusionError, Result as DfResult, ScalarValue};
use deltalake::datafusion::datasource::listing::PartitionedFile;
use deltalake::datafusion::datasource::physical_plan::parquet::CachedParquetFileReaderFactory;
use deltalake::datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use deltalake::datafusion::datasource::source::DataSourceExec;
use deltalake::datafusion::datasource::table_schema::TableSchema;
use deltalake::datafusion::execution::object_store::ObjectStoreUrl;
use deltalake::datafusion::logical_expr::utils::conjunction;
use deltalake::datafusion::logical_expr::{TableProviderFilterPushDown, TableType};
use deltalake::datafusion::physical_optimizer::pruning::PruningPredicateBuilder;
use deltalake::datafusion::physical_plan::empty::EmptyExec;
use deltalake::datafusion::physical_plan::ExecutionPlan;
use deltalake::datafusion::prelude::Expr;
use deltalake::logstore::LogStoreRef;
use deltalake::{ObjectMeta, ObjectStore, Path};

use super::file_stats::FileStats;
use crate::auth::ScopedTable;
use crate::error::{PortalError, Result};
use crate::storage::{FileAction, Reads};

/// Views over more files keep deltalake's scan, which holds a file list as Arrow batches: the
/// files a scan keeps are built one by one here, with their statistics as text.
const MAX_FILES: usize = 100_000;

/// The caller's files of one snapshot as a DataFusion table.
pub struct ParquetTable {
    /// The data columns, then the partition columns.
    schema: SchemaRef,
    file_schema: SchemaRef,
    partition_fields: Vec<FieldRef>,
    partition_columns: Vec<String>,
    state: Arc<ScopedTable>,
}

impl ParquetTable {
    /// The scoped snapshot as plain parquet with `schema`'s column types (deltalake's own, so
    /// every view sees the same types either way); `None` when the table needs deltalake's scan.
    pub fn of(state: &Arc<ScopedTable>, schema: &Schema) -> Result<Option<Self>> {
        if !state.advanced_features()?.is_empty() || state.candidates(Reads::default())?.nth(MAX_FILES).is_some() {
            return Ok(None);
        }
        let partition_columns = state.partition_columns()?;
        // Files may predate a column or declare it optional: every column reads as nullable.
        let nullable = |f: &Field| Arc::new(f.clone().with_nullable(true));
        let (parts, data): (Vec<&FieldRef>, Vec<&FieldRef>) =
            schema.fields().iter().partition(|f| partition_columns.iter().any(|p| p == f.name()));
        let file_schema = Arc::new(Schema::new(data.into_iter().map(|f| nullable(f)).collect::<Vec<_>>()));
        let partition_fields: Vec<FieldRef> =
            partition_columns.iter().filter_map(|p| parts.iter().find(|f| f.name() == p).map(|f| nullable(f))).collect();
        let mut all: Vec<FieldRef> = file_schema.fields().iter().cloned().collect();
        all.extend(partition_fields.iter().cloned());
        Ok(Some(Self { schema: Arc::new(Schema::new(all)), file_schema, partition_fields, partition_columns, state: state.clone() }))
    }

    /// A file as the scan reads it: its path in the table's store and its typed partition values.
    fn partitioned(&self, f: &FileAction) -> DfResult<PartitionedFile> {
        let location = Path::parse(&f.path).unwrap_or_else(|_| Path::from(f.path.as_str()));
        let meta =
            ObjectMeta { location, last_modified: SystemTime::UNIX_EPOCH.into(), size: f.size.max(0) as u64, e_tag: None, version: None };
        let mut file = PartitionedFile::new_from_meta(meta);
        file.partition_values = self
            .partition_fields
            .iter()
            .map(|field| {
                let text = StringArray::from(vec![f.partition_values.get(field.name()).cloned().flatten()]);
                ScalarValue::try_from_array(&cast(&text, field.data_type())?, 0)
            })
            .collect::<DfResult<_>>()?;
        Ok(file)
    }

    /// The files `filters` may keep, in the log's order: judged first by partition values, then
    /// by the statistics of the files left.
    pub(super) fn pruned(&self, state: &dyn Session, filters: &[Expr]) -> Result<Vec<FileAction>> {
        let pruning = conjunction(filters.iter().cloned()).and_then(|predicate| {
            let physical = state.create_physical_expr(predicate, &DFSchema::try_from(self.schema.clone()).ok()?).ok()?;
            PruningPredicateBuilder::new().with_file_schema(self.schema.clone()).build(physical)
        });
        let types = |name: &str| self.schema.field_with_name(name).ok().map(|f| f.data_type().clone());
        let listed = self.state.candidates(Reads { partition_values: true, ..Reads::default() })?.collect::<Result<Vec<_>>>()?;
        let positions: Vec<u32> = match &pruning {
            None => listed.iter().map(|c| c.position).collect(),
            Some(pruning) => {
                let by_partition =
                    FileStats::new(listed.iter().map(|c| (c.partition_values.as_ref(), None)), &self.partition_columns, &types);
                let keep = pruning.prune(&by_partition).map_err(PortalError::from)?;
                listed.iter().zip(keep).filter_map(|(c, keep)| keep.then_some(c.position)).collect()
            }
        };
        let files = self.state.files_at(&positions, false)?.collect::<Result<Vec<FileAction>>>()?;
        let Some(pruning) = pruning else { return Ok(files) };
        let by_stats = FileStats::new(files.iter().map(|f| (&f.partition_values, f.stats.as_deref())), &self.partition_columns, &types);
        let keep = pruning.prune(&by_stats).map_err(PortalError::from)?;
        Ok(files.into_iter().zip(keep).filter_map(|(f, keep)| keep.then_some(f)).collect())
    }
}

impl std::fmt::Debug for ParquetTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetTable").field("version", &self.state.version()).field("schema", &self.schema).finish()
    }
}

/// The table's store (rooted at the table) in the session's runtime, registered once.
fn registered(state: &dyn Session, log_store: &LogStoreRef) -> DfResult<(ObjectStoreUrl, Arc<dyn ObjectStore>)> {
    let url = log_store.object_store_url();
    let runtime = state.runtime_env();
    if let Ok(store) = runtime.object_store(&url) {
        return Ok((url, store));
    }
    let store = log_store.object_store(None);
    runtime.register_object_store(url.as_ref(), store.clone());
    Ok((url, store))
}

/// `files` in `n` runs of consecutive files of about equal bytes (the first run first).
fn groups(files: Vec<PartitionedFile>, n: usize) -> Vec<FileGroup> {
    let total: u64 = files.iter().map(|f| f.object_meta.size).sum();
    let per = total.div_ceil(n.max(1) as u64).max(1);
    let mut groups: Vec<Vec<PartitionedFile>> = vec![Vec::new()];
    let mut filled = 0;
    for f in files {
        if filled >= per && groups.len() < n {
            groups.push(Vec::new());
            filled = 0;
        }
        filled += f.object_meta.size;
        groups.last_mut().expect("one group at least").push(f);
    }
    groups.into_iter().filter(|g| !g.is_empty()).map(FileGroup::new).collect()
}

#[async_trait]
impl TableProvider for ParquetTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    /// Filters prune files here and rows in the parquet scan; DataFusion keeps checking them.
    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let kept = self.pruned(state, filters).map_err(|e| DataFusionError::External(Box::new(e)))?;
        // Deletion vectors need the protocol's reader feature, which `of` sends to deltalake's
        // scan; a file named by a full URL lives outside the table's store.
        if kept.iter().any(|f| f.path.contains("://") || f.deleted_rows > 0) {
            return Err(DataFusionError::Plan(
                "a file of this table is outside its directory (a shallow clone?); the portal cannot read it".into(),
            ));
        }
        if kept.is_empty() {
            let schema = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => self.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        let files = kept.iter().map(|f| self.partitioned(f)).collect::<DfResult<Vec<_>>>()?;
        let streams = state.config().target_partitions();
        let table_schema = TableSchema::builder(self.file_schema.clone()).with_table_partition_cols(self.partition_fields.clone()).build();
        let (store_url, store) = registered(state, &self.state.log_store())?;
        let footers = state.runtime_env().cache_manager.get_file_metadata_cache();
        let source = ParquetSource::new(table_schema)
            .with_table_parquet_options(state.table_options().parquet.clone())
            .with_parquet_file_reader_factory(Arc::new(CachedParquetFileReaderFactory::new(store, footers)));
        let config = FileScanConfigBuilder::new(store_url, Arc::new(source))
            .with_file_groups(groups(files, streams))
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            // One stream reads the files in the log's order, and pages continue where it stopped.
            .with_preserve_order(streams == 1)
            .build();
        Ok(DataSourceExec::from_data_source(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_split_into_runs_of_similar_bytes_in_order() {
        let files: Vec<PartitionedFile> = (0..10).map(|i| PartitionedFile::new(format!("f{i}"), 100)).collect();
        let split = groups(files.clone(), 3);
        assert_eq!(split.len(), 3);
        let names: Vec<String> = split.iter().flat_map(|g| g.iter().map(|f| f.object_meta.location.to_string())).collect();
        assert_eq!(names, (0..10).map(|i| format!("f{i}")).collect::<Vec<_>>());
        assert_eq!(groups(files.clone(), 1).len(), 1);
        assert_eq!(groups(files[..2].to_vec(), 8).len(), 2);
    }
}
