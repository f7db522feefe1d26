//! Reading Delta tables: a snapshot at a version or time, its files, and its commits.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use deltalake::kernel::{LogicalFileView, Metadata, Protocol};
use deltalake::logstore::{LogStore, LogStoreRef};
use deltalake::{DeltaTable, DeltaTableError};
use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use serde_json::Value;
use url::Url;

use super::file_texts::FileTexts;
use super::lean::{checkpoint_over_budget, LeanSnapshot};
use super::location::table_url;
use super::partitions::{PartitionIndex, PartitionValues};
use super::snapshots::Cached;
use super::stores::{StoreRoot, Stores};
use super::versions::{check_version, resolve_timestamp, Direction};
use crate::catalog::SharedTable;
use crate::error::{PortalError, Result};

/// Which snapshot to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    Latest,
    Version(i64),
    Timestamp(DateTime<Utc>),
}

/// A live data file of a snapshot, or a file named by a commit.
#[derive(Clone, Debug)]
pub struct FileAction {
    /// The path as in the log (decoded), relative to the table root.
    pub path: String,
    pub size: i64,
    pub partition_values: HashMap<String, Option<String>>,
    /// The log's JSON-encoded statistics string.
    pub stats: Option<String>,
    /// Rows of the file that a deletion vector removed (0 without one).
    pub deleted_rows: i64,
    /// The original log action (`add`, `remove` or `cdc` body), for the delta response format;
    /// `Null` when not asked for.
    pub raw: Value,
}

/// What choosing among a snapshot's files reads of each (see [`TableState::candidates`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Reads {
    pub partition_values: bool,
    /// The statistics as the log's JSON.
    pub stats: bool,
    /// The row count and the rows deletion vectors removed.
    pub rows: bool,
}

/// A live file as a query chooses among them: its position in the snapshot and what
/// [`Reads`] asked for (the other fields are left empty).
#[derive(Clone, Debug)]
pub struct Candidate {
    pub position: u32,
    pub size: i64,
    /// The row count the log states (before deletion vectors), when it states one.
    pub rows: Option<i64>,
    pub deleted_rows: i64,
    /// Shared by the files of one partition.
    pub partition_values: Arc<PartitionValues>,
    pub stats: Option<String>,
}

/// A top-level column of a table's schema.
#[derive(Clone, Debug)]
pub struct DeltaColumn {
    pub name: String,
    /// `string`, `long`, `decimal(10,2)`, `timestamp`; `struct`, `array`, `map` for nested.
    pub type_name: String,
    pub nullable: bool,
    pub comment: Option<String>,
}

/// One commit of the log.
#[derive(Clone, Debug)]
pub struct Commit {
    pub version: i64,
    pub timestamp: i64,
    pub actions: Vec<Value>,
}

/// Where a snapshot's files are read from.
enum Source {
    /// Loaded with its files, kept by the cache while it fits.
    Loaded(Arc<Cached>),
    /// Too large to keep: its files are read from the log on each listing ([`super::lean`]).
    Lean(LeanSnapshot),
}

/// A file listing, one file at a time.
type Files<'a, T> = Box<dyn Iterator<Item = Result<T>> + 'a>;

/// A snapshot of a table.
pub struct TableState {
    source: Source,
    /// The bucket and key prefix of an object-store table (`None` for a local one).
    root: Option<StoreRoot>,
    /// Physical → logical column names, for tables with column mapping (the log keys partition
    /// values by physical name; scopes and predicates speak logical names).
    logical_names: HashMap<String, String>,
}

impl TableState {
    /// The snapshot with its files loaded, as DataFusion scans need it.
    pub async fn open(stores: &Stores, location: &str, at: At) -> Result<Self> {
        Self::open_as(stores, location, at, false).await
    }

    /// The snapshot for listing its files: a table too large to keep loaded is read as a stream
    /// ([`super::lean`]), so [`delta`](Self::delta) is not available and listings block (call
    /// [`candidates`](Self::candidates) and [`files_at`](Self::files_at) from a thread of their own).
    pub async fn open_for_listing(stores: &Stores, location: &str, at: At) -> Result<Self> {
        Self::open_as(stores, location, at, true).await
    }

    async fn open_as(stores: &Stores, location: &str, at: At, may_stream: bool) -> Result<Self> {
        let url = table_url(location)?;
        let root = match url.scheme() {
            "file" => None,
            _ => Some(stores.root(&url)?),
        };
        let loaded = Self::load(stores, root.as_ref(), &url, location, at, may_stream).await;
        let source = match (loaded, &root) {
            (Ok(source), _) => source,
            // A store's refusal reads better from one listing of the log than from deltalake's error.
            (
                Err(e @ (PortalError::Delta(_) | PortalError::NotATable(_) | PortalError::Storage(_) | PortalError::Store { .. })),
                Some(root),
            ) => {
                tracing::warn!(%location, error = %e, "object-store table did not open");
                return Err(stores.diagnose(location, root).await);
            }
            (Err(e), _) => return Err(e),
        };
        let mut state = Self { source, root, logical_names: HashMap::new() };
        let schema: Value = serde_json::from_str(state.meta()?.schema_string()).map_err(|e| PortalError::fault("schemaString", e))?;
        state.logical_names = schema["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| {
                Some((f["metadata"]["delta.columnMapping.physicalName"].as_str()?.to_string(), f["name"].as_str()?.to_string()))
            })
            .collect();
        Ok(state)
    }

    /// The snapshot from the cache (see [`super::snapshots`]), or read from the log; read as a
    /// stream when `may_stream` and the table is too large to keep.
    async fn load(stores: &Stores, root: Option<&StoreRoot>, url: &Url, location: &str, at: At, may_stream: bool) -> Result<Source> {
        let builder = || -> Result<deltalake::DeltaTableBuilder> {
            let b = deltalake::DeltaTableBuilder::from_url(url.clone()).map_err(|e| table_error(e, location, None))?;
            Ok(match root {
                Some(root) => b.with_storage_backend(root.bucket.store.clone(), url.clone()),
                None => b,
            })
        };
        let version = match at {
            At::Latest => None,
            At::Version(v) => Some(check_version(&log_times(builder()?, location).await?, v)?),
            At::Timestamp(t) => {
                Some(resolve_timestamp(&log_times(builder()?, location).await?, t.timestamp_millis(), Direction::AtOrBefore)?)
            }
        };
        let snapshots = stores.snapshots();
        if may_stream && !snapshots.holds(location, version) {
            let log_store = builder()?.build_storage()?;
            if snapshots.was_over_budget(location) || checkpoint_over_budget(&log_store, snapshots.budget()).await {
                let at = version.map(|v| u64::try_from(v).unwrap_or_default());
                let lean = LeanSnapshot::open(log_store, at).await.map_err(|e| table_error(e, location, version))?;
                snapshots.count_streamed();
                return Ok(Source::Lean(lean));
            }
        }
        let version = match version {
            None => {
                let load = || async { builder()?.load().await.map_err(|e| table_error(e, location, None)) };
                let refresh = |mut table: DeltaTable| async move {
                    let cached = table.version().unwrap_or_default();
                    let store = table.log_store();
                    let commit = store.log_path().clone().join(format!("{cached:020}.json"));
                    store.object_store(None).head(&commit).await.map_err(|e| PortalError::store("the cached version's commit", e))?;
                    table.update_incremental(None).await.map_err(|e| table_error(e, location, None))?;
                    Ok(table)
                };
                return Ok(Source::Loaded(snapshots.latest(location, load, refresh).await?));
            }
            Some(version) => version,
        };
        let load = || async {
            let v = u64::try_from(version).map_err(|_| PortalError::InvalidParameter(format!("version {version} must not be negative")))?;
            builder()?.with_version(v).load().await.map_err(|e| table_error(e, location, Some(version)))
        };
        Ok(Source::Loaded(snapshots.at_version(location, version, load).await?))
    }

    /// Opens a shared table for a partner. A broken location is the provider's problem: it is
    /// logged in full and reported without revealing where the data lives.
    /// `for_listing` as [`open_for_listing`](Self::open_for_listing).
    pub async fn open_shared(stores: &Stores, table: &SharedTable, at: At, for_listing: bool) -> Result<Self> {
        Self::open_as(stores, &table.location, at, for_listing).await.map_err(|e| match e {
            PortalError::NotATable(detail) => {
                tracing::error!(table = %table.qualified_name(), %detail, "shared table cannot be read");
                PortalError::TableUnavailable(format!(
                    "table {} cannot be read right now (table files missing); please contact your data provider",
                    table.qualified_name()
                ))
            }
            other => other,
        })
    }

    /// The bucket and key prefix of an object-store table; `None` for a local one.
    pub fn store_root(&self) -> Option<&StoreRoot> {
        self.root.as_ref()
    }

    /// The loaded `deltalake` table, for building a DataFusion table provider; not there for a
    /// table [opened for listing](Self::open_for_listing) and read as a stream.
    pub fn delta(&self) -> Result<&DeltaTable> {
        match &self.source {
            Source::Loaded(cached) => Ok(&cached.table),
            Source::Lean(_) => Err(PortalError::Internal("a table opened for listing has no loaded snapshot".into())),
        }
    }

    fn loaded(&self) -> Option<&Arc<Cached>> {
        match &self.source {
            Source::Loaded(cached) => Some(cached),
            Source::Lean(_) => None,
        }
    }

    /// Partition values keyed by logical column name.
    pub fn logical(&self, values: HashMap<String, Option<String>>) -> HashMap<String, Option<String>> {
        if self.logical_names.is_empty() {
            return values;
        }
        values.into_iter().map(|(k, v)| (self.logical_names.get(&k).cloned().unwrap_or(k), v)).collect()
    }

    pub fn version(&self) -> i64 {
        match &self.source {
            Source::Loaded(cached) => cached.table.version().unwrap_or(0) as i64,
            Source::Lean(lean) => lean.version(),
        }
    }

    fn meta(&self) -> Result<&Metadata> {
        match &self.source {
            Source::Loaded(cached) => Ok(cached.table.snapshot()?.metadata()),
            Source::Lean(lean) => Ok(lean.metadata()),
        }
    }

    /// The table's log store: its object store reads the table's files by their log paths.
    pub fn log_store(&self) -> LogStoreRef {
        match &self.source {
            Source::Loaded(cached) => cached.table.log_store(),
            Source::Lean(lean) => lean.log_store().clone(),
        }
    }

    /// The live files in the log's order.
    fn views(&self) -> Result<Files<'_, LogicalFileView>> {
        Ok(match &self.source {
            Source::Loaded(cached) => Box::new(cached.table.snapshot()?.log_data().into_iter().map(Ok)),
            Source::Lean(lean) => Box::new(lean.files()),
        })
    }

    /// The Delta `metaData` action, camelCase, as in the log.
    pub fn metadata(&self) -> Result<Value> {
        serde_json::to_value(self.meta()?).map_err(|e| PortalError::fault("table metadata as JSON", e))
    }

    /// The Delta `protocol` action, camelCase, as in the log.
    pub fn protocol(&self) -> Result<Value> {
        let protocol: &Protocol = match &self.source {
            Source::Loaded(cached) => cached.table.snapshot()?.protocol(),
            Source::Lean(lean) => lean.protocol(),
        };
        serde_json::to_value(protocol).map_err(|e| PortalError::fault("table protocol as JSON", e))
    }

    /// Reader features the parquet response format cannot express.
    pub fn advanced_features(&self) -> Result<Vec<String>> {
        let protocol = self.protocol()?;
        let mut features: Vec<String> = protocol["readerFeatures"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|f| matches!(*f, "deletionVectors" | "columnMapping"))
            .map(String::from)
            .collect();
        let mapping = &self.metadata()?["configuration"]["delta.columnMapping.mode"];
        if matches!(mapping.as_str(), Some("name" | "id")) && !features.iter().any(|f| f == "columnMapping") {
            features.push("columnMapping".into());
        }
        Ok(features)
    }

    pub fn cdf_enabled(&self) -> Result<bool> {
        Ok(self.metadata()?["configuration"]["delta.enableChangeDataFeed"].as_str() == Some("true"))
    }

    pub fn partition_columns(&self) -> Result<Vec<String>> {
        Ok(self.meta()?.partition_columns().to_vec())
    }

    /// The top-level columns as the schema declares them.
    pub fn columns(&self) -> Result<Vec<DeltaColumn>> {
        let schema: Value = serde_json::from_str(self.meta()?.schema_string()).map_err(|e| PortalError::fault("schemaString", e))?;
        Ok(schema["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| {
                Some(DeltaColumn {
                    name: f["name"].as_str()?.to_string(),
                    type_name: f["type"].as_str().unwrap_or_else(|| f["type"]["type"].as_str().unwrap_or("struct")).to_string(),
                    nullable: f["nullable"].as_bool().unwrap_or(true),
                    comment: f["metadata"]["comment"].as_str().map(String::from),
                })
            })
            .collect())
    }

    /// Column name → Delta type name (`long`, `string`, `date`, …) of the top-level fields.
    pub fn column_types(&self) -> Result<HashMap<String, String>> {
        Ok(self.columns()?.into_iter().map(|c| (c.name, c.type_name)).collect())
    }

    /// The live files one at a time as a query chooses among them, each with its position in
    /// the log's order (fixed for one snapshot: [`files_at`](Self::files_at) finds them again).
    /// Only what `reads` names is built; a query of every file of a loaded snapshot builds
    /// nothing per file.
    pub fn candidates(&self, reads: Reads) -> Result<Files<'_, Candidate>> {
        let none = Arc::new(PartitionValues::new());
        let Some(cached) = self.loaded() else {
            // Read as a stream: everything comes from the file's action as it passes.
            return Ok(Box::new(self.views()?.zip(0u32..).map(move |(f, position)| {
                let f = f?;
                let values = if reads.partition_values { Arc::new(self.logical(f.partition_values_map())) } else { none.clone() };
                Ok(candidate(&f, position, reads, values))
            })));
        };
        let partitions = if reads.partition_values { Some(self.partitions(cached)?) } else { None };
        let values = move |position| partitions.as_ref().map_or_else(|| none.clone(), |p| p.of(position));
        if !reads.rows && !reads.stats {
            // Sizes and partition values only: both are kept with the snapshot, the log's
            // batches are not read at all.
            let sizes = self.sizes(cached)?;
            return Ok(Box::new((0..sizes.len() as u32).map(move |position| {
                Ok(Candidate {
                    position,
                    size: sizes[position as usize],
                    rows: None,
                    deleted_rows: 0,
                    partition_values: values(position),
                    stats: None,
                })
            })));
        }
        Ok(Box::new(self.views()?.zip(0u32..).map(move |(f, position)| Ok(candidate(&f?, position, reads, values(position))))))
    }

    /// Every file's size, read once per loaded snapshot.
    fn sizes(&self, cached: &Cached) -> Result<Arc<[i64]>> {
        cached.sizes(|| self.views()?.map(|f| f.map(|f| f.size())).collect())
    }

    /// Every file's partition values, read once per loaded snapshot ([`super::partitions`]).
    fn partitions(&self, cached: &Cached) -> Result<Arc<PartitionIndex>> {
        cached.partitions(|| {
            let values = self.views()?.map(|f| f.map(|f| self.logical(f.partition_values_map()))).collect::<Result<Vec<_>>>()?;
            Ok(PartitionIndex::build(values.into_iter()))
        })
    }

    /// The files at `positions` (ascending, from [`candidates`](Self::candidates)
    /// of this snapshot), built one at a time as the iterator is read.
    pub fn files_at<'s>(&'s self, positions: &'s [u32], with_log_actions: bool) -> Result<Files<'s, FileAction>> {
        let mut wanted = positions.iter().copied().peekable();
        Ok(Box::new(
            self.views()?
                .zip(0u32..)
                .map_while(move |(f, i)| {
                    let next = *wanted.peek()?;
                    match f {
                        Err(e) => Some(Some(Err(e))),
                        Ok(f) if next == i => {
                            wanted.next();
                            Some(Some(Ok(self.file_action(&f, with_log_actions))))
                        }
                        Ok(_) => Some(None),
                    }
                })
                .flatten(),
        ))
    }

    /// Text rendered from every file of this snapshot as `kind` (see [`render`](Self::render)), once it is done.
    pub fn rendering(&self, kind: &'static str) -> Option<Arc<FileTexts>> {
        self.loaded()?.rendering(kind)
    }

    /// Renders every file of this snapshot (`render` appends a file's fragment) and keeps the
    /// result with it while it is cached. Blocking; `None` when the cache does not hold the
    /// snapshot or another request is rendering it. `kind` names one way of rendering.
    pub fn render(
        &self,
        stores: &Stores,
        kind: &'static str,
        render: impl FnMut(&FileAction, &mut Vec<u8>),
    ) -> Result<Option<Arc<FileTexts>>> {
        let Some(cached) = self.loaded() else { return Ok(None) };
        stores.snapshots().render(cached, kind, || {
            let files = cached.table.snapshot()?.log_data().into_iter().map(|f| self.file_action(&f, false));
            Ok(FileTexts::render(files, render))
        })
    }

    fn file_action(&self, f: &LogicalFileView, with_log_action: bool) -> FileAction {
        #[allow(deprecated)] // the Add action is exactly what the delta response format re-emits
        let raw = if with_log_action { serde_json::to_value(f.add_action()).unwrap_or(Value::Null) } else { Value::Null };
        FileAction {
            path: f.path().into_owned(),
            size: f.size(),
            partition_values: self.logical(f.partition_values_map()),
            stats: f.stats(),
            deleted_rows: f.deletion_vector_descriptor().map_or(0, |dv| dv.cardinality),
            raw,
        }
    }

    /// The table's commits from `start` to `end` (inclusive), read from the log; `history` is
    /// what [`history`](Self::history) returned, passed in so the log is listed once.
    pub async fn commits(&self, history: &[(i64, i64)], start: i64, end: i64) -> Result<Vec<Commit>> {
        let store = self.log_store();
        let mut commits = Vec::new();
        for version in start..=end {
            let Some(bytes) = store.read_commit_entry(version as u64).await? else {
                return Err(PortalError::InvalidParameter(format!("version {version} is no longer in the table's log")));
            };
            let actions = bytes
                .split(|b| *b == b'\n')
                .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
                .map(serde_json::from_slice)
                .collect::<std::result::Result<Vec<Value>, _>>()
                .map_err(|e| PortalError::store(format!("commit {version}"), e))?;
            let timestamp = history.iter().find(|(v, _)| *v == version).map(|(_, t)| *t).unwrap_or_default();
            commits.push(Commit { version, timestamp, actions });
        }
        Ok(commits)
    }

    /// Every commit still in the log with its timestamp, oldest first.
    pub async fn history(&self) -> Result<Vec<(i64, i64)>> {
        commit_times(self.log_store().as_ref()).await
    }
}

/// A file as [`TableState::candidates`] hands it out, with what `reads` asks for.
fn candidate(f: &LogicalFileView, position: u32, reads: Reads, partition_values: Arc<PartitionValues>) -> Candidate {
    Candidate {
        position,
        size: f.size(),
        rows: if reads.rows { f.num_records().and_then(|n| i64::try_from(n).ok()) } else { None },
        deleted_rows: if reads.rows { f.deletion_vector_descriptor().map_or(0, |dv| dv.cardinality) } else { 0 },
        partition_values,
        stats: if reads.stats { f.stats() } else { None },
    }
}

/// Commit versions and their timestamps (the commit file's modification time, as the reference
/// server and deltalake's own time travel use), oldest first.
async fn commit_times(store: &dyn LogStore) -> Result<Vec<(i64, i64)>> {
    let object_store = store.object_store(None);
    let metas: Vec<_> =
        object_store.list(Some(store.log_path())).try_collect().await.map_err(|e| PortalError::store("listing the table log", e))?;
    let mut times: Vec<(i64, i64)> = metas
        .iter()
        .filter_map(|m| {
            let name = m.location.filename()?;
            let version = name.strip_suffix(".json")?.parse::<i64>().ok()?;
            Some((version, m.last_modified.timestamp_millis()))
        })
        .collect();
    times.sort_unstable();
    Ok(times)
}

/// The commits of a table; a location without any is not a Delta table.
async fn log_times(builder: deltalake::DeltaTableBuilder, location: &str) -> Result<Vec<(i64, i64)>> {
    let table = builder.build()?;
    let times = commit_times(table.log_store().as_ref()).await?;
    if times.is_empty() {
        return Err(PortalError::NotATable(format!("`{location}` is not a Delta table")));
    }
    Ok(times)
}

fn table_error(e: DeltaTableError, location: &str, version: Option<i64>) -> PortalError {
    match e {
        DeltaTableError::NotATable(_) => PortalError::NotATable(format!("`{location}` is not a Delta table")),
        DeltaTableError::InvalidVersion(_) => match version {
            Some(v) => PortalError::InvalidParameter(format!("version {v} does not exist or is no longer available")),
            None => PortalError::NotATable(format!("`{location}` is not a Delta table")),
        },
        other => PortalError::Delta(other),
    }
}
