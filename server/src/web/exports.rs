//! Background exports over HTTP: the JSON API (scripts, and the browser with its form token)
//! and the `/exports` forms. Every call is the caller's own: another recipient's job is a 404.
//!
//! - `POST /api/v1/shares/{s}/schemas/{d}/tables/{t}/exports?<view>&_format=xlsx|csv[&_dialect=]` → 202
//! - `GET /api/v1/exports`, `GET /api/v1/exports/{id}`, `GET /api/v1/exports/{id}/file`
//! - `DELETE /api/v1/exports/{id}`: cancel, or delete a finished file now
//! - `POST /exports` and `POST /exports/{id}/cancel`: the same from the browser's forms

use std::sync::Arc;

use app::contract::grammar::encode;
use app::contract::{table_href, ExportJobView};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::callers::{PartnerCaller, PartnerChange, PartnerForm};
use super::envelope::Audit;
use super::signin::see_other;
use super::views::{TablePath, View};
use crate::catalog::ExportJob;
use crate::error::{PortalError, Result};
use crate::export::format::FileFormat;
use crate::export::jobs::ExportJobs;
use crate::export::outputs::Download;
use crate::primitives::time::rfc3339_ms;
use crate::Services;

/// The job as the API and the page show it.
pub fn job_view(s: &Services, job: &ExportJob) -> ExportJobView {
    let to_u64 = |n: i64| u64::try_from(n).unwrap_or(0);
    let done = job.status == crate::catalog::JobStatus::Done;
    let suffix = if job.view.is_empty() { String::new() } else { format!("?{}", job.view) };
    ExportJobView {
        id: job.id.clone(),
        table: format!("{}.{}.{}", job.share, job.schema, job.table),
        format: job.format.clone(),
        dialect: job.dialect.clone(),
        view: job.view.clone(),
        description: job.description.clone(),
        status: job.status.as_str().into(),
        rows_written: to_u64(job.rows_written),
        rows_total: job.rows_total.map(to_u64),
        bytes: job.bytes.map(to_u64),
        file_name: job.file_name.clone(),
        error: job.error.clone(),
        created_at: rfc3339_ms(job.created_at),
        finished_at: job.finished_at.map(rfc3339_ms),
        expires_at: job.expires_at.map(rfc3339_ms),
        download_url: done.then(|| format!("{}/api/v1/exports/{}/file", s.settings.public_url, encode(&job.id))),
        view_href: format!("{}{suffix}", table_href(&job.share, &job.schema, &job.table)),
    }
}

pub async fn create(State(s): State<Arc<Services>>, path: TablePath, PartnerChange(caller): PartnerChange, view: View) -> Result<Response> {
    let format = view.file_format()?;
    let job = ExportJobs::submit(&s, &caller.recipient, (&path.share, &path.schema, &path.table), &view.valid()?, format, None).await?;
    Ok((StatusCode::ACCEPTED, Json(job_view(&s, &job))).into_response())
}

pub async fn list(State(s): State<Arc<Services>>, PartnerCaller(caller): PartnerCaller) -> Result<Json<serde_json::Value>> {
    let jobs = s.jobs.list(&caller.recipient).await?;
    let items: Vec<_> = jobs.iter().map(|j| job_view(&s, j)).collect();
    Ok(Json(serde_json::json!({ "items": items })))
}

/// Polled while a job runs: not audited (the create and the download are).
pub async fn show(
    State(s): State<Arc<Services>>,
    Path(id): Path<String>,
    PartnerCaller(caller): PartnerCaller,
) -> Result<Json<ExportJobView>> {
    Ok(Json(job_view(&s, &s.jobs.get(&caller.recipient, &id).await?)))
}

pub async fn cancel(
    State(s): State<Arc<Services>>,
    Path(id): Path<String>,
    audit: Audit,
    PartnerChange(caller): PartnerChange,
) -> Result<Json<ExportJobView>> {
    audit.object(id.clone());
    Ok(Json(job_view(&s, &s.jobs.cancel(&caller.recipient, &id).await?)))
}

pub async fn file(
    State(s): State<Arc<Services>>,
    Path(id): Path<String>,
    audit: Audit,
    PartnerCaller(caller): PartnerCaller,
) -> Result<Response> {
    audit.object(id.clone());
    let (job, download) = s.jobs.download(&caller.recipient, &id).await?;
    // The table must still be shared with the caller: access is decided now, not when the
    // export started.
    crate::auth::Access::new(&s.catalog, &caller.recipient).table(&job.share, &job.schema, &job.table).await?;
    // And so are the recipient's download limits (an admin may have tightened them since).
    let format = FileFormat::parse(Some(&job.format), Some(&job.dialect).filter(|d| !d.is_empty()).map(String::as_str))?;
    crate::export::limits::allow_download(&caller.recipient)?;
    if let Some(cap) = crate::export::limits::RowCap::of(&caller.recipient, format, s.settings.xlsx_max_rows) {
        cap.check(Some(job.rows_written.max(0) as u64))?;
    }
    let (file, length) = match download {
        Download::File(file, length) => (file, length),
        // Object-store exports are fetched from the store itself, by a short-lived signed URL.
        Download::Redirect(url) => {
            return Ok((StatusCode::SEE_OTHER, [(header::LOCATION, url), (header::CACHE_CONTROL, "no-store".into())]).into_response())
        }
    };
    let name = job.file_name.clone().unwrap_or_else(|| format!("export.{}", job.format));
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let mut response = super::export::attachment(format, &name, body);
    response.headers_mut().insert(header::CONTENT_LENGTH, length.into());
    Ok(response)
}

/// `POST /exports`: the table page's "Prepare …" buttons.
pub async fn create_form(State(s): State<Arc<Services>>, audit: Audit, form: Result<PartnerForm>) -> Response {
    let form = match form {
        Ok(form) => form,
        Err(e) => return form_refused(&audit, e),
    };
    let result = async {
        let (share, schema, table) = (form.field("share"), form.field("schema"), form.field("table"));
        audit.object(format!("{share}.{schema}.{table}"));
        let format = FileFormat::parse(Some(form.field("format")), Some(form.field("dialect")).filter(|d| !d.is_empty()))?;
        let view = View::parse(form.field("view")).valid()?;
        ExportJobs::submit(&s, &form.caller.recipient, (share, schema, table), &view, format, None).await
    }
    .await;
    match result {
        Ok(job) => see_other(&format!("/exports#job-{}", job.id)),
        // The form was good: a refusal here is the recipient's own download limit.
        Err(PortalError::Forbidden(why)) => {
            audit.refused(&PortalError::Forbidden(why));
            see_other("/exports?error=downloads_off")
        }
        Err(e) => form_refused(&audit, e),
    }
}

/// `POST /exports/{id}/cancel`.
pub async fn cancel_form(State(s): State<Arc<Services>>, Path(id): Path<String>, audit: Audit, form: Result<PartnerForm>) -> Response {
    audit.object(id.clone());
    let result = async { s.jobs.cancel(&form?.caller.recipient, &id).await }.await;
    match result {
        Ok(_) => see_other("/exports"),
        Err(e) => form_refused(&audit, e),
    }
}

fn form_refused(audit: &Audit, e: PortalError) -> Response {
    audit.refused(&e);
    match e {
        PortalError::Forbidden(_) => see_other("/exports?error=form"),
        PortalError::QuotaReached { .. } => see_other("/exports?error=daily_limit"),
        PortalError::Unauthenticated(_) => see_other("/login?next=/exports"),
        PortalError::NotFound(_) => see_other("/exports?error=notfound"),
        e if e.status().is_client_error() => see_other("/exports?error=view"),
        e => {
            tracing::error!(error = %e, "export form failed");
            see_other("/exports?error=unavailable")
        }
    }
}
