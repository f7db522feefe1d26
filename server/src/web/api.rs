//! `GET /api/v1/shares/{share}/schemas/{schema}/tables/{table}/rows`: the table page's view as
//! JSON, same grammar, for scripts and the browser alike (session cookie or bearer token).

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::{audit, partner};
use crate::catalog::Recipient;
use crate::error::{PortalError, Result};
use crate::query;
use crate::Services;

pub async fn rows(State(s): State<Arc<Services>>, path: Result<Path<(String, String, String)>, PathRejection>, req: Request) -> Response {
    let Path((share, schema, table)) = match path {
        Ok(p) => p,
        Err(e) => return PortalError::Malformed(e.body_text()).into_response(),
    };
    let (headers, extensions) = (req.headers(), req.extensions());
    let raw_query = req.uri().query().unwrap_or_default();
    let caller = partner::authenticate(&s, headers).await;
    let actor = caller.as_ref().map_or_else(|_| "anonymous".to_string(), |c| audit::actor(&c.recipient.name));
    let result = match caller {
        Ok(caller) => rows_json(&s, &caller.recipient, &share, &schema, &table, raw_query).await,
        Err(e) => Err(e),
    };
    let status = result.as_ref().map_or_else(|e| e.status().as_u16(), |_| 200);
    let mut event = audit::event(headers, extensions, actor, "api.rows", status);
    event.object = Some(format!("{share}.{schema}.{table}"));
    if let Ok((_, n)) = &result {
        event.detail = Some(format!("rows={n}"));
        event.rows = i64::try_from(*n).ok();
    }
    audit::record(&s, event).await;
    match result {
        Ok((body, _)) => Json(body).into_response(),
        Err(e) => error_response(e),
    }
}

/// A page of a table view as `recipient` sees it, and how many rows it holds (the partner API,
/// and an admin's preview as a recipient).
pub async fn rows_json(s: &Services, recipient: &Recipient, share: &str, schema: &str, table: &str, raw_query: &str) -> Result<(serde_json::Value, usize)> {
    let outcome = query::view(s, recipient, share, schema, table, raw_query).await?;
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
        format!("{}/api/v1{}/rows{}", s.settings.public_url, api_path(share, schema, table), q.href_suffix())
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
        "facets": facets,
    });
    Ok((body, n))
}

fn api_path(share: &str, schema: &str, table: &str) -> String {
    use app::contract::grammar::encode;
    format!("/shares/{}/schemas/{}/tables/{}", encode(share), encode(schema), encode(table))
}

/// The usual `{"errorCode","message"}`, plus `column` when a bad view names one.
pub fn error_response(e: PortalError) -> Response {
    let column = match &e {
        PortalError::BadQuery { column: Some(c), .. } => Some(c.clone()),
        _ => None,
    };
    let status = e.status();
    if status.is_server_error() {
        tracing::error!(error = %e, "rows request failed");
    }
    let mut body = json!({ "errorCode": e.error_code(), "message": e.public_message() });
    if let Some(c) = column {
        body["column"] = json!(c);
    }
    (status, Json(body)).into_response()
}
