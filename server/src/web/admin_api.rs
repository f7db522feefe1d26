//! `/api/v1/admin/...`: JSON for automation, over the same service functions as the console.
//! Admin API tokens authenticate; an admin browser session may too, with the form token in
//! `X-CSRF-Token` for changes.

use std::sync::Arc;

use app::contract::AuditQuery;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use super::partner::CSRF_HEADER;
use crate::admin::{audit_log, identity, locations, recipients, shares, teams, Admin};
use crate::auth::forms;
use crate::error::{PortalError, Result};
use crate::Services;

pub fn router() -> Router<Arc<Services>> {
    Router::new()
        .route("/teams", get(list_teams).post(create_team))
        .route("/recipients", get(list_recipients).post(create_recipient))
        .route("/recipients/{name}", get(show_recipient).patch(update_recipient).delete(delete_recipient))
        .route("/recipients/{name}/activation-links", post(activation_link))
        .route("/recipients/{name}/rotate", post(rotate))
        .route("/recipients/{name}/tokens/{id}/revoke", post(revoke_token))
        .route("/shares", get(list_shares).post(create_share))
        .route("/shares/{name}", get(show_share).patch(update_share).delete(delete_share))
        .route("/shares/{name}/tables", post(add_table))
        .route("/shares/{name}/tables/{table}", axum::routing::patch(update_table).delete(remove_table))
        .route("/shares/{name}/tables/{table}/preview", get(preview))
        .route("/shares/{name}/grants/{recipient}", put(grant).delete(revoke_grant))
        .route("/locations", get(list_locations).post(create_location))
        .route("/locations/{name}", get(show_location).delete(delete_location))
        .route("/locations/{name}/grants/{team}", put(grant_location).delete(revoke_location))
        .route("/audit", get(audit))
        .route("/audit.csv", get(audit_csv))
        .route("/api-tokens", get(list_api_tokens).post(create_api_token))
        .route("/api-tokens/{id}", axum::routing::delete(revoke_api_token))
        .fallback(|| async { PortalError::NotFound("no such admin API endpoint".into()) })
}

/// The admin behind a read.
async fn reader(s: &Services, headers: &HeaderMap) -> Result<Admin> {
    identity::authenticate(s, headers).await
}

/// The admin behind a change: a session cookie alone is not enough (another site could make the
/// browser send it); it must come with the form token. A token in `Authorization` needs none.
async fn changer(s: &Services, headers: &HeaderMap) -> Result<Admin> {
    let admin = identity::authenticate(s, headers).await?;
    if !headers.contains_key(header::AUTHORIZATION) {
        forms::verify(&s.signer, headers, headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()))?;
    }
    Ok(admin)
}

fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| PortalError::Malformed(format!("the request body is not the JSON this endpoint takes: {e}")))
}

fn items<T: serde::Serialize>(items: Vec<T>) -> Response {
    Json(json!({ "items": items })).into_response()
}

fn created<T: serde::Serialize>(value: T) -> Response {
    (StatusCode::CREATED, Json(value)).into_response()
}

fn deleted() -> Response {
    Json(json!({ "deleted": true })).into_response()
}

/// Runs a handler body; its error is the response (`{"errorCode","message"[,"field"]}`).
async fn answer(work: impl std::future::Future<Output = Result<Response>>) -> Response {
    work.await.unwrap_or_else(IntoResponse::into_response)
}

async fn list_teams(State(s): State<Arc<Services>>, headers: HeaderMap) -> Response {
    answer(async { Ok(items(teams::list(&s, &reader(&s, &headers).await?).await?)) }).await
}

async fn create_team(State(s): State<Arc<Services>>, headers: HeaderMap, bytes: Bytes) -> Response {
    answer(async { Ok(created(teams::create(&s, &changer(&s, &headers).await?, body(&bytes)?).await?)) }).await
}

async fn list_recipients(State(s): State<Arc<Services>>, headers: HeaderMap) -> Response {
    answer(async { Ok(items(recipients::list(&s, &reader(&s, &headers).await?).await?)) }).await
}

async fn create_recipient(State(s): State<Arc<Services>>, headers: HeaderMap, bytes: Bytes) -> Response {
    answer(async { Ok(created(recipients::create(&s, &changer(&s, &headers).await?, body(&bytes)?).await?)) }).await
}

async fn show_recipient(State(s): State<Arc<Services>>, headers: HeaderMap, Path(name): Path<String>) -> Response {
    answer(async { Ok(Json(recipients::detail(&s, &reader(&s, &headers).await?, &name).await?).into_response()) }).await
}

async fn update_recipient(State(s): State<Arc<Services>>, headers: HeaderMap, Path(name): Path<String>, bytes: Bytes) -> Response {
    answer(async { Ok(Json(recipients::update(&s, &changer(&s, &headers).await?, &name, body(&bytes)?).await?).into_response()) }).await
}

async fn delete_recipient(State(s): State<Arc<Services>>, headers: HeaderMap, Path(name): Path<String>) -> Response {
    answer(async {
        recipients::delete(&s, &changer(&s, &headers).await?, &name).await?;
        Ok(deleted())
    })
    .await
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LinkRequest {
    ttl_hours: Option<u32>,
}

async fn activation_link(State(s): State<Arc<Services>>, headers: HeaderMap, Path(name): Path<String>, bytes: Bytes) -> Response {
    answer(async {
        let admin = changer(&s, &headers).await?;
        let request: LinkRequest = if bytes.is_empty() { LinkRequest::default() } else { body(&bytes)? };
        Ok(created(recipients::activation_link(&s, &admin, &name, request.ttl_hours).await?))
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RotateRequest {
    overlap_hours: u32,
}

async fn rotate(State(s): State<Arc<Services>>, headers: HeaderMap, Path(name): Path<String>, bytes: Bytes) -> Response {
    answer(async {
        let admin = changer(&s, &headers).await?;
        let request: RotateRequest = body(&bytes)?;
        Ok(created(recipients::rotate(&s, &admin, &name, request.overlap_hours).await?))
    })
    .await
}

async fn revoke_token(State(s): State<Arc<Services>>, headers: HeaderMap, Path((name, id)): Path<(String, String)>) -> Response {
    answer(async { Ok(Json(recipients::revoke_token(&s, &changer(&s, &headers).await?, &name, &id).await?).into_response()) }).await
}

async fn list_shares(State(s): State<Arc<Services>>, headers: HeaderMap) -> Response {
    answer(async { Ok(items(shares::list(&s, &reader(&s, &headers).await?).await?)) }).await
}

async fn create_share(State(s): State<Arc<Services>>, headers: HeaderMap, bytes: Bytes) -> Response {
    answer(async { Ok(created(shares::create(&s, &changer(&s, &headers).await?, body(&bytes)?).await?)) }).await
}

async fn show_share(State(s): State<Arc<Services>>, headers: HeaderMap, Path(name): Path<String>) -> Response {
    answer(async { Ok(Json(shares::detail(&s, &reader(&s, &headers).await?, &name).await?).into_response()) }).await
}

async fn update_share(State(s): State<Arc<Services>>, headers: HeaderMap, Path(name): Path<String>, bytes: Bytes) -> Response {
    answer(async { Ok(Json(shares::update(&s, &changer(&s, &headers).await?, &name, body(&bytes)?).await?).into_response()) }).await
}

async fn delete_share(State(s): State<Arc<Services>>, headers: HeaderMap, Path(name): Path<String>) -> Response {
    answer(async {
        shares::delete(&s, &changer(&s, &headers).await?, &name).await?;
        Ok(deleted())
    })
    .await
}

async fn add_table(State(s): State<Arc<Services>>, headers: HeaderMap, Path(name): Path<String>, bytes: Bytes) -> Response {
    answer(async { Ok(created(shares::add_table(&s, &changer(&s, &headers).await?, &name, body(&bytes)?).await?)) }).await
}

async fn update_table(State(s): State<Arc<Services>>, headers: HeaderMap, Path((name, table)): Path<(String, String)>, bytes: Bytes) -> Response {
    answer(async { Ok(Json(shares::update_table(&s, &changer(&s, &headers).await?, &name, &table, body(&bytes)?).await?).into_response()) }).await
}

async fn remove_table(State(s): State<Arc<Services>>, headers: HeaderMap, Path((name, table)): Path<(String, String)>) -> Response {
    answer(async {
        shares::remove_table(&s, &changer(&s, &headers).await?, &name, &table).await?;
        Ok(deleted())
    })
    .await
}

/// The table as a recipient sees it: its grant, its row scope, the table page's grammar.
async fn preview(State(s): State<Arc<Services>>, headers: HeaderMap, Path((name, table)): Path<(String, String)>, RawQuery(raw): RawQuery) -> Response {
    answer(async {
        let admin = reader(&s, &headers).await?;
        // `as` names the recipient; the rest is the table page's grammar, as downloads split it.
        let (options, view) = super::export::file_options(&raw.unwrap_or_default(), &["as"]);
        let as_name = options.first().map(|(_, v)| v.as_str()).unwrap_or_default();
        let (share, found, recipient) = shares::preview_target(&s, &admin, &name, &table, as_name).await?;
        let (body, _) = super::api::rows_json(&s, &recipient, &share.name, &found.schema_name, &found.name, &view).await?;
        Ok(Json(body).into_response())
    })
    .await
}

async fn grant(State(s): State<Arc<Services>>, headers: HeaderMap, Path((name, recipient)): Path<(String, String)>) -> Response {
    answer(async { Ok(Json(shares::set_grant(&s, &changer(&s, &headers).await?, &name, &recipient, true).await?).into_response()) }).await
}

async fn revoke_grant(State(s): State<Arc<Services>>, headers: HeaderMap, Path((name, recipient)): Path<(String, String)>) -> Response {
    answer(async { Ok(Json(shares::set_grant(&s, &changer(&s, &headers).await?, &name, &recipient, false).await?).into_response()) }).await
}

async fn list_locations(State(s): State<Arc<Services>>, headers: HeaderMap) -> Response {
    answer(async { Ok(items(locations::list(&s, &reader(&s, &headers).await?).await?)) }).await
}

async fn create_location(State(s): State<Arc<Services>>, headers: HeaderMap, bytes: Bytes) -> Response {
    answer(async { Ok(created(locations::create(&s, &changer(&s, &headers).await?, body(&bytes)?).await?)) }).await
}

async fn show_location(State(s): State<Arc<Services>>, headers: HeaderMap, Path(name): Path<String>) -> Response {
    answer(async { Ok(Json(locations::detail(&s, &reader(&s, &headers).await?, &name).await?).into_response()) }).await
}

async fn delete_location(State(s): State<Arc<Services>>, headers: HeaderMap, Path(name): Path<String>) -> Response {
    answer(async {
        locations::delete(&s, &changer(&s, &headers).await?, &name).await?;
        Ok(deleted())
    })
    .await
}

async fn grant_location(State(s): State<Arc<Services>>, headers: HeaderMap, Path((name, team)): Path<(String, String)>) -> Response {
    answer(async { Ok(Json(locations::set_grant(&s, &changer(&s, &headers).await?, &name, &team, true).await?).into_response()) }).await
}

async fn revoke_location(State(s): State<Arc<Services>>, headers: HeaderMap, Path((name, team)): Path<(String, String)>) -> Response {
    answer(async { Ok(Json(locations::set_grant(&s, &changer(&s, &headers).await?, &name, &team, false).await?).into_response()) }).await
}

/// The audit filters and `limit` (read as text: the query string holds only text).
#[derive(Deserialize)]
pub struct AuditParams {
    #[serde(flatten)]
    query: AuditQuery,
    limit: Option<String>,
}

impl AuditParams {
    fn limit(&self, default: i64) -> Result<i64> {
        match self.limit.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            None => Ok(default),
            Some(text) => text.parse().map_err(|_| PortalError::field("limit", format!("limit `{text}` is not a whole number"))),
        }
    }
}

async fn audit(State(s): State<Arc<Services>>, headers: HeaderMap, Query(params): Query<AuditParams>) -> Response {
    answer(async {
        let admin = reader(&s, &headers).await?;
        Ok(items(audit_log::events(&s, &admin, &params.query, params.limit(500)?).await?))
    })
    .await
}

pub async fn audit_csv(State(s): State<Arc<Services>>, headers: HeaderMap, Query(params): Query<AuditParams>) -> Response {
    answer(async {
        let admin = reader(&s, &headers).await?;
        let rows = audit_log::events(&s, &admin, &params.query, params.limit(audit_log::MAX_EVENTS)?).await?;
        Ok(audit_csv_response(audit_log::csv(&rows)?))
    })
    .await
}

pub fn audit_csv_response(bytes: Vec<u8>) -> Response {
    let name = format!("audit_{}.csv", chrono::Utc::now().format("%Y-%m-%d"));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

async fn list_api_tokens(State(s): State<Arc<Services>>, headers: HeaderMap) -> Response {
    answer(async { Ok(items(teams::tokens(&s, &reader(&s, &headers).await?).await?)) }).await
}

async fn create_api_token(State(s): State<Arc<Services>>, headers: HeaderMap, bytes: Bytes) -> Response {
    answer(async { Ok(created(teams::create_token(&s, &changer(&s, &headers).await?, body(&bytes)?).await?)) }).await
}

async fn revoke_api_token(State(s): State<Arc<Services>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    answer(async {
        teams::revoke_token(&s, &changer(&s, &headers).await?, &id).await?;
        Ok(deleted())
    })
    .await
}
