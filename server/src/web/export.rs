//! `GET /api/v1/shares/{share}/schemas/{schema}/tables/{table}/export.csv` and `…/export.xlsx`:
//! the view as a file. CSV streams from the first row; an Excel workbook is assembled in
//! constant memory (rows in a temp file) and streamed as it is zipped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use super::callers::PartnerCaller;
use super::envelope::Audit;
use super::views::{TablePath, View};
use crate::error::{PortalError, Result};
use crate::export;
use crate::export::format::FileFormat;
use crate::export::limits::{self, RowCap};
use crate::export::xlsx::{self, ChunkSender};
use crate::query::{self, Extract};
use crate::saved_views;
use crate::Services;

pub async fn csv(
    State(s): State<Arc<Services>>,
    path: TablePath,
    PartnerCaller(caller): PartnerCaller,
    view: View,
    audit: Audit,
) -> Result<Response> {
    audit.detail(view.raw.clone());
    let dialect = view.dialect()?;
    let format = FileFormat::Csv(dialect);
    let extract = read(&s, &caller, &path, &view, format).await?;
    let name = export::file_name(&extract, format.extension());
    let (meta, query) = (extract.meta.clone(), extract.query.clone());
    let body = export::csv::body(extract, dialect);
    // Once the last byte is out, the saved views showing this view remember the download.
    let failed = Arc::new(AtomicBool::new(false));
    let body = body.inspect({
        let failed = failed.clone();
        move |chunk| {
            failed.fetch_or(chunk.is_err(), Ordering::Relaxed);
        }
    });
    let noted = futures::stream::once(async move {
        if !failed.load(Ordering::Relaxed) {
            saved_views::note_download(&s.catalog, &caller.recipient, &meta, &query).await;
        }
    })
    .filter_map(|()| async { None });
    Ok(attachment(format, &name, Body::from_stream(body.chain(noted))))
}

pub async fn xlsx(
    State(s): State<Arc<Services>>,
    path: TablePath,
    PartnerCaller(caller): PartnerCaller,
    view: View,
    audit: Audit,
) -> Result<Response> {
    audit.detail(view.raw.clone());
    let extract = read(&s, &caller, &path, &view, FileFormat::Xlsx).await?;
    // The usage figures count the rows a workbook holds (counted up front; CSV streams uncounted).
    audit.rows(extract.rows);
    let name = export::file_name(&extract, FileFormat::Xlsx.extension());
    let about = export::about(&extract);
    let (meta, query) = (extract.meta.clone(), extract.query.clone());
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || match xlsx::write(&handle, extract, &about, ChunkSender::new(tx.clone())) {
        Ok(_) => handle.block_on(saved_views::note_download(&s.catalog, &caller.recipient, &meta, &query)),
        Err(e) => {
            tracing::error!(error = %e, "xlsx export failed");
            // Ends the body with an error: the download fails visibly instead of looking complete.
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let body = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) });
    Ok(attachment(FileFormat::Xlsx, &name, Body::from_stream(body)))
}

/// The view's chart as an SVG file (`_chart…` in the query, as on the table page).
pub async fn chart_svg(s: State<Arc<Services>>, path: TablePath, caller: PartnerCaller, view: View, audit: Audit) -> Result<Response> {
    chart(s, path, caller, view, audit, ChartFile::Svg).await
}

/// The same chart as a PNG image.
pub async fn chart_png(s: State<Arc<Services>>, path: TablePath, caller: PartnerCaller, view: View, audit: Audit) -> Result<Response> {
    chart(s, path, caller, view, audit, ChartFile::Png).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ChartFile {
    Svg,
    Png,
}

async fn chart(
    State(s): State<Arc<Services>>,
    path: TablePath,
    PartnerCaller(caller): PartnerCaller,
    view: View,
    audit: Audit,
    file: ChartFile,
) -> Result<Response> {
    audit.detail(view.raw.clone());
    limits::allow_download(&caller.recipient)?;
    let (meta, data) = query::chart(&s, &caller.recipient, &path.share, &path.schema, &path.table, &view.valid()?).await?;
    let drawn = app::contract::charts::svg(&data);
    let (extension, content_type, body) = match file {
        ChartFile::Svg => ("svg", "image/svg+xml", drawn.into_bytes()),
        ChartFile::Png => {
            let png = tokio::task::spawn_blocking(move || export::png::from_svg(&drawn))
                .await
                .map_err(|e| PortalError::fault("chart png", e))??;
            ("png", "image/png", png)
        }
    };
    let name = format!("{}_chart.{extension}", export::safe_name(&meta.name));
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}

/// The whole view, as the caller may see it and download in `format`: counted first when the
/// file has a row cap (Excel's, or the recipient's own), and held to that cap while it streams.
async fn read(s: &Services, caller: &crate::auth::Caller, path: &TablePath, view: &View, format: FileFormat) -> Result<Extract> {
    let recipient = &caller.recipient;
    limits::allow_download(recipient)?;
    let cap = RowCap::of(recipient, format, s.settings.xlsx_max_rows);
    let counted = format == FileFormat::Xlsx || cap.is_some();
    let mut extract = query::extract(s, recipient, &path.share, &path.schema, &path.table, &view.valid()?, counted).await?;
    if let Some(cap) = cap {
        cap.check(extract.rows)?;
        extract.batches = cap.hold(extract.batches);
    }
    Ok(extract)
}

/// A file download, never cached.
pub(super) fn attachment(format: FileFormat, name: &str, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}
