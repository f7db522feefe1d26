//! The partner's catalog page: every granted table with the figures the partner's own rows
//! have, read from the Delta log (no data file is opened).

use app::contract::{CatalogView, SchemaView, ShareView, TableSummary};
use futures::{stream, StreamExt};

use crate::auth::{Access, AuthorizedTable};
use crate::catalog::{Recipient, SharedTable};
use crate::error::Result;
use crate::primitives::time::rfc3339_ms;
use crate::storage::At;
use crate::Services;

/// Listing pages of this size until done; a partner rarely has more than a few hundred tables.
const BATCH: i64 = 500;
/// Tables whose logs are read at once.
const PARALLEL_READS: usize = 4;

pub async fn catalog(s: &Services, recipient: &Recipient) -> Result<CatalogView> {
    let access = Access::new(&s.catalog, recipient);
    let mut shares = Vec::new();
    let mut after = None;
    loop {
        let page = access.shares(after.as_deref(), BATCH).await?;
        shares.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut views = Vec::new();
    for share in shares {
        let tables = all_tables(&access, &share.name).await?;
        let summaries: Vec<TableSummary> = stream::iter(tables)
            .map(|t| summarize(s, &access, t))
            .buffered(PARALLEL_READS)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_>>()?;
        let mut schemas: Vec<SchemaView> = Vec::new();
        for summary in summaries {
            match schemas.iter_mut().find(|s| s.name == summary.schema) {
                Some(schema) => schema.tables.push(summary),
                None => schemas.push(SchemaView { name: summary.schema.clone(), tables: vec![summary] }),
            }
        }
        views.push(ShareView { name: share.name, comment: share.comment, schemas });
    }
    Ok(CatalogView { shares: views, saved: Vec::new() })
}

async fn all_tables(access: &Access<'_>, share: &str) -> Result<Vec<SharedTable>> {
    let mut tables = Vec::new();
    let mut after = None;
    loop {
        let page = access.tables(share, None, after.as_deref(), BATCH).await?;
        tables.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(tables),
        }
    }
}

/// One table's line; a table that cannot be read is listed with the problem, not dropped.
async fn summarize(s: &Services, access: &Access<'_>, table: SharedTable) -> Result<TableSummary> {
    let t = access.table(&table.share_name, &table.schema_name, &table.name).await?;
    let mut summary = TableSummary {
        share: table.share_name.clone(),
        schema: table.schema_name.clone(),
        name: table.name.clone(),
        comment: table.comment.clone(),
        rows: None,
        bytes: None,
        version: None,
        updated: None,
        partition_columns: Vec::new(),
        problem: None,
    };
    match figures(s, &t).await {
        Ok((rows_bytes, version, updated, partitions)) => {
            summary.rows = rows_bytes.map(|(r, _)| r);
            summary.bytes = rows_bytes.map(|(_, b)| b);
            summary.version = Some(version);
            summary.updated = updated;
            summary.partition_columns = partitions;
        }
        Err(e) if e.status().is_client_error() => summary.problem = Some(e.to_string()),
        Err(e) => {
            tracing::error!(table = %table.qualified_name(), error = %e, "catalog figures failed");
            summary.problem = Some("this table cannot be read right now".into());
        }
    }
    Ok(summary)
}

type Figures = (Option<(u64, u64)>, i64, Option<String>, Vec<String>);

async fn figures(s: &Services, t: &AuthorizedTable) -> Result<Figures> {
    let state = t.open(&s.stores, At::Latest).await?;
    let updated = state.history().await?.last().map(|(_, at)| rfc3339_ms(*at));
    Ok((state.stats()?, state.version(), updated, state.partition_columns()?))
}
