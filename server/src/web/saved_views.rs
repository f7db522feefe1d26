//! Saved views over HTTP: the table and home pages' forms, and the JSON API. Every call is the
//! caller's own: another recipient's view is a 404.
//!
//! - `POST /views` (share, schema, table, view, name), `POST /views/{id}/rename` (name),
//!   `POST /views/{id}/delete`: forms answering with a redirect to `back` and a `_saved` note
//! - `POST /views/{id}/delivery` (schedule, weekday, hour, content, format),
//!   `POST /views/{id}/delivery/delete`: a view's scheduled delivery, by form
//! - `GET|POST /api/v1/views`, `GET|PATCH|DELETE /api/v1/views/{id}`,
//!   `PUT|DELETE /api/v1/views/{id}/delivery`

use std::sync::Arc;

use app::contract::grammar::TableQuery;
use app::contract::{DeliveryView, SavedViewRow};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::admin_api::body;
use super::callers::{PartnerCaller, PartnerChange, PartnerForm};
use super::envelope::Audit;
use super::signin::{local_path, see_other};
use crate::auth::Caller;
use crate::catalog::{Saved, SavedView};
use crate::error::{PortalError, Result};
use crate::saved_views::SavedViews;
use crate::Services;
use crate::{deliveries, notify};

fn views<'a>(s: &'a Services, caller: &'a Caller) -> SavedViews<'a> {
    SavedViews::new(&s.catalog, &caller.recipient)
}

fn parsed(view: &str) -> Result<TableQuery> {
    TableQuery::parse_query_string(view).map_err(|e| PortalError::InvalidParameter(format!("the view cannot be read: {e}")))
}

fn noted(audit: &Audit, view: &SavedView) {
    audit.object(view.id.clone());
    audit.detail(format!("table={}.{}.{} name={:?}", view.share, view.schema, view.table, view.name));
}

// ---- forms ----

pub async fn save_form(State(s): State<Arc<Services>>, audit: Audit, form: Result<PartnerForm>) -> Response {
    let form = match form {
        Ok(form) => form,
        Err(e) => return refused(&audit, "/", e),
    };
    let back = local_path(Some(form.field("back")));
    let saved = async {
        let view = parsed(form.field("view"))?;
        views(&s, &form.caller).save(form.field("share"), form.field("schema"), form.field("table"), &view, form.field("name")).await
    }
    .await;
    match saved {
        Ok((view, how)) => {
            noted(&audit, &view);
            let how = if how == Saved::Created { "created" } else { "replaced" };
            see_other(&with_note(&SavedViewRow::from(view).href(), "_saved", how))
        }
        Err(e) => refused(&audit, &back, e),
    }
}

pub async fn rename_form(State(s): State<Arc<Services>>, Path(id): Path<String>, audit: Audit, form: Result<PartnerForm>) -> Response {
    changed_by_form(&s, &id, &audit, form, async |views, form| Ok((views.rename(&id, form.field("name")).await?, "renamed"))).await
}

pub async fn delivery_form(State(s): State<Arc<Services>>, Path(id): Path<String>, audit: Audit, form: Result<PartnerForm>) -> Response {
    changed_by_form(&s, &id, &audit, form, async |_, form| {
        let wanted = DeliveryView {
            schedule: form.field("schedule").into(),
            weekday: Some(form.field("weekday").to_string()).filter(|w| !w.is_empty()),
            hour: form.field("hour").parse().map_err(|_| PortalError::field("hour", "the hour is 0 to 23 (UTC)"))?,
            content: form.field("content").into(),
            format: form.field("format").into(),
            dialect: Some(form.field("dialect").to_string()).filter(|d| !d.is_empty()),
            next_at: None,
            last_run_at: None,
        };
        deliveries::set(&s, &form.caller.recipient, &id, &wanted).await?;
        // The note says whether the files will also come by e-mail.
        let done = match notify::reach(&s, &form.caller.recipient, notify::Kind::Delivery).await? {
            notify::Reach::Contacts(_) => "delivery",
            notify::Reach::NoContacts => "delivery_no_contacts",
            notify::Reach::NoMail => "delivery_no_mail",
        };
        Ok((SavedViews::new(&s.catalog, &form.caller.recipient).get(&id).await?, done))
    })
    .await
}

pub async fn delivery_delete_form(
    State(s): State<Arc<Services>>,
    Path(id): Path<String>,
    audit: Audit,
    form: Result<PartnerForm>,
) -> Response {
    changed_by_form(&s, &id, &audit, form, async |views, form| {
        deliveries::remove(&s, &form.caller.recipient, &id).await?;
        Ok((views.get(&id).await?, "delivery_stopped"))
    })
    .await
}

pub async fn delete_form(State(s): State<Arc<Services>>, Path(id): Path<String>, audit: Audit, form: Result<PartnerForm>) -> Response {
    changed_by_form(&s, &id, &audit, form, async |views, _| Ok((views.delete(&id).await?, "deleted"))).await
}

/// A form that changes the view `id`, answered with a redirect back and `_saved=<done>`.
/// Runs a saved-view form's change; answers with a redirect back carrying the `_saved` note the
/// change names, or the refusal.
async fn changed_by_form<F>(s: &Services, id: &str, audit: &Audit, form: Result<PartnerForm>, change: F) -> Response
where
    F: AsyncFnOnce(SavedViews<'_>, &PartnerForm) -> Result<(SavedView, &'static str)>,
{
    audit.object(id.to_string());
    let form = match form {
        Ok(form) => form,
        Err(e) => return refused(audit, "/", e),
    };
    let back = local_path(Some(form.field("back")));
    match change(views(s, &form.caller), &form).await {
        Ok((view, done)) => {
            noted(audit, &view);
            see_other(&with_note(&back, "_saved", done))
        }
        Err(e) => refused(audit, &back, e),
    }
}

/// `back` with `key=value` added to its query and the saved views in sight.
fn with_note(back: &str, key: &str, value: &str) -> String {
    let joiner = if back.contains('?') { '&' } else { '?' };
    format!("{back}{joiner}{key}={value}#saved-views")
}

/// A refused form goes back where it came from with the reason as `_saved_error`.
fn refused(audit: &Audit, back: &str, e: PortalError) -> Response {
    audit.refused(&e);
    let code = match &e {
        e if matches!(e, PortalError::Unauthenticated(_)) || e.is_bad_credentials() => {
            return see_other(&format!("/login?next={}", app::contract::grammar::encode(back)));
        }
        PortalError::Field { field, .. } => field,
        PortalError::Conflict(_) => "taken",
        PortalError::NotFound(_) => "gone",
        PortalError::Forbidden(_) | PortalError::Malformed(_) | PortalError::InvalidParameter(_) => "form",
        e if e.status().is_client_error() => "form",
        e => {
            tracing::error!(error = %e, "saved view form failed");
            "unavailable"
        }
    };
    see_other(&with_note(back, "_saved_error", code))
}

// ---- JSON API ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewView {
    share: String,
    schema: String,
    table: String,
    /// The view's query string, as the table page's URL has it (may be empty).
    #[serde(default)]
    view: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewPatch {
    name: String,
}

pub async fn list(State(s): State<Arc<Services>>, PartnerCaller(caller): PartnerCaller) -> Result<Json<serde_json::Value>> {
    let items: Vec<SavedViewRow> = deliveries::rows(&s, &caller.recipient, views(&s, &caller).list().await?).await?;
    Ok(Json(serde_json::json!({ "items": items })))
}

pub async fn create(State(s): State<Arc<Services>>, PartnerChange(caller): PartnerChange, audit: Audit, bytes: Bytes) -> Result<Response> {
    let new: NewView = body(&bytes)?;
    let (view, how) = views(&s, &caller).save(&new.share, &new.schema, &new.table, &parsed(&new.view)?, &new.name).await?;
    noted(&audit, &view);
    let status = if how == Saved::Created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(SavedViewRow::from(view))).into_response())
}

pub async fn show(
    State(s): State<Arc<Services>>,
    PartnerCaller(caller): PartnerCaller,
    Path(id): Path<String>,
) -> Result<Json<SavedViewRow>> {
    let view = views(&s, &caller).get(&id).await?;
    Ok(Json(deliveries::rows(&s, &caller.recipient, vec![view]).await?.remove(0)))
}

pub async fn set_delivery(
    State(s): State<Arc<Services>>,
    PartnerChange(caller): PartnerChange,
    Path(id): Path<String>,
    audit: Audit,
    bytes: Bytes,
) -> Result<Json<SavedViewRow>> {
    audit.object(id.clone());
    let wanted: DeliveryView = body(&bytes)?;
    audit.detail(wanted.describe());
    Ok(Json(deliveries::set(&s, &caller.recipient, &id, &wanted).await?))
}

pub async fn remove_delivery(
    State(s): State<Arc<Services>>,
    PartnerChange(caller): PartnerChange,
    Path(id): Path<String>,
    audit: Audit,
) -> Result<Json<SavedViewRow>> {
    audit.object(id.clone());
    Ok(Json(deliveries::remove(&s, &caller.recipient, &id).await?))
}

pub async fn rename(
    State(s): State<Arc<Services>>,
    PartnerChange(caller): PartnerChange,
    Path(id): Path<String>,
    audit: Audit,
    bytes: Bytes,
) -> Result<Json<SavedViewRow>> {
    audit.object(id.clone());
    let patch: ViewPatch = body(&bytes)?;
    let view = views(&s, &caller).rename(&id, &patch.name).await?;
    noted(&audit, &view);
    Ok(Json(view.into()))
}

pub async fn delete(
    State(s): State<Arc<Services>>,
    PartnerChange(caller): PartnerChange,
    Path(id): Path<String>,
    audit: Audit,
) -> Result<Json<SavedViewRow>> {
    audit.object(id.clone());
    let view = views(&s, &caller).delete(&id).await?;
    noted(&audit, &view);
    Ok(Json(view.into()))
}
