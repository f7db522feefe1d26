//! `GET /api/v1/shares/{share}/schemas/{schema}/tables/{table}/rows`: the table page's view as
//! JSON, same grammar, for scripts and the browser alike (session cookie or bearer token).

use std::sync::Arc;

use app::contract::grammar::{GrammarError, TableQuery};
use axum::extract::State;
use axum::Json;
use serde_json::json;

use super::callers::PartnerCaller;
use super::envelope::Audit;
use super::views::{TablePath, View};
use crate::catalog::Recipient;
use crate::error::Result;
use crate::query;
use crate::Services;

pub async fn rows(
    State(s): State<Arc<Services>>,
    path: TablePath,
    PartnerCaller(caller): PartnerCaller,
    view: View,
    audit: Audit,
) -> Result<Json<serde_json::Value>> {
    let (body, n) = rows_json(&s, &caller.recipient, &path, view.query).await?;
    audit.rows(Some(n as u64));
    audit.detail(format!("rows={n}"));
    Ok(Json(body))
}

/// A page of a table view as `recipient` sees it, and how many rows it holds (the partner API,
/// and an admin's preview as a recipient).
pub async fn rows_json(
    s: &Services,
    recipient: &Recipient,
    path: &TablePath,
    view: Result<TableQuery, GrammarError>,
) -> Result<(serde_json::Value, usize)> {
    let outcome = query::view(s, recipient, &path.share, &path.schema, &path.table, view).await?;
    let grid = outcome.grid?;
    let columns: Vec<_> = grid
        .columns
        .iter()
        .map(|name| {
            let c = outcome.meta.column(name);
            json!({
                "name": name,
                "type": c.map(|c| c.type_name.as_str()).unwrap_or_default(),
                "nullable": c.is_none_or(|c| c.nullable),
                "comment": c.and_then(|c| c.comment.as_deref()),
            })
        })
        .collect();
    let rows: Vec<Vec<serde_json::Value>> = grid.rows.iter().map(|r| r.iter().map(|c| c.to_json()).collect()).collect();
    let next_url = grid.next.as_ref().map(|n| {
        let mut q = outcome.query.clone();
        q.next = Some(n.clone());
        format!("{}/api/v1{}/rows{}", s.settings.public_url, api_path(path), q.href_suffix())
    });
    let facets: Vec<_> = grid
        .facets
        .iter()
        .map(|f| {
            let values: Vec<_> = f.values.iter().map(|v| json!({ "value": v.value.to_json(), "count": v.count })).collect();
            json!({ "column": f.column, "values": values, "truncated": f.truncated })
        })
        .collect();
    let n = rows.len();
    let body = json!({
        "columns": columns,
        "rows": rows,
        "count": grid.count,
        "count_exact": grid.count_exact,
        "next": grid.next,
        "next_url": next_url,
        "filters_description": outcome.description,
        "version": outcome.meta.version,
        // A view of changes (`_since`): the commits its rows come from.
        "changes": outcome.changes.map(|r| json!({ "first_version": r.first, "last_version": r.last })),
        "facets": facets,
    });
    Ok((body, n))
}

fn api_path(path: &TablePath) -> String {
    use app::contract::grammar::encode;
    format!("/shares/{}/schemas/{}/tables/{}", encode(&path.share), encode(&path.schema), encode(&path.table))
}
