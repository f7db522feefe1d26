//! Table previews: a view of the grammar (filters, order, columns, facets, paging, time travel)
//! as a DataFusion plan over the Delta table, with the recipient's row scope as the first filter.
//!
//! Authorization and scope come from [`Access`], exactly as for the sharing protocol.

pub mod catalog;
pub mod cells;
pub mod changes;
mod chart;
mod count;
mod cursor;
mod exprs;
mod file_stats;
#[cfg(test)]
mod fuzz;
mod net;
mod parquet_table;
mod partitions;
#[cfg(test)]
mod plain_tests;
#[cfg(test)]
mod tests;
pub mod values;

use std::sync::Arc;
use std::time::Duration;

use app::contract::grammar::{AsOf, GrammarError, Since, Sort, TableQuery, TypeClass};
use app::contract::{ColumnView, Facet, FacetValue, Grid, TableMeta, VersionView};
use deltalake::arrow::datatypes::DataType;
use deltalake::datafusion::catalog::TableProvider;
use deltalake::datafusion::dataframe::DataFrame;
use deltalake::datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use deltalake::datafusion::execution::SendableRecordBatchStream;
use deltalake::datafusion::functions_aggregate::expr_fn::count as count_of;
use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use deltalake::datafusion::prelude::{lit, Expr, SessionConfig, SessionContext};
use futures::future::try_join_all;
use futures::StreamExt;

use app::contract::charts::ChartData;
use changes::ChangeRange;
use parquet_table::ParquetTable;

use crate::auth::time_travel::snapshot_at;
use crate::auth::{Access, AuthorizedTable, ScopedTable};
use crate::catalog::Recipient;
use crate::error::{PortalError, Result};
use crate::primitives::memory::HandBackOnDrop;
use crate::primitives::time::rfc3339_ms;
use crate::storage::{At, TableState};
use crate::Services;

pub use count::COUNT_CAP;
pub use values::zone as zone_of;

/// Parquet footers (metadata) kept between views, so paging through an object-store table
/// does not fetch every footer again.
const FOOTER_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// The engine's runtime, shared by every view: its bounded footer cache is the point. Entries
/// are keyed by file path and checked against size and modification time.
fn runtime() -> std::sync::Arc<RuntimeEnv> {
    static RUNTIME: std::sync::OnceLock<std::sync::Arc<RuntimeEnv>> = std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            RuntimeEnvBuilder::new()
                .with_metadata_cache_limit(FOOTER_CACHE_BYTES)
                .build_arc()
                .unwrap_or_else(|_| std::sync::Arc::new(RuntimeEnv::default()))
        })
        .clone()
}

/// Distinct values a facet lists.
pub const FACET_SIZE: usize = 30;

/// A column as the engine needs it: the grammar's type family and Arrow's exact type.
#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    pub type_name: String,
    pub class: TypeClass,
    pub data_type: DataType,
}

/// A table view: what the table is (always), and the page of rows (or why not).
pub struct Outcome {
    pub meta: TableMeta,
    pub query: TableQuery,
    pub description: String,
    pub grid: Result<Grid>,
    /// The commits a view of changes read.
    pub changes: Option<ChangeRange>,
    /// The view's chart, when it asks for one (`_chart…`).
    pub chart: Option<Result<ChartData>>,
}

/// A granted table opened at one snapshot: what every read of it starts from. With `changes`,
/// the rows are the commits' changes in that range, not the snapshot's.
struct Opened {
    t: AuthorizedTable,
    state: Arc<ScopedTable>,
    provider: Arc<dyn TableProvider>,
    columns: Vec<Column>,
    meta: TableMeta,
    changes: Option<ChangeRange>,
}

impl Opened {
    async fn at(s: &Services, t: AuthorizedTable, at: At, since: Option<&Since>) -> Result<Self> {
        let state = t.open(&s.stores, at).await?;
        match since {
            Some(since) => {
                let (range, history) = changes::range(&t, &state, since).await?;
                Self::changes_of(t, state, range, &history).await
            }
            None => Self::of(t, state).await,
        }
    }

    async fn of(t: AuthorizedTable, state: ScopedTable) -> Result<Self> {
        let state = Arc::new(state);
        let delta: Arc<dyn TableProvider> = state.delta()?.table_provider().await.map_err(|e| PortalError::fault("table provider", e))?;
        // Plain parquet when the files need no Delta decoding; deltalake's own scan otherwise.
        let provider = match ParquetTable::of(&state, &delta.schema())? {
            Some(plain) => Arc::new(plain),
            None => delta,
        };
        let columns = columns_of(&state, provider.as_ref())?;
        let meta = meta_of(&t, &state, &columns).await?;
        Ok(Self { t, state, provider, columns, meta, changes: None })
    }

    /// The changes of the commits in `range` (up to the snapshot's version).
    async fn changes_of(t: AuthorizedTable, state: ScopedTable, range: ChangeRange, history: &[(i64, i64)]) -> Result<Self> {
        let state = Arc::new(state);
        let provider = changes::provider(&state, range, history).await?;
        let mut columns = columns_of(&state, provider.as_ref())?;
        columns.extend(changes::columns(provider.as_ref()));
        let meta = meta_of(&t, &state, &columns).await?;
        Ok(Self { t, state, provider, columns, meta, changes: Some(range) })
    }

    fn run<'a>(&'a self, s: &'a Services, recipient: &'a Recipient, query: &'a TableQuery) -> Run<'a> {
        let budget = Duration::from_secs(s.settings.query_timeout_secs);
        Run {
            s,
            t: &self.t,
            recipient,
            state: &self.state,
            provider: self.provider.clone(),
            columns: &self.columns,
            query,
            budget,
            changes: self.changes.is_some(),
        }
    }
}

/// Reads one view of a table for a recipient. Errors only for what makes the page itself
/// impossible (not granted, unreadable table); a bad view (`query` the grammar refused, or one
/// the table cannot answer) comes back in `grid`.
pub async fn view(
    s: &Services,
    recipient: &Recipient,
    share: &str,
    schema: &str,
    table: &str,
    query: Result<TableQuery, GrammarError>,
) -> Result<Outcome> {
    let t = Access::new(&s.catalog, recipient).table(share, schema, table).await?;
    let (query, mut problem) = match query {
        Ok(q) => (q, None),
        Err(e) => (TableQuery::default(), Some(PortalError::from(e))),
    };
    let (mut at, mut offset) = (At::Latest, 0);
    if problem.is_none() {
        match position(s, &t, recipient, &query) {
            Ok(p) => (at, offset) = p,
            Err(e) => problem = Some(e),
        }
    }
    let state = match t.open(&s.stores, at).await {
        Ok(state) => state,
        // A version or time the log does not have: show the latest, and say why not the other.
        Err(e) if at != At::Latest && e.status().is_client_error() => {
            problem.get_or_insert(e);
            t.open(&s.stores, At::Latest).await?
        }
        Err(e) => return Err(e),
    };
    let opened = match query.since.as_ref().filter(|_| problem.is_none()) {
        Some(since) => match changes::range(&t, &state, since).await {
            Ok((range, history)) => Opened::changes_of(t, state, range, &history).await?,
            // Changes the table cannot give: show the table, and say why not its changes.
            Err(e) if e.status().is_client_error() => {
                problem = Some(e);
                Opened::of(t, state).await?
            }
            Err(e) => return Err(e),
        },
        None => Opened::of(t, state).await?,
    };
    let description = query.describe(|c| opened.meta.class_of(c));
    let grid = match problem {
        Some(e) => Err(e),
        None => {
            let run = opened.run(s, recipient, &query);
            let budget = run.budget;
            match tokio::time::timeout(budget, run.grid(offset)).await {
                Ok(grid) => grid,
                Err(_) => Err(PortalError::QueryTimeout(format!(
                    "this view took longer than {} seconds; add a filter on a partition column or a narrower condition",
                    budget.as_secs()
                ))),
            }
        }
    };
    let chart = match (&query.chart, &grid) {
        (Some(spec), Ok(_)) => Some(charted(opened.run(s, recipient, &query), spec).await),
        _ => None,
    };
    let changes = opened.changes;
    Ok(Outcome { meta: opened.meta, query, description, grid, changes, chart })
}

/// The chart of a view, within the preview's time limit.
async fn charted(run: Run<'_>, spec: &app::contract::grammar::ChartSpec) -> Result<ChartData> {
    let budget = run.budget;
    tokio::time::timeout(budget, run.chart(spec)).await.unwrap_or_else(|_| {
        Err(PortalError::QueryTimeout(format!(
            "this chart took longer than {} seconds; add a filter on a partition column or a narrower condition",
            budget.as_secs()
        )))
    })
}

/// The chart a view asks for, as the caller may see it (the SVG and PNG downloads).
pub async fn chart(
    s: &Services,
    recipient: &Recipient,
    share: &str,
    schema: &str,
    table: &str,
    query: &TableQuery,
) -> Result<(TableMeta, ChartData)> {
    let spec = query
        .chart
        .clone()
        .ok_or_else(|| PortalError::InvalidParameter("say what to chart: `_chart=bar` or `line`, and `_chart_x=<column>`".into()))?;
    let t = Access::new(&s.catalog, recipient).table(share, schema, table).await?;
    let (at, _) = position(s, &t, recipient, query)?;
    let opened = Opened::at(s, t, at, query.since.as_ref()).await?;
    let data = charted(opened.run(s, recipient, query), &spec).await?;
    Ok((opened.meta, data))
}

/// A table's description and columns at its latest version, without reading rows.
pub async fn table_meta(s: &Services, recipient: &Recipient, share: &str, schema: &str, table: &str) -> Result<TableMeta> {
    let t = Access::new(&s.catalog, recipient).table(share, schema, table).await?;
    Ok(Opened::at(s, t, At::Latest, None).await?.meta)
}

/// A whole view as a stream of record batches, for downloads: the same grammar, scope and
/// order as the preview, no paging and no time limit.
pub struct Extract {
    pub meta: TableMeta,
    pub query: TableQuery,
    pub description: String,
    /// The columns of the stream, in order.
    pub columns: Vec<Column>,
    pub batches: SendableRecordBatchStream,
    /// Rows the stream will yield, when asked for and countable in time.
    pub rows: Option<u64>,
    /// The commits an extract of changes read.
    pub changes: Option<ChangeRange>,
}

pub async fn extract(
    s: &Services,
    recipient: &Recipient,
    share: &str,
    schema: &str,
    table: &str,
    query: &TableQuery,
    counted: bool,
) -> Result<Extract> {
    let t = Access::new(&s.catalog, recipient).table(share, schema, table).await?;
    // An extract is the whole view: a page token means nothing here.
    let query = TableQuery { next: None, ..query.clone() };
    let (at, _) = position(s, &t, recipient, &query)?;
    let opened = Opened::at(s, t, at, query.since.as_ref()).await?;
    let description = query.describe(|c| opened.meta.class_of(c));
    let run = opened.run(s, recipient, &query);
    let predicate = run.predicate()?;
    let shown = run.shown()?;
    run.check_order()?;
    let cores = run.streams();
    let rows = if counted {
        let df = run.filtered(cores, &predicate)?;
        count::count(df, &opened.state, run.whole_table(), true, run.budget).await?.0
    } else {
        None
    };
    // A whole unsorted view has no order to keep: its files are decoded in parallel.
    let batches = run.ordered(&predicate, &shown, cores, Order::Any)?.execute_stream().await?;
    let columns = shown.into_iter().cloned().collect();
    let changes = opened.changes;
    Ok(Extract { meta: opened.meta, query, description, columns, batches: handing_back(batches), rows, changes })
}

/// `batches`, handing what the scan's heaps kept back to the system when the stream is dropped
/// (the download ended, or its client left).
fn handing_back(batches: SendableRecordBatchStream) -> SendableRecordBatchStream {
    let schema = batches.schema();
    let guard = HandBackOnDrop;
    Box::pin(RecordBatchStreamAdapter::new(
        schema,
        batches.map(move |batch| {
            let _held = &guard;
            batch
        }),
    ))
}

/// The snapshot and first row a view starts from.
fn position(s: &Services, t: &AuthorizedTable, recipient: &Recipient, q: &TableQuery) -> Result<(At, u64)> {
    if let Some(token) = &q.next {
        let owner = cursor::Owner { table_id: &t.table.id, recipient_id: &recipient.id };
        let (version, offset) = cursor::open(&s.signer, token, &owner, q)?;
        return Ok((At::Version(version), offset));
    }
    let at = match &q.as_of {
        AsOf::Latest => At::Latest,
        AsOf::Version(v) => snapshot_at(t, Some(*v), None, None)?,
        AsOf::Timestamp(ts) => snapshot_at(t, None, Some(ts), None)?,
    };
    Ok((at, 0))
}

fn columns_of(state: &TableState, provider: &dyn TableProvider) -> Result<Vec<Column>> {
    let schema = provider.schema();
    Ok(state
        .columns()?
        .into_iter()
        .filter_map(|c| {
            let data_type = schema.field_with_name(&c.name).ok()?.data_type().clone();
            Some(Column { class: TypeClass::of_delta(&c.type_name), name: c.name, type_name: c.type_name, data_type })
        })
        .collect())
}

async fn meta_of(t: &AuthorizedTable, state: &TableState, columns: &[Column]) -> Result<TableMeta> {
    let partitions = state.partition_columns()?;
    let comments = state.columns()?;
    let history = if t.table.history_shared { state.history().await? } else { Vec::new() };
    let latest_version = history.last().map(|(v, _)| *v).unwrap_or_else(|| state.version());
    Ok(TableMeta {
        share: t.table.share_name.clone(),
        schema: t.table.schema_name.clone(),
        name: t.table.name.clone(),
        comment: t.table.comment.clone(),
        columns: columns
            .iter()
            .map(|c| {
                let declared = comments.iter().find(|d| d.name == c.name);
                ColumnView {
                    name: c.name.clone(),
                    type_name: c.type_name.clone(),
                    class: c.class,
                    nullable: declared.is_none_or(|d| d.nullable),
                    comment: declared.and_then(|d| d.comment.clone()),
                    partition: partitions.contains(&c.name),
                    zone: values::zone(&c.data_type).map(|z| z.to_string()),
                }
            })
            .collect(),
        version: state.version(),
        latest_version,
        history: history.iter().rev().take(200).map(|(v, at)| VersionView { version: *v, at: rfc3339_ms(*at) }).collect(),
        change_feed: t.table.history_shared && state.cdf_enabled()? && state.advanced_features()?.is_empty(),
        key_columns: t.table.key_columns.clone(),
    })
}

/// The order of an unsorted view's rows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    /// File order, one stream: pages continue where the last one stopped.
    Files,
    /// Whatever order parallel reads give (a whole extract).
    Any,
}

/// One view's execution: validated against the columns, then rows, count and facets together.
struct Run<'a> {
    s: &'a Services,
    t: &'a AuthorizedTable,
    recipient: &'a Recipient,
    state: &'a ScopedTable,
    provider: Arc<dyn TableProvider>,
    columns: &'a [Column],
    query: &'a TableQuery,
    budget: Duration,
    /// The rows are changes (`_since`): the log's statistics describe none of them.
    changes: bool,
}

impl Run<'_> {
    /// The view is the whole scoped table, so the log's statistics count it.
    fn whole_table(&self) -> bool {
        self.query.filters.is_empty() && !self.changes
    }

    /// The view's order: its sort, or for changes the order they were committed in.
    fn sort(&self) -> Option<Sort> {
        let commits = self.changes.then(|| Sort { column: "_commit_version".into(), descending: false });
        self.query.sort.clone().or(commits)
    }

    fn column(&self, name: &str) -> Result<&Column> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| PortalError::bad_query(name, format!("there is no column `{name}` in this table")))
    }

    /// The view's filters as one predicate (the scope is the frame's own, see `filtered`).
    fn predicate(&self) -> Result<Expr> {
        let mut predicate = lit(true);
        for f in &self.query.filters {
            predicate = predicate.and(exprs::filter(f, self.column(&f.column)?)?);
        }
        Ok(predicate)
    }

    /// Streams a scan, count or sort runs on: one per core, and more for an object-store table,
    /// whose reads mostly wait on the network.
    fn streams(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        match self.state.store_root() {
            Some(_) => (cores * 4).max(8),
            None => cores,
        }
    }

    /// Shown columns, in `_col` order when given, else table order.
    fn shown(&self) -> Result<Vec<&Column>> {
        for name in self.query.columns.iter().chain(&self.query.hidden) {
            self.column(name)?;
        }
        let shown: Vec<&Column> = if self.query.columns.is_empty() {
            self.columns.iter().filter(|c| self.query.shows(&c.name)).collect()
        } else {
            self.query.columns.iter().filter(|n| self.query.shows(n)).map(|n| self.column(n)).collect::<Result<_>>()?
        };
        if shown.is_empty() {
            return Err(PortalError::BadQuery { column: None, message: "every column is hidden; show at least one".into() });
        }
        Ok(shown)
    }

    /// A DataFrame of the scoped, filtered table in a fresh session of `partitions` streams.
    fn filtered(&self, partitions: usize, predicate: &Expr) -> Result<DataFrame> {
        self.filtered_in(SessionConfig::new().with_target_partitions(partitions), predicate)
    }

    fn filtered_in(&self, mut config: SessionConfig, predicate: &Expr) -> Result<DataFrame> {
        // Evaluate filters while decoding parquet (late materialization): a selective filter then
        // decodes the other columns only for the rows it keeps.
        config.options_mut().execution.parquet.pushdown_filters = true;
        config.options_mut().execution.parquet.reorder_filters = true;
        let ctx = SessionContext::new_with_config_rt(config, runtime());
        self.state.delta()?.update_datafusion_session(&ctx.state()).map_err(|e| PortalError::fault("query session", e))?;
        // The caller's scope is the first filter of every frame, whatever the view asks.
        let scoped = ctx.read_table(self.provider.clone())?.filter(exprs::scope(self.state.scope(), self.columns))?;
        // Net changes: each key's latest change first, then the view's filters (a key that left
        // the filtered rows is not shown in an older state that matched them).
        let scoped = if self.changes && self.query.net { net::latest_per_key(scoped, self.net_keys()?)? } else { scoped };
        Ok(scoped.filter(predicate.clone())?)
    }

    /// The key columns net changes go by (a clear 400 when the table declares none).
    fn net_keys(&self) -> Result<&[String]> {
        net::keys(&self.t.table.key_columns, self.columns, &self.t.table.qualified_name())
    }

    /// Checks what the whole view needs beyond its filters (sortable order column).
    fn check_order(&self) -> Result<()> {
        if let Some(sort) = &self.sort() {
            let c = self.column(&sort.column)?;
            if !c.class.is_orderable() {
                return Err(PortalError::bad_query(&c.name, format!("`{}` ({}) cannot be sorted", c.name, c.type_name)));
            }
        }
        Ok(())
    }

    /// The view's rows in order, shown columns only, before any paging.
    ///
    /// Unsorted views read in file order on one stream (`Order::Files`), so a first page reads
    /// one file and the next page continues where it stopped; a whole unsorted extract
    /// (`Order::Any`) reads its files in parallel instead. Sorted views break ties on every
    /// orderable column; rows equal on all of them are interchangeable (nested-only differences
    /// aside).
    fn ordered(&self, predicate: &Expr, shown: &[&Column], cores: usize, unsorted: Order) -> Result<DataFrame> {
        let sort = self.sort();
        let streams = if sort.is_some() || unsorted == Order::Any { cores } else { 1 };
        let mut config = SessionConfig::new().with_target_partitions(streams);
        // A sort's running bound pushed into the scan would skip rows its count needs
        // (`count::collect_counting_sorted`); on unclustered data it prunes little anyway.
        config.options_mut().optimizer.enable_topk_dynamic_filter_pushdown = false;
        let mut df = self.filtered_in(config, predicate)?;
        if let Some(sort) = &sort {
            let mut order = vec![exprs::column(&sort.column).sort(!sort.descending, false)];
            order.extend(
                self.columns
                    .iter()
                    .filter(|c| c.name != sort.column && c.class.is_orderable())
                    .map(|c| exprs::column(&c.name).sort(true, false)),
            );
            df = df.sort(order)?;
        }
        Ok(df.select(shown.iter().map(|c| exprs::column(&c.name)).collect::<Vec<_>>())?)
    }

    async fn grid(self, offset: u64) -> Result<Grid> {
        let predicate = self.predicate()?;
        let shown = self.shown()?;
        self.check_order()?;
        let facet_columns = self.query.facets.iter().map(|n| self.column(n)).collect::<Result<Vec<_>>>()?;
        if let Some(c) = facet_columns.iter().find(|c| matches!(c.class, TypeClass::Nested | TypeClass::Binary)) {
            return Err(PortalError::bad_query(&c.name, format!("`{}` ({}) cannot be faceted", c.name, c.type_name)));
        }
        let cores = self.streams();

        let size = self.query.page_size() as usize;
        // Filters on partition columns only: the count, and facets of partition columns, come
        // from the log.
        let partitions = (!self.changes && self.query.filters.iter().all(|f| self.is_partition(&f.column)))
            .then(|| self.partition_frame())
            .transpose()?
            .flatten();
        // A filtered, sorted view reads every row its filters keep: its count comes with it.
        let count_in_sort = self.sort().is_some() && partitions.is_none() && !self.query.filters.is_empty();
        let rows = async {
            let df = self.ordered(&predicate, &shown, cores, Order::Files)?.limit(offset as usize, Some(size + 1))?;
            let (batches, sorted) = if count_in_sort { count::collect_counting_sorted(df).await? } else { (df.collect().await?, None) };
            let mut rows = cells::rows(&batches)?;
            let more = rows.len() > size;
            rows.truncate(size);
            let owner = cursor::Owner { table_id: &self.t.table.id, recipient_id: &self.recipient.id };
            let next = more.then(|| cursor::seal(&self.s.signer, &owner, self.state.version(), offset + size as u64, self.query));
            Ok::<_, PortalError>((rows, next, sorted))
        };
        let counted = async {
            if let Some(frame) = &partitions {
                return Ok((Some(partitions::count(frame.clone(), &predicate).await?), true));
            }
            if count_in_sort {
                return Ok((None, false)); // from the rows' scan, below
            }
            let df = self.filtered(cores, &predicate)?;
            // Half the view's time: a count that cannot finish says so instead of failing the page.
            count::count(df, self.state, self.whole_table(), self.query.count_all, self.budget / 2).await
        };
        let facets = try_join_all(facet_columns.iter().map(|c| async {
            match &partitions {
                Some(frame) if self.is_partition(&c.name) => {
                    self.facet(c, frame.clone().filter(predicate.clone())?, partitions::rows()).await
                }
                _ => self.facet(c, self.filtered(cores, &predicate)?, count_of(lit(1))).await,
            }
        }));
        let ((rows, next, sorted), (mut count, mut count_exact), facets) = tokio::try_join!(rows, counted, facets)?;
        if count_in_sort {
            (count, count_exact) = match sorted {
                Some(n) => (Some(n), true),
                // The plan did not say how many rows its sort read: count them the usual way.
                None => {
                    let df = self.filtered(cores, &predicate)?;
                    count::count(df, self.state, false, self.query.count_all, self.budget / 2).await?
                }
            };
        }
        Ok(Grid { columns: shown.iter().map(|c| c.name.clone()).collect(), rows, count, count_exact, next, facets })
    }

    fn is_partition(&self, column: &str) -> bool {
        self.state.partition_columns().is_ok_and(|p| p.iter().any(|n| n == column))
    }

    /// The caller's partitions with their row counts, when the log states them (`partitions`).
    fn partition_frame(&self) -> Result<Option<DataFrame>> {
        partitions::frame(self.state, self.columns)
    }

    /// The most frequent values of a column in `filtered` (the view's rows, or its partitions),
    /// with their counts (`rows` of each group).
    async fn facet(&self, c: &Column, filtered: DataFrame, rows: Expr) -> Result<Facet> {
        const N: &str = "__portal_count";
        let batches = filtered
            .aggregate(vec![exprs::column(&c.name)], vec![rows.alias(N)])?
            .sort(vec![exprs::column(N).sort(false, false), exprs::column(&c.name).sort(true, false)])?
            .limit(0, Some(FACET_SIZE + 1))?
            .collect()
            .await?;
        let mut values: Vec<FacetValue> = cells::rows(&batches)?
            .into_iter()
            .filter_map(|mut row| {
                let n = match row.pop()? {
                    app::contract::Cell::Int(n) => n.max(0) as u64,
                    _ => 0,
                };
                Some(FacetValue { value: row.pop()?, count: n })
            })
            .collect();
        let truncated = values.len() > FACET_SIZE;
        values.truncate(FACET_SIZE);
        Ok(Facet { column: c.name.clone(), values, truncated })
    }
}
