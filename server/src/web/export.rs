//! `GET /api/v1/shares/{share}/schemas/{schema}/tables/{table}/export.csv`: the view as a file,
//! streamed: the first bytes leave before the last row is read.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{audit, partner};
use crate::error::{PortalError, Result};
use crate::export::{self, csv::Dialect};
use crate::query;
use crate::Services;

pub async fn csv(State(s): State<Arc<Services>>, path: Result<Path<(String, String, String)>, PathRejection>, req: Request) -> Response {
    let (headers, extensions) = (req.headers(), req.extensions());
    let raw_query = req.uri().query().unwrap_or_default().to_string();
    let caller = partner::authenticate(&s, headers).await;
    let actor = caller.as_ref().map_or_else(|_| "anonymous".to_string(), |c| audit::actor(&c.recipient.name));
    let result: Result<Response> = async {
        let Path((share, schema, table)) = path.map_err(|e| PortalError::Malformed(e.body_text()))?;
        let caller = caller?;
        // `_dialect` is the download's own argument; the rest is the view's grammar.
        let (dialect, view): (Vec<_>, Vec<_>) = app::contract::grammar::decode_pairs(&raw_query).into_iter().partition(|(k, _)| k == "_dialect");
        let dialect = Dialect::parse(dialect.first().map(|(_, v)| v.as_str()))?;
        let view = view.iter().map(|(k, v)| format!("{}={}", app::contract::grammar::encode(k), app::contract::grammar::encode(v))).collect::<Vec<_>>().join("&");
        let extract = query::extract(&s, &caller.recipient, &share, &schema, &table, &view).await?;
        let name = export::file_name(&extract.meta, !extract.query.filters.is_empty(), "csv");
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            Body::from_stream(export::csv::body(extract, dialect)),
        )
            .into_response())
    }
    .await;
    let status = result.as_ref().map_or_else(|e| e.status().as_u16(), |r| r.status().as_u16());
    let mut event = audit::event(headers, extensions, actor, "export.csv", status);
    event.object = path_object(req.uri().path());
    event.detail = Some(raw_query);
    audit::record(&s, event).await;
    result.unwrap_or_else(super::api::error_response)
}

/// `share.schema.table` from the request path, for the audit line.
fn path_object(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        [.., "shares", share, "schemas", schema, "tables", table, _] => Some(format!("{share}.{schema}.{table}")),
        _ => None,
    }
}
