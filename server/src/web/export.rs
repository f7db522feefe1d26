//! `GET /api/v1/shares/{share}/schemas/{schema}/tables/{table}/export.csv` and `…/export.xlsx`:
//! the view as a file. CSV streams from the first row; an Excel workbook is assembled in
//! constant memory (rows in a temp file) and streamed as it is zipped.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{audit, partner};
use crate::error::{PortalError, Result};
use crate::export::xlsx::{self, ChunkSender};
use crate::export::{self, csv::Dialect};
use crate::query::{self, Extract};
use crate::Services;

type TablePath = Result<Path<(String, String, String)>, PathRejection>;

pub async fn csv(State(s): State<Arc<Services>>, path: TablePath, req: Request) -> Response {
    serve(s, path, req, "csv", |_, extract, dialect| {
        let name = export::file_name(&extract.meta, !extract.query.filters.is_empty(), "csv");
        Ok(attachment("csv", &name, Body::from_stream(export::csv::body(extract, dialect?))))
    })
    .await
}

pub async fn xlsx(State(s): State<Arc<Services>>, path: TablePath, req: Request) -> Response {
    serve(s, path, req, "xlsx", |s, extract, _| {
        xlsx::check_rows(extract.rows, s.settings.xlsx_max_rows)?;
        let name = export::file_name(&extract.meta, !extract.query.filters.is_empty(), "xlsx");
        let about = export::about(&extract);
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = xlsx::write(&handle, extract, &about, ChunkSender::new(tx.clone())) {
                tracing::error!(error = %e, "xlsx export failed");
                // Ends the body with an error: the download fails visibly instead of looking complete.
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
        });
        let body = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) });
        Ok(attachment("xlsx", &name, Body::from_stream(body)))
    })
    .await
}

/// Authenticates, reads the view (everything but `_dialect` is the preview's grammar), builds
/// the response with `respond`, and audits the download.
async fn serve<F>(s: Arc<Services>, path: TablePath, req: Request, kind: &str, respond: F) -> Response
where
    F: FnOnce(&Services, Extract, Result<Dialect>) -> Result<Response>,
{
    let (headers, extensions) = (req.headers(), req.extensions());
    let raw_query = req.uri().query().unwrap_or_default().to_string();
    let caller = partner::authenticate(&s, headers).await;
    let actor = caller.as_ref().map_or_else(|_| "anonymous".to_string(), |c| audit::actor(&c.recipient.name));
    let (mut object, mut rows) = (None, None);
    let result: Result<Response> = async {
        let Path((share, schema, table)) = path.map_err(|e| PortalError::Malformed(e.body_text()))?;
        object = Some(format!("{share}.{schema}.{table}"));
        let caller = caller?;
        let (options, view) = file_options(&raw_query, &["_dialect"]);
        let dialect = Dialect::parse(options.first().map(|(_, v)| v.as_str()));
        if kind == "csv" {
            dialect.as_ref().map_err(|e| PortalError::InvalidParameter(e.to_string()))?;
        }
        let extract = query::extract(&s, &caller.recipient, &share, &schema, &table, &view, kind == "xlsx").await?;
        // The usage figures count the rows a workbook holds (counted up front; CSV streams uncounted).
        rows = extract.rows.and_then(|n| i64::try_from(n).ok());
        respond(&s, extract, dialect)
    }
    .await;
    let status = result.as_ref().map_or_else(|e| e.status().as_u16(), |r| r.status().as_u16());
    let mut event = audit::event(headers, extensions, actor, &format!("export.{kind}"), status);
    event.object = object;
    event.rows = rows.filter(|_| status < 400);
    event.detail = Some(raw_query);
    audit::record(&s, event).await;
    result.unwrap_or_else(super::api::error_response)
}

/// Splits a download's query into the file options named (`_dialect`, `_format`) and the view
/// (the preview's grammar, re-encoded).
pub(super) fn file_options(raw_query: &str, names: &[&str]) -> (Vec<(String, String)>, String) {
    use app::contract::grammar::{decode_pairs, encode};
    let (options, view): (Vec<_>, Vec<_>) = decode_pairs(raw_query).into_iter().partition(|(k, _)| names.contains(&k.as_str()));
    let view = view.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
    (options, view)
}

/// A file download (`format` is `xlsx` or `csv`), never cached.
pub(super) fn attachment(format: &str, name: &str, body: Body) -> Response {
    let content_type = match format {
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "text/csv; charset=utf-8",
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}
