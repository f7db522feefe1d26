//! Async queries (PROTOCOL.md 2026, `delta-sharing-capabilities: asyncquery=true`).
//!
//! A submission answers at once with a `queryStatus` line. The table is opened in the background
//! (the slow part for a big table: reading its log), and the version the query resolves to is
//! pinned in the catalog. A poll on any replica then answers like the synchronous query at that
//! version, paged the same way. A failure is answered as the HTTP error the synchronous query
//! would have given, because the Spark client ignores `status`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use serde::Deserialize;

use super::query::{answer, resolve_version, Page, QueryParams, QueryRequest};
use super::request::authorize;
use super::respond::{query_status, AuditNote};
use crate::auth::{AuthorizedTable, Caller};
use crate::catalog::{now_ms, AsyncQuery, NewAsyncQuery, QueryStatus};
use crate::error::{PortalError, Result};
use crate::Services;

/// How long the replica that runs a query holds it; a poll after that takes it over.
const LEASE_MS: i64 = 120_000;
/// The longest idempotency key kept.
const MAX_KEY_LEN: usize = 256;

/// Submits `req` (asked with `asyncquery=true`): the same key, table and parameters give the
/// same query; the same key with other parameters is refused.
pub async fn submit(s: &Arc<Services>, caller: &Caller, t: &AuthorizedTable, req: &QueryRequest) -> Result<Response> {
    let key = req.idempotency_key().ok_or_else(|| PortalError::InvalidParameter("idempotencyKey is required for an async query".into()))?;
    if key.len() > MAX_KEY_LEN {
        return Err(PortalError::InvalidParameter(format!("idempotencyKey may have at most {MAX_KEY_LEN} characters")));
    }
    let params = req.params.canonical()?;
    let now = now_ms();
    let ttl_ms = i64::try_from(s.settings.async_query_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let new = NewAsyncQuery {
        recipient_id: &caller.recipient.id,
        table_id: &t.table.id,
        idempotency_key: key,
        params: &params,
        max_files: req.max_files,
        lease_until: now + LEASE_MS,
        expires_at: now.saturating_add(ttl_ms),
    };
    let (query, created) = s.catalog.submit_async_query(&new).await?;
    if query.params != params {
        return Err(PortalError::InvalidParameter(format!(
            "idempotencyKey `{key}` was used for another query on this table; use a new key for new parameters"
        )));
    }
    if created {
        run(s.clone(), t.clone(), query.id.clone(), req.params.clone());
    }
    status(&query, &req.params, AuditNote::new("submitQuery", t.table.qualified_name()))
}

/// The body of a poll; Spark also sends the `queryId`, which the path already names.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PollRequest {
    max_files: Option<i64>,
    page_token: Option<String>,
}

/// `POST …/tables/{table}/queries/{queryId}` (Get Query Info).
pub async fn poll(
    State(s): State<Arc<Services>>,
    Extension(caller): Extension<Caller>,
    Path((share, schema, table, query_id)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let t = authorize(&s, &caller, &(share, schema, table)).await?;
    let poll: PollRequest = if body.iter().all(u8::is_ascii_whitespace) {
        PollRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| PortalError::Malformed(format!("the request body is not valid JSON for a poll: {e}")))?
    };
    if poll.max_files.is_some_and(|m| m <= 0) {
        return Err(PortalError::InvalidParameter("maxFiles must be greater than 0".into()));
    }
    let query = s.catalog.async_query(&caller.recipient.id, &t.table.id, &query_id).await?;
    let params: QueryParams =
        serde_json::from_str(&query.params).map_err(|e| PortalError::fault("reading an async query's parameters", e))?;
    let note = AuditNote::new("getQueryInfo", t.table.qualified_name());
    if query.status != QueryStatus::Succeeded {
        if query.status == QueryStatus::Pending
            && query.lease_until < now_ms()
            && s.catalog.take_over_async_query(&query.id, now_ms() + LEASE_MS).await?
        {
            tracing::info!(query = %query.id, "taking over an async query whose replica stopped");
            run(s.clone(), t.clone(), query.id.clone(), params.clone());
        }
        return status(&query, &params, note);
    }
    let page = Page {
        params: &params,
        pinned: query.version,
        max_files: poll.max_files.or(query.max_files),
        resume_token: poll.page_token.as_deref(),
        async_query: true,
    };
    let mut resp = answer(&s, &caller, &t, &headers, page).await?;
    if let Some(kept) = resp.extensions_mut().get_mut::<AuditNote>() {
        kept.action = note.action;
    }
    Ok(resp)
}

/// A query not answered with its files: pending or succeeded as a `queryStatus` line, failed as
/// the error it ended with.
fn status(query: &AsyncQuery, params: &QueryParams, note: AuditNote) -> Result<Response> {
    if let Some((code, message)) = &query.error {
        return Err(PortalError::from_code(code, message.clone()));
    }
    let version = query.version.or(params.version).or(params.starting_version).unwrap_or(0);
    Ok(query_status(&query.id, query.status.as_str(), version, note))
}

/// Resolves the query in the background and records how it ended. A replica that stops
/// meanwhile leaves it pending; its lease lapses and the next poll runs it again.
fn run(s: Arc<Services>, t: AuthorizedTable, id: String, params: QueryParams) {
    tokio::spawn(async move {
        let finished = match resolve_version(&s, &t, &params).await {
            Ok(version) => s.catalog.finish_async_query(&id, Ok(version)).await,
            Err(e) => {
                if e.status().is_server_error() {
                    tracing::error!(query = %id, error = %e, "async query failed");
                }
                s.catalog.finish_async_query(&id, Err((e.error_code(), &e.public_message()))).await
            }
        };
        if let Err(e) = finished {
            tracing::warn!(query = %id, error = %e, "could not record how an async query ended");
        }
    });
}
