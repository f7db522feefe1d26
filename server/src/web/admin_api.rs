//! `/api/v1/admin/...`: JSON for automation, over the same service functions as the console.
//! Admin API tokens authenticate; an admin browser session may too, with the form token in
//! `X-CSRF-Token` for changes.

use std::sync::Arc;

use app::contract::AuditQuery;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::handler::Handler;
use axum::http::Method;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use super::callers::{AdminChanger, AdminReader};
use super::views::{TablePath, View};
use crate::admin::{audit_log, locations, machine_access, recipients, shares, teams, usage as usage_figures};
use crate::error::{PortalError, Result};
use crate::Services;

/// One endpoint of the admin API: what answers it and how it is documented. The router and
/// the OpenAPI document (`openapi`) are both built from [`endpoints`], so they cannot drift.
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// The request body's schema, if it takes one.
    pub request: Option<&'static str>,
    pub status: u16,
    pub response: &'static str,
    handler: MethodRouter<Arc<Services>>,
}

fn ep<H, T>(
    method: Method,
    path: &'static str,
    handler: H,
    summary: &'static str,
    request: Option<&'static str>,
    status: u16,
    response: &'static str,
) -> Endpoint
where
    H: Handler<T, Arc<Services>>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a standard method");
    let name = match method {
        Method::GET => "get",
        Method::POST => "post",
        Method::PUT => "put",
        Method::PATCH => "patch",
        _ => "delete",
    };
    Endpoint { method: name, path, summary, request, status, response, handler: on(filter, handler) }
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        ep(Method::GET, "/teams", list_teams, "List teams (platform admins)", None, 200, "TeamList"),
        ep(Method::POST, "/teams", create_team, "Create a team (platform admins)", Some("NewTeam"), 201, "Team"),
        ep(Method::GET, "/recipients", list_recipients, "List recipients with status and usage", None, 200, "RecipientList"),
        ep(Method::POST, "/recipients", create_recipient, "Create a recipient", Some("NewRecipient"), 201, "RecipientDetail"),
        ep(Method::GET, "/recipients/{name}", show_recipient, "A recipient with tokens, links and grants", None, 200, "RecipientDetail"),
        ep(
            Method::PATCH,
            "/recipients/{name}",
            update_recipient,
            "Change comment, properties, IP allow-list or OIDC binding",
            Some("RecipientPatch"),
            200,
            "RecipientDetail",
        ),
        ep(Method::DELETE, "/recipients/{name}", delete_recipient, "Delete a recipient", None, 200, "Deleted"),
        ep(
            Method::POST,
            "/recipients/{name}/contacts",
            add_contact,
            "Add a contact the portal e-mails",
            Some("NewContact"),
            201,
            "RecipientDetail",
        ),
        ep(Method::DELETE, "/recipients/{name}/contacts/{id}", remove_contact, "Remove a contact", None, 200, "RecipientDetail"),
        ep(
            Method::PUT,
            "/recipients/{name}/limits",
            set_limits,
            "Set what the recipient may download: files at all, rows per download, export jobs per day",
            Some("DownloadLimits"),
            200,
            "RecipientDetail",
        ),
        ep(
            Method::POST,
            "/recipients/{name}/activation-links",
            activation_link,
            "Create a one-time activation link",
            Some("LinkRequest"),
            201,
            "IssuedLink",
        ),
        ep(
            Method::POST,
            "/recipients/{name}/rotate",
            rotate,
            "End active tokens after an overlap and issue a new activation link",
            Some("RotateRequest"),
            201,
            "IssuedLink",
        ),
        ep(Method::POST, "/recipients/{name}/tokens/{id}/revoke", revoke_token, "Revoke one token", None, 200, "RecipientDetail"),
        ep(
            Method::POST,
            "/recipients/{name}/oauth-clients",
            create_client,
            "Create an OAuth client for a partner's pipeline (its secret is shown once)",
            Some("NewClient"),
            201,
            "IssuedClient",
        ),
        ep(
            Method::POST,
            "/recipients/{name}/oauth-clients/{id}/rotate",
            rotate_client,
            "A new secret for an OAuth client; the old one works for the overlap",
            Some("RotateRequest"),
            201,
            "IssuedClient",
        ),
        ep(
            Method::POST,
            "/recipients/{name}/oauth-clients/{id}/revoke",
            revoke_client,
            "Revoke an OAuth client and its access tokens",
            None,
            200,
            "RecipientDetail",
        ),
        ep(
            Method::POST,
            "/recipients/{name}/federation-policies",
            add_policy,
            "Let JWTs of the partner's identity provider act as the recipient",
            Some("FederationPolicy"),
            201,
            "RecipientDetail",
        ),
        ep(
            Method::DELETE,
            "/recipients/{name}/federation-policies/{id}",
            remove_policy,
            "Remove a federation policy",
            None,
            200,
            "RecipientDetail",
        ),
        ep(Method::GET, "/shares", list_shares, "List shares", None, 200, "ShareList"),
        ep(Method::POST, "/shares", create_share, "Create a share", Some("NewShare"), 201, "ShareDetail"),
        ep(Method::GET, "/shares/{name}", show_share, "A share with its tables (and their schemas) and grants", None, 200, "ShareDetail"),
        ep(Method::PATCH, "/shares/{name}", update_share, "Change a share's comment", Some("SharePatch"), 200, "ShareDetail"),
        ep(Method::DELETE, "/shares/{name}", delete_share, "Delete a share", None, 200, "Deleted"),
        ep(Method::POST, "/shares/{name}/tables", add_table, "Add a Delta table by location", Some("NewTable"), 201, "TableDetail"),
        ep(
            Method::PATCH,
            "/shares/{name}/tables/{table}",
            update_table,
            "Alias, comment, history or scope of `schema.table`",
            Some("TablePatch"),
            200,
            "TableDetail",
        ),
        ep(Method::DELETE, "/shares/{name}/tables/{table}", remove_table, "Remove `schema.table` from the share", None, 200, "Deleted"),
        ep(
            Method::GET,
            "/shares/{name}/tables/{table}/preview",
            preview,
            "Rows as recipient `as` sees them (table-page grammar in the query)",
            None,
            200,
            "Rows",
        ),
        ep(Method::PUT, "/shares/{name}/grants/{recipient}", grant, "Grant the share", None, 200, "ShareDetail"),
        ep(Method::DELETE, "/shares/{name}/grants/{recipient}", revoke_grant, "Revoke the grant", None, 200, "ShareDetail"),
        ep(
            Method::GET,
            "/locations",
            list_locations,
            "External locations (platform admins: all; team admins: their team's)",
            None,
            200,
            "LocationList",
        ),
        ep(
            Method::POST,
            "/locations",
            create_location,
            "Create an external location (platform admins)",
            Some("NewLocation"),
            201,
            "Location",
        ),
        ep(Method::GET, "/locations/{name}", show_location, "An external location with its teams", None, 200, "Location"),
        ep(
            Method::DELETE,
            "/locations/{name}",
            delete_location,
            "Delete an external location (platform admins; its tables stay shared)",
            None,
            200,
            "Deleted",
        ),
        ep(
            Method::PUT,
            "/locations/{name}/grants/{team}",
            grant_location,
            "Let a team add tables under the location (platform admins)",
            None,
            200,
            "Location",
        ),
        ep(
            Method::DELETE,
            "/locations/{name}/grants/{team}",
            revoke_location,
            "Take the location back from a team (platform admins)",
            None,
            200,
            "Location",
        ),
        ep(
            Method::GET,
            "/usage",
            usage,
            "Reads, rows, bytes and refused sign-ins per day, and the tables read most (recipient, days)",
            None,
            200,
            "Usage",
        ),
        ep(Method::GET, "/audit", audit, "Audit events, newest first (recipient, share, action, from, to, limit)", None, 200, "AuditList"),
        ep(Method::GET, "/audit.csv", audit_csv, "Audit events as CSV", None, 200, "Csv"),
        ep(Method::GET, "/api-tokens", list_api_tokens, "List admin API tokens", None, 200, "ApiTokenList"),
        ep(
            Method::POST,
            "/api-tokens",
            create_api_token,
            "Create an admin API token (shown once)",
            Some("NewApiToken"),
            201,
            "IssuedApiToken",
        ),
        ep(Method::DELETE, "/api-tokens/{id}", revoke_api_token, "Revoke an admin API token", None, 200, "Deleted"),
    ]
}

pub fn router() -> Router<Arc<Services>> {
    endpoints()
        .into_iter()
        .fold(Router::new(), |router, e| router.route(e.path, e.handler))
        .fallback(|| async { PortalError::NotFound("no such admin API endpoint".into()) })
}

pub(super) fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T> {
    // No name, comment or property holds a NUL; refused here the same on SQLite and Postgres.
    if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Err(PortalError::InvalidParameter("text may not contain NUL characters".into()));
    }
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

async fn list_teams(State(s): State<Arc<Services>>, AdminReader(admin): AdminReader) -> Result<Response> {
    Ok(items(teams::list(&s, &admin).await?))
}

async fn create_team(State(s): State<Arc<Services>>, AdminChanger(admin): AdminChanger, bytes: Bytes) -> Result<Response> {
    Ok(created(teams::create(&s, &admin, body(&bytes)?).await?))
}

async fn list_recipients(State(s): State<Arc<Services>>, AdminReader(admin): AdminReader) -> Result<Response> {
    Ok(items(recipients::list(&s, &admin).await?))
}

async fn create_recipient(State(s): State<Arc<Services>>, AdminChanger(admin): AdminChanger, bytes: Bytes) -> Result<Response> {
    Ok(created(recipients::create(&s, &admin, body(&bytes)?).await?))
}

async fn show_recipient(State(s): State<Arc<Services>>, AdminReader(admin): AdminReader, Path(name): Path<String>) -> Result<Response> {
    Ok(Json(recipients::detail(&s, &admin, &name).await?).into_response())
}

async fn update_recipient(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Response> {
    Ok(Json(recipients::update(&s, &admin, &name, body(&bytes)?).await?).into_response())
}

async fn delete_recipient(State(s): State<Arc<Services>>, AdminChanger(admin): AdminChanger, Path(name): Path<String>) -> Result<Response> {
    recipients::delete(&s, &admin, &name).await?;
    Ok(deleted())
}

async fn add_contact(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Response> {
    Ok(created(recipients::add_contact(&s, &admin, &name, body(&bytes)?).await?))
}

async fn remove_contact(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response> {
    Ok(Json(recipients::remove_contact(&s, &admin, &name, &id).await?).into_response())
}

async fn set_limits(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Response> {
    Ok(Json(recipients::set_limits(&s, &admin, &name, body(&bytes)?).await?).into_response())
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LinkRequest {
    ttl_hours: Option<u32>,
}

async fn activation_link(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Response> {
    let request: LinkRequest = if bytes.is_empty() { LinkRequest::default() } else { body(&bytes)? };
    Ok(created(recipients::activation_link(&s, &admin, &name, request.ttl_hours).await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RotateRequest {
    overlap_hours: u32,
}

async fn rotate(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Response> {
    let request: RotateRequest = body(&bytes)?;
    Ok(created(recipients::rotate(&s, &admin, &name, request.overlap_hours).await?))
}

async fn revoke_token(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response> {
    Ok(Json(recipients::revoke_token(&s, &admin, &name, &id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewClient {
    name: String,
}

async fn create_client(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Response> {
    let request: NewClient = body(&bytes)?;
    Ok(created(machine_access::issued_view(&s, &machine_access::create_client(&s, &admin, &name, &request.name).await?)))
}

async fn rotate_client(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path((name, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Response> {
    let request: RotateRequest = body(&bytes)?;
    Ok(created(machine_access::issued_view(&s, &machine_access::rotate_client(&s, &admin, &name, &id, request.overlap_hours).await?)))
}

async fn revoke_client(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response> {
    Ok(Json(machine_access::revoke_client(&s, &admin, &name, &id).await?).into_response())
}

async fn add_policy(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Response> {
    Ok(created(machine_access::add_policy(&s, &admin, &name, body(&bytes)?).await?))
}

async fn remove_policy(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response> {
    Ok(Json(machine_access::remove_policy(&s, &admin, &name, &id).await?).into_response())
}

async fn list_shares(State(s): State<Arc<Services>>, AdminReader(admin): AdminReader) -> Result<Response> {
    Ok(items(shares::list(&s, &admin).await?))
}

async fn create_share(State(s): State<Arc<Services>>, AdminChanger(admin): AdminChanger, bytes: Bytes) -> Result<Response> {
    Ok(created(shares::create(&s, &admin, body(&bytes)?).await?))
}

async fn show_share(State(s): State<Arc<Services>>, AdminReader(admin): AdminReader, Path(name): Path<String>) -> Result<Response> {
    Ok(Json(shares::detail(&s, &admin, &name).await?).into_response())
}

async fn update_share(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Response> {
    Ok(Json(shares::update(&s, &admin, &name, body(&bytes)?).await?).into_response())
}

async fn delete_share(State(s): State<Arc<Services>>, AdminChanger(admin): AdminChanger, Path(name): Path<String>) -> Result<Response> {
    shares::delete(&s, &admin, &name).await?;
    Ok(deleted())
}

async fn add_table(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Response> {
    Ok(created(shares::add_table(&s, &admin, &name, body(&bytes)?).await?))
}

async fn update_table(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path((name, table)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Response> {
    Ok(Json(shares::update_table(&s, &admin, &name, &table, body(&bytes)?).await?).into_response())
}

async fn remove_table(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path((name, table)): Path<(String, String)>,
) -> Result<Response> {
    shares::remove_table(&s, &admin, &name, &table).await?;
    Ok(deleted())
}

/// The table as a recipient sees it: its grant, its row scope, the table page's grammar.
async fn preview(
    State(s): State<Arc<Services>>,
    AdminReader(admin): AdminReader,
    Path((name, table)): Path<(String, String)>,
    view: View,
) -> Result<Response> {
    // `as` names the recipient; the rest is the table page's grammar.
    let as_name = view.as_recipient.as_deref().unwrap_or_default();
    let (share, found, recipient) = shares::preview_target(&s, &admin, &name, &table, as_name).await?;
    let path = TablePath { share: share.name, schema: found.schema_name, table: found.name };
    let (body, _) = super::api::rows_json(&s, &recipient, &path, view.query).await?;
    Ok(Json(body).into_response())
}

async fn grant(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path((name, recipient)): Path<(String, String)>,
) -> Result<Response> {
    Ok(Json(shares::set_grant(&s, &admin, &name, &recipient, true).await?).into_response())
}

async fn revoke_grant(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path((name, recipient)): Path<(String, String)>,
) -> Result<Response> {
    Ok(Json(shares::set_grant(&s, &admin, &name, &recipient, false).await?).into_response())
}

async fn list_locations(State(s): State<Arc<Services>>, AdminReader(admin): AdminReader) -> Result<Response> {
    Ok(items(locations::list(&s, &admin).await?))
}

async fn create_location(State(s): State<Arc<Services>>, AdminChanger(admin): AdminChanger, bytes: Bytes) -> Result<Response> {
    Ok(created(locations::create(&s, &admin, body(&bytes)?).await?))
}

async fn show_location(State(s): State<Arc<Services>>, AdminReader(admin): AdminReader, Path(name): Path<String>) -> Result<Response> {
    Ok(Json(locations::detail(&s, &admin, &name).await?).into_response())
}

async fn delete_location(State(s): State<Arc<Services>>, AdminChanger(admin): AdminChanger, Path(name): Path<String>) -> Result<Response> {
    locations::delete(&s, &admin, &name).await?;
    Ok(deleted())
}

async fn grant_location(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path((name, team)): Path<(String, String)>,
) -> Result<Response> {
    Ok(Json(locations::set_grant(&s, &admin, &name, &team, true).await?).into_response())
}

async fn revoke_location(
    State(s): State<Arc<Services>>,
    AdminChanger(admin): AdminChanger,
    Path((name, team)): Path<(String, String)>,
) -> Result<Response> {
    Ok(Json(locations::set_grant(&s, &admin, &name, &team, false).await?).into_response())
}

/// `GET /usage?recipient=&days=`: read as text (the query string holds only text).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageParams {
    recipient: Option<String>,
    days: Option<String>,
}

async fn usage(State(s): State<Arc<Services>>, AdminReader(admin): AdminReader, Query(params): Query<UsageParams>) -> Result<Response> {
    let days = usage_figures::days(params.days.as_deref())?;
    let recipient = match params.recipient.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(name) => Some(crate::admin::recipient_for(&s, &admin, name).await?),
        None => None,
    };
    let figures = usage_figures::usage(&s, &admin, recipient.as_ref(), days, crate::catalog::now_ms()).await?;
    Ok(Json(figures).into_response())
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
            Some(text) => text.parse().ok().filter(|n| (1..=audit_log::MAX_EVENTS).contains(n)).ok_or_else(|| {
                PortalError::field("limit", format!("limit must be a whole number from 1 to {}; got `{text}`", audit_log::MAX_EVENTS))
            }),
        }
    }
}

async fn audit(State(s): State<Arc<Services>>, AdminReader(admin): AdminReader, Query(params): Query<AuditParams>) -> Result<Response> {
    Ok(items(audit_log::events(&s, &admin, &params.query, params.limit(500)?).await?))
}

pub async fn audit_csv(
    State(s): State<Arc<Services>>,
    AdminReader(admin): AdminReader,
    Query(params): Query<AuditParams>,
) -> Result<Response> {
    let rows = audit_log::events(&s, &admin, &params.query, params.limit(audit_log::MAX_EVENTS)?).await?;
    Ok(audit_csv_response(audit_log::csv(&rows)?))
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

async fn list_api_tokens(State(s): State<Arc<Services>>, AdminReader(admin): AdminReader) -> Result<Response> {
    Ok(items(teams::tokens(&s, &admin).await?))
}

async fn create_api_token(State(s): State<Arc<Services>>, AdminChanger(admin): AdminChanger, bytes: Bytes) -> Result<Response> {
    Ok(created(teams::create_token(&s, &admin, body(&bytes)?).await?))
}

async fn revoke_api_token(State(s): State<Arc<Services>>, AdminChanger(admin): AdminChanger, Path(id): Path<String>) -> Result<Response> {
    teams::revoke_token(&s, &admin, &id).await?;
    Ok(deleted())
}
