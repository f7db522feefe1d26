//! List shares, get share, list schemas, list tables, list all tables.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Extension;
use serde_json::json;

use super::pagination::{next_token, page_request};
use super::respond::{json, AuditNote};
use crate::auth::{Access, Caller};
use crate::catalog::{Share, SharedTable};
use crate::error::Result;
use crate::Services;

type Params = Query<HashMap<String, String>>;

pub async fn list_shares(State(s): State<Arc<Services>>, Extension(caller): Extension<Caller>, Query(params): Params) -> Result<Response> {
    let page_req = page_request(&params, "shares")?;
    let page = Access::new(&s.catalog, &caller.recipient).shares(page_req.after.as_deref(), page_req.limit).await?;
    let items: Vec<_> = page.items.iter().map(share_item).collect();
    Ok(json(&list_body(items, next_token(page.next, "shares")), AuditNote { action: "listShares", ..Default::default() }))
}

pub async fn get_share(
    State(s): State<Arc<Services>>,
    Extension(caller): Extension<Caller>,
    Path(share): Path<String>,
) -> Result<Response> {
    let sh = Access::new(&s.catalog, &caller.recipient).share(&share).await?;
    Ok(json(&json!({ "share": share_item(&sh) }), AuditNote::new("getShare", sh.name)))
}

/// A share as the 2026 protocol describes it: name and id, and what admins wrote about it.
fn share_item(sh: &Share) -> serde_json::Value {
    let mut item = json!({"name": sh.name, "id": sh.id});
    if let Some(display_name) = &sh.display_name {
        item["displayName"] = display_name.as_str().into();
    }
    if let Some(comment) = &sh.comment {
        item["comment"] = comment.as_str().into();
    }
    if !sh.properties.is_empty() {
        item["properties"] = json!(sh.properties);
    }
    item
}

pub async fn list_schemas(
    State(s): State<Arc<Services>>,
    Extension(caller): Extension<Caller>,
    Path(share): Path<String>,
    Query(params): Params,
) -> Result<Response> {
    let listing = format!("schemas:{}", share.to_lowercase());
    let page_req = page_request(&params, &listing)?;
    let (sh, page) = Access::new(&s.catalog, &caller.recipient).schemas(&share, page_req.after.as_deref(), page_req.limit).await?;
    let items: Vec<_> = page.items.iter().map(|name| json!({"name": name, "share": sh.name})).collect();
    Ok(json(&list_body(items, next_token(page.next, &listing)), AuditNote::new("listSchemas", sh.name)))
}

pub async fn list_tables(
    State(s): State<Arc<Services>>,
    Extension(caller): Extension<Caller>,
    Path((share, schema)): Path<(String, String)>,
    Query(params): Params,
) -> Result<Response> {
    tables(&s, &caller, &share, Some(&schema), &params).await
}

pub async fn list_all_tables(
    State(s): State<Arc<Services>>,
    Extension(caller): Extension<Caller>,
    Path(share): Path<String>,
    Query(params): Params,
) -> Result<Response> {
    tables(&s, &caller, &share, None, &params).await
}

async fn tables(s: &Services, caller: &Caller, share: &str, schema: Option<&str>, params: &HashMap<String, String>) -> Result<Response> {
    let listing = format!("tables:{}:{}", share.to_lowercase(), schema.unwrap_or("*").to_lowercase());
    let page_req = page_request(params, &listing)?;
    let page = Access::new(&s.catalog, &caller.recipient).tables(share, schema, page_req.after.as_deref(), page_req.limit).await?;
    let items: Vec<_> = page.items.iter().map(table_item).collect();
    let action = if schema.is_some() { "listTables" } else { "listAllTables" };
    let object = match schema {
        Some(schema) => format!("{share}.{schema}"),
        None => share.to_string(),
    };
    Ok(json(&list_body(items, next_token(page.next, &listing)), AuditNote::new(action, object)))
}

fn table_item(t: &SharedTable) -> serde_json::Value {
    json!({"name": t.name, "schema": t.schema_name, "share": t.share_name, "shareId": t.share_id, "id": t.id})
}

/// `items` always present; `nextPageToken` only when another page follows.
fn list_body(items: Vec<serde_json::Value>, next: Option<String>) -> serde_json::Value {
    match next {
        Some(token) => json!({"items": items, "nextPageToken": token}),
        None => json!({"items": items}),
    }
}
