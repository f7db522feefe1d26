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
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::api::error_response;
use super::audit;
use super::partner::{self, PartnerForm};
use super::signin::see_other;
use crate::auth::Caller;
use crate::catalog::ExportJob;
use crate::error::{PortalError, Result};
use crate::export::jobs::{ExportJobs, FileFormat};
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

pub async fn create(State(s): State<Arc<Services>>, path: Result<Path<(String, String, String)>, PathRejection>, req: Request) -> Response {
    let raw_query = req.uri().query().unwrap_or_default().to_string();
    let object = path.as_ref().ok().map(|Path((a, b, c))| format!("{a}.{b}.{c}"));
    api_call(&s, req.headers(), req.extensions(), "export.jobCreate", object, true, async |s: &Arc<Services>, caller: &Caller| {
        let Path((share, schema, table)) = path.map_err(|e| PortalError::Malformed(e.body_text()))?;
        let (options, view) = super::export::file_options(&raw_query, &["_format", "_dialect"]);
        let option = |name: &str| options.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let format = FileFormat::parse(option("_format"), option("_dialect"))?;
        let job = ExportJobs::submit(s, &caller.recipient, &share, &schema, &table, &view, format).await?;
        Ok((StatusCode::ACCEPTED, Json(job_view(s, &job))).into_response())
    })
    .await
}

pub async fn list(State(s): State<Arc<Services>>, req: Request) -> Response {
    api_call(&s, req.headers(), req.extensions(), "export.jobList", None, false, async |s: &Arc<Services>, caller: &Caller| {
        let jobs = s.jobs.list(&caller.recipient).await?;
        let items: Vec<_> = jobs.iter().map(|j| job_view(s, j)).collect();
        Ok(Json(serde_json::json!({ "items": items })).into_response())
    })
    .await
}

pub async fn show(State(s): State<Arc<Services>>, Path(id): Path<String>, req: Request) -> Response {
    // Polled while a job runs: not audited (the create and the download are).
    let caller = match partner::authenticate(&s, req.headers()).await {
        Ok(c) => c,
        Err(e) => return error_response(e),
    };
    match s.jobs.get(&caller.recipient, &id).await {
        Ok(job) => Json(job_view(&s, &job)).into_response(),
        Err(e) => error_response(e),
    }
}

pub async fn cancel(State(s): State<Arc<Services>>, Path(id): Path<String>, req: Request) -> Response {
    api_call(&s, req.headers(), req.extensions(), "export.jobCancel", Some(id.clone()), true, async |s: &Arc<Services>, caller: &Caller| {
        let job = s.jobs.cancel(&caller.recipient, &id).await?;
        Ok(Json(job_view(s, &job)).into_response())
    })
    .await
}

pub async fn file(State(s): State<Arc<Services>>, Path(id): Path<String>, req: Request) -> Response {
    api_call(&s, req.headers(), req.extensions(), "export.jobDownload", Some(id.clone()), false, async |s: &Arc<Services>, caller: &Caller| {
        let (job, download) = s.jobs.download(&caller.recipient, &id).await?;
        // The table must still be shared with the caller: access is decided now, not when the
        // export started.
        crate::auth::Access::new(&s.catalog, &caller.recipient).table(&job.share, &job.schema, &job.table).await?;
        let (file, length) = match download {
            Download::File(file, length) => (file, length),
            // Object-store exports are fetched from the store itself, by a short-lived signed URL.
            Download::Redirect(url) => {
                return Ok((StatusCode::SEE_OTHER, [(header::LOCATION, url), (header::CACHE_CONTROL, "no-store".into())]).into_response())
            }
        };
        let name = job.file_name.clone().unwrap_or_else(|| format!("export.{}", job.format));
        let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
        let mut response = super::export::attachment(&job.format, &name, body);
        response.headers_mut().insert(header::CONTENT_LENGTH, length.into());
        Ok(response)
    })
    .await
}

/// Authenticates (with the form token when a session cookie changes something), runs `call`,
/// audits it with its status, and answers errors as `{"errorCode","message"}`.
async fn api_call<F>(
    s: &Arc<Services>,
    headers: &HeaderMap,
    extensions: &axum::http::Extensions,
    action: &str,
    object: Option<String>,
    changes: bool,
    call: F,
) -> Response
where
    F: AsyncFnOnce(&Arc<Services>, &Caller) -> Result<Response>,
{
    let caller = if changes { partner::authenticate_change(s, headers).await } else { partner::authenticate(s, headers).await };
    let actor = caller.as_ref().map_or_else(|_| "anonymous".to_string(), |c| audit::actor(&c.recipient.name));
    let result = match caller {
        Ok(c) => call(s, &c).await,
        Err(e) => Err(e),
    };
    let status = result.as_ref().map_or_else(|e| e.status().as_u16(), |r| r.status().as_u16());
    let mut event = audit::event(headers, extensions, actor, action, status);
    event.object = object;
    audit::record(s, event).await;
    result.unwrap_or_else(error_response)
}

/// `POST /exports`: the table page's "Prepare …" buttons.
pub async fn create_form(State(s): State<Arc<Services>>, req: Request) -> Response {
    let form = match PartnerForm::read(&s, req).await {
        Ok(f) => f,
        Err(e) => return form_refused(e),
    };
    let (share, schema, table) = (form.field("share"), form.field("schema"), form.field("table"));
    let result = async {
        let format = FileFormat::parse(Some(form.field("format")), Some(form.field("dialect")).filter(|d| !d.is_empty()))?;
        ExportJobs::submit(&s, &form.caller.recipient, share, schema, table, form.field("view"), format).await
    }
    .await;
    form.audit(&s, "export.jobCreate", Some(format!("{share}.{schema}.{table}")), result.as_ref().map_or_else(|e| e.status().as_u16(), |_| 303)).await;
    match result {
        Ok(job) => see_other(&format!("/exports#job-{}", job.id)),
        Err(e) => form_refused(e),
    }
}

/// `POST /exports/{id}/cancel`.
pub async fn cancel_form(State(s): State<Arc<Services>>, Path(id): Path<String>, req: Request) -> Response {
    let form = match PartnerForm::read(&s, req).await {
        Ok(f) => f,
        Err(e) => return form_refused(e),
    };
    let result = s.jobs.cancel(&form.caller.recipient, &id).await;
    form.audit(&s, "export.jobCancel", Some(id), result.as_ref().map_or_else(|e| e.status().as_u16(), |_| 303)).await;
    match result {
        Ok(_) => see_other("/exports"),
        Err(e) => form_refused(e),
    }
}

fn form_refused(e: PortalError) -> Response {
    match e {
        PortalError::Forbidden(_) => see_other("/exports?error=form"),
        PortalError::Unauthenticated(_) => see_other("/login?next=/exports"),
        PortalError::NotFound(_) => see_other("/exports?error=notfound"),
        e if e.status().is_client_error() => see_other("/exports?error=view"),
        e => {
            tracing::error!(error = %e, "export form failed");
            see_other("/exports?error=unavailable")
        }
    }
}
