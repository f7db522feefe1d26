//! The console's forms. Each is a plain POST with a form token that calls the same service
//! function as the admin API, then sends the browser back (`back`, or the object's page) with a
//! notice, or with the error and the field it belongs to; a refused form changes nothing.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use app::contract::{grammar::encode, DownloadLimits, FormOutcome, OidcView};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::callers::AdminForm;
use super::outcome;
use super::signin::{local_path, see_other};
use crate::admin::locations::NewLocation;
use crate::admin::recipients::{NewRecipient, RecipientPatch};
use crate::admin::shares::{NewShare, NewTableInput, SharePatch, TablePatch};
use crate::admin::teams::{NewApiToken, NewTeam};
use crate::admin::{locations, machine_access, recipients, shares, teams, Admin};
use crate::auth::sessions::cookie_value;
use crate::error::{PortalError, Result};
use crate::primitives::secrets;
use crate::Services;

/// What a form leads to: back with a notice, to another page with one, or to another page.
enum Done {
    Notice(String),
    NoticeAt(String, String),
    To(String),
}

/// A submitted console form.
struct Submitted {
    admin: Admin,
    fields: HashMap<String, String>,
    /// The admin session's hash: one-time reveals and form outcomes are bound to it.
    owner: String,
}

impl Submitted {
    fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", |v| v.trim())
    }

    fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name).to_string()).filter(|v| !v.is_empty())
    }

    fn checked(&self, name: &str) -> bool {
        matches!(self.get(name), "on" | "true" | "1" | "yes")
    }
}

/// Reads and checks the form, runs `work`, and answers with a redirect that carries the
/// outcome, sealed for this admin session (see `outcome`).
async fn run<F>(s: &Arc<Services>, headers: &HeaderMap, form: Result<AdminForm>, page: String, work: F) -> Response
where
    F: AsyncFnOnce(&Services, &Submitted) -> Result<Done>,
{
    let owner = cookie_value(headers, crate::admin::identity::ADMIN_COOKIE).map(secrets::hash).unwrap_or_default();
    let to = |path: &str, outcome: FormOutcome| see_other(&with_params(path, &outcome::params(&s.signer, &owner, &outcome)));
    let AdminForm { admin, fields } = match form {
        Ok(found) => found,
        Err(PortalError::Unauthenticated(_)) => return see_other(&format!("/admin/login?next={}", encode(&page))),
        Err(_) => return to(&page, error("This form has expired or did not come from the console. Reload the page and try again.", None)),
    };
    let form = Submitted { admin, fields, owner: owner.clone() };
    let back = form.fields.get("back").map(|b| local_path(Some(b))).filter(|b| b.starts_with("/admin")).unwrap_or(page);
    match work(s.as_ref(), &form).await {
        Ok(Done::Notice(text)) => to(&back, FormOutcome { notice: Some(text), ..Default::default() }),
        Ok(Done::NoticeAt(path, text)) => to(&path, FormOutcome { notice: Some(text), ..Default::default() }),
        Ok(Done::To(path)) => see_other(&path),
        Err(e) => {
            if e.status().is_server_error() {
                tracing::error!(error = %e, "console form failed");
            }
            let message = if e.status().is_server_error() {
                "Something went wrong on our side; nothing was changed. Try again in a minute.".to_string()
            } else {
                e.to_string()
            };
            match &e {
                PortalError::Field { field, .. } => to(&back, error(&message, Some(*field))),
                _ => to(&back, error(&message, None)),
            }
        }
    }
}

fn error(message: &str, field: Option<&str>) -> FormOutcome {
    FormOutcome { error: Some(message.to_string()), field: field.map(String::from), notice: None }
}

fn with_params(path: &str, params: &[(&str, String)]) -> String {
    // A fresh outcome replaces the previous one's parameters.
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let kept =
        query.split('&').filter(|p| !p.is_empty() && !["error=", "field=", "notice=", "issued=", "sig="].iter().any(|k| p.starts_with(k)));
    let added = params.iter().map(|(k, v)| format!("{k}={}", encode(v)));
    let all: Vec<String> = kept.map(String::from).chain(added).collect();
    if all.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", all.join("&"))
    }
}

fn recipient_page(name: &str) -> String {
    format!("/admin/recipients/{}", encode(name))
}

fn share_page(name: &str) -> String {
    format!("/admin/shares/{}", encode(name))
}

/// `key=value` lines, or the editor's `prop_key_N` / `prop_value_N` rows.
fn properties(form: &Submitted) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for line in form.get("properties").lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (k, v) =
            line.split_once('=').ok_or_else(|| PortalError::field("properties", format!("`{line}` is not of the form name=value")))?;
        out.insert(k.trim().to_string(), v.trim().to_string());
    }
    for i in 0..100 {
        let (Some(k), Some(v)) = (form.fields.get(&format!("prop_key_{i}")), form.fields.get(&format!("prop_value_{i}"))) else { continue };
        match (k.trim(), v.trim()) {
            ("", "") => {}
            ("", _) => return Err(PortalError::field("properties", "a property value needs a name")),
            (k, v) => {
                out.insert(k.to_string(), v.to_string());
            }
        }
    }
    Ok(out)
}

fn allow_list(form: &Submitted) -> Vec<String> {
    form.get("ip_allow").split(|c: char| c == ',' || c.is_whitespace()).filter(|e| !e.is_empty()).map(String::from).collect()
}

fn oidc(form: &Submitted) -> OidcView {
    OidcView { issuer: form.get("oidc_issuer").to_string(), email_domain: form.opt("oidc_email_domain"), claim: form.opt("oidc_claim") }
}

pub async fn create_share(State(s): State<Arc<Services>>, headers: HeaderMap, form: Result<AdminForm>) -> Response {
    run(&s, &headers, form, "/admin".into(), async |s: &Services, f: &Submitted| {
        let new = NewShare { name: f.get("name").into(), comment: f.opt("comment"), team: f.opt("team"), ..Default::default() };
        let share = shares::create(s, &f.admin, new).await?;
        Ok(wizard(f, Some(&share.name), None).map(Done::To).unwrap_or_else(|| Done::To(share_page(&share.name))))
    })
    .await
}

pub async fn edit_share(State(s): State<Arc<Services>>, Path(name): Path<String>, headers: HeaderMap, form: Result<AdminForm>) -> Response {
    run(&s, &headers, form, share_page(&name), async |s: &Services, f: &Submitted| {
        let patch = SharePatch {
            comment: Some(f.get("comment").into()),
            display_name: Some(f.get("display_name").into()),
            properties: Some(properties(f)?),
        };
        shares::update(s, &f.admin, &name, patch).await?;
        Ok(Done::Notice("Saved what recipients read about the share.".into()))
    })
    .await
}

pub async fn delete_share(
    State(s): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, share_page(&name), async |s: &Services, f: &Submitted| {
        confirm(f, &name)?;
        shares::delete(s, &f.admin, &name).await?;
        Ok(Done::NoticeAt("/admin".into(), format!("Share {name} deleted.")))
    })
    .await
}

pub async fn add_table(State(s): State<Arc<Services>>, Path(name): Path<String>, headers: HeaderMap, form: Result<AdminForm>) -> Response {
    run(&s, &headers, form, share_page(&name), async |s: &Services, f: &Submitted| {
        let input = NewTableInput {
            schema: f.get("schema").into(),
            name: f.get("name").into(),
            location: f.get("location").into(),
            comment: f.opt("comment"),
            history: f.checked("history"),
            scope: f.opt("scope"),
        };
        let t = shares::add_table(s, &f.admin, &name, input).await?;
        let columns: Vec<String> = t.columns.iter().map(|c| format!("{} {}", c.name, c.type_name)).collect();
        Ok(Done::Notice(format!("Added {}.{} ({} columns: {}).", t.schema, t.name, t.columns.len(), columns.join(", "))))
    })
    .await
}

pub async fn edit_table(
    State(s): State<Arc<Services>>,
    Path((name, table)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, share_page(&name), async |s: &Services, f: &Submitted| {
        let patch = TablePatch {
            alias: f.opt("alias"),
            comment: Some(f.get("comment").into()),
            history: Some(f.checked("history")),
            scope: Some(f.get("scope").into()),
            location: f.opt("location"),
            key_columns: Some(f.get("key_columns").split(',').map(|k| k.trim().to_string()).collect()),
        };
        let t = shares::update_table(s, &f.admin, &name, &table, patch).await?;
        Ok(Done::Notice(format!("Saved {}.{}.", t.schema, t.name)))
    })
    .await
}

pub async fn remove_table(
    State(s): State<Arc<Services>>,
    Path((name, table)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, share_page(&name), async |s: &Services, f: &Submitted| {
        shares::remove_table(s, &f.admin, &name, &table).await?;
        Ok(Done::Notice(format!("Removed {table}.")))
    })
    .await
}

pub async fn grant(State(s): State<Arc<Services>>, Path(name): Path<String>, headers: HeaderMap, form: Result<AdminForm>) -> Response {
    run(&s, &headers, form, share_page(&name), async |s: &Services, f: &Submitted| {
        let recipient = f.get("recipient");
        if recipient.is_empty() {
            return Err(PortalError::field("recipient", "choose a recipient"));
        }
        shares::set_grant(s, &f.admin, &name, recipient, true).await?;
        Ok(wizard(f, Some(&name), Some(recipient))
            .map(Done::To)
            .unwrap_or_else(|| Done::Notice(format!("{recipient} can now read {name}."))))
    })
    .await
}

/// The recipient page's "Grant a share".
pub async fn grant_share(
    State(s): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, recipient_page(&name), async |s: &Services, f: &Submitted| {
        let share = f.get("share");
        if share.is_empty() {
            return Err(PortalError::field("share", "choose a share"));
        }
        shares::set_grant(s, &f.admin, share, &name, true).await?;
        Ok(Done::Notice(format!("{name} can now read {share}.")))
    })
    .await
}

pub async fn revoke_grant(
    State(s): State<Arc<Services>>,
    Path((name, recipient)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, share_page(&name), async |s: &Services, f: &Submitted| {
        shares::set_grant(s, &f.admin, &name, &recipient, false).await?;
        Ok(Done::Notice(format!("{recipient} can no longer read {name}.")))
    })
    .await
}

pub async fn create_recipient(State(s): State<Arc<Services>>, headers: HeaderMap, form: Result<AdminForm>) -> Response {
    run(&s, &headers, form, "/admin".into(), async |s: &Services, f: &Submitted| {
        let new = NewRecipient {
            name: f.get("name").into(),
            comment: f.opt("comment"),
            team: f.opt("team"),
            properties: properties(f)?,
            ip_allow_list: allow_list(f),
            oidc: Some(oidc(f)),
        };
        let r = recipients::create(s, &f.admin, new).await?;
        Ok(wizard(f, None, Some(&r.summary.name)).map(Done::To).unwrap_or_else(|| Done::To(recipient_page(&r.summary.name))))
    })
    .await
}

pub async fn edit_recipient(
    State(s): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, recipient_page(&name), async |s: &Services, f: &Submitted| {
        let patch = RecipientPatch {
            comment: Some(f.get("comment").into()),
            properties: Some(properties(f)?),
            ip_allow_list: Some(allow_list(f)),
            oidc: Some(oidc(f)),
        };
        recipients::update(s, &f.admin, &name, patch).await?;
        Ok(Done::Notice("Recipient saved.".into()))
    })
    .await
}

pub async fn set_limits(State(s): State<Arc<Services>>, Path(name): Path<String>, headers: HeaderMap, form: Result<AdminForm>) -> Response {
    run(&s, &headers, form, recipient_page(&name), async |s: &Services, f: &Submitted| {
        let limits = DownloadLimits {
            downloads_allowed: f.checked("downloads_allowed"),
            max_rows_per_download: number(f, "max_rows", "maxRowsPerDownload")?,
            max_export_jobs_per_day: number(f, "max_jobs", "maxExportJobsPerDay")?,
        };
        recipients::set_limits(s, &f.admin, &name, limits).await?;
        Ok(Done::Notice("Download limits saved.".into()))
    })
    .await
}

pub async fn add_contact(
    State(s): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, recipient_page(&name), async |s: &Services, f: &Submitted| {
        let new = recipients::NewContact { email: f.get("email").into(), name: f.opt("contact_name") };
        recipients::add_contact(s, &f.admin, &name, new).await?;
        Ok(Done::Notice(format!("{} will get the portal's e-mails.", f.get("email"))))
    })
    .await
}

pub async fn remove_contact(
    State(s): State<Arc<Services>>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, recipient_page(&name), async |s: &Services, f: &Submitted| {
        recipients::remove_contact(s, &f.admin, &name, &id).await?;
        Ok(Done::Notice("Contact removed.".into()))
    })
    .await
}

/// A whole number typed in a form (`1,000,000` too); empty is none.
fn number<T: std::str::FromStr>(f: &Submitted, name: &str, field: &'static str) -> Result<Option<T>> {
    let typed: String = f.get(name).chars().filter(|c| !matches!(c, ',' | '_' | ' ' | '\'')).collect();
    if typed.is_empty() {
        return Ok(None);
    }
    typed
        .parse()
        .map(Some)
        .map_err(|_| PortalError::field(field, format!("`{}` is not a whole number; leave it empty for no limit", f.get(name))))
}

pub async fn delete_recipient(
    State(s): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, recipient_page(&name), async |s: &Services, f: &Submitted| {
        confirm(f, &name)?;
        recipients::delete(s, &f.admin, &name).await?;
        Ok(Done::NoticeAt("/admin".into(), format!("Recipient {name} deleted.")))
    })
    .await
}

pub async fn activation_link(
    State(s): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, recipient_page(&name), async |s: &Services, f: &Submitted| {
        let hours = match f.get("ttl_hours") {
            "" => None,
            text => Some(text.parse().map_err(|_| PortalError::field("ttlHours", "the link's lifetime must be a whole number of hours"))?),
        };
        let issued = recipients::activation_link(s, &f.admin, &name, hours).await?;
        Ok(Done::To(reveal(s, f, &name, issued).await?))
    })
    .await
}

pub async fn rotate(State(s): State<Arc<Services>>, Path(name): Path<String>, headers: HeaderMap, form: Result<AdminForm>) -> Response {
    run(&s, &headers, form, recipient_page(&name), async |s: &Services, f: &Submitted| {
        let hours = f
            .get("overlap_hours")
            .parse()
            .map_err(|_| PortalError::field("overlapHours", "choose how long the old tokens keep working"))?;
        let issued = recipients::rotate(s, &f.admin, &name, hours).await?;
        Ok(Done::To(reveal(s, f, &name, issued).await?))
    })
    .await
}

pub async fn create_client(
    State(s): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, recipient_page(&name), async |s: &Services, f: &Submitted| {
        let created = machine_access::create_client(s, &f.admin, &name, f.get("name")).await?;
        reveal_client(s, f, &name, &created).await
    })
    .await
}

pub async fn rotate_client(
    State(s): State<Arc<Services>>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, recipient_page(&name), async |s: &Services, f: &Submitted| {
        let hours = f
            .get("overlap_hours")
            .parse()
            .map_err(|_| PortalError::field("overlapHours", "choose how long the old secret keeps working"))?;
        let rotated = machine_access::rotate_client(s, &f.admin, &name, &id, hours).await?;
        reveal_client(s, f, &name, &rotated).await
    })
    .await
}

/// Keeps a client's new secret for this browser to see once, on the recipient's page.
async fn reveal_client(s: &Services, f: &Submitted, name: &str, issued: &crate::auth::oauth_clients::IssuedClient) -> Result<Done> {
    let id = s.issued_clients.put(&f.owner, issued).await?;
    Ok(Done::To(format!("{}#new-client", with_params(&recipient_page(name), &[("issued", id)]))))
}

pub async fn revoke_client(
    State(s): State<Arc<Services>>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, recipient_page(&name), async |s: &Services, f: &Submitted| {
        machine_access::revoke_client(s, &f.admin, &name, &id).await?;
        Ok(Done::Notice("OAuth client revoked: its secret and its access tokens no longer work.".into()))
    })
    .await
}

pub async fn add_policy(State(s): State<Arc<Services>>, Path(name): Path<String>, headers: HeaderMap, form: Result<AdminForm>) -> Response {
    run(&s, &headers, form, recipient_page(&name), async |s: &Services, f: &Submitted| {
        let list = |field: &str| f.get(field).split([',', '\n']).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect();
        let view = app::contract::FederationPolicyView {
            name: f.get("name").into(),
            issuer: f.get("issuer").into(),
            audiences: list("audiences"),
            subject_claim: f.get("subject_claim").into(),
            subject_values: list("subject_values"),
            scope: f.opt("scope"),
            ..Default::default()
        };
        machine_access::add_policy(s, &f.admin, &name, view).await?;
        Ok(Done::Notice("Federation policy added: tokens it admits act as this recipient.".into()))
    })
    .await
}

pub async fn remove_policy(
    State(s): State<Arc<Services>>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, recipient_page(&name), async |s: &Services, f: &Submitted| {
        machine_access::remove_policy(s, &f.admin, &name, &id).await?;
        Ok(Done::Notice("Federation policy removed.".into()))
    })
    .await
}

pub async fn revoke_token(
    State(s): State<Arc<Services>>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, recipient_page(&name), async |s: &Services, f: &Submitted| {
        recipients::revoke_token(s, &f.admin, &name, &id).await?;
        Ok(Done::Notice(format!("Token {id} revoked: it no longer works.")))
    })
    .await
}

pub async fn create_team(State(s): State<Arc<Services>>, headers: HeaderMap, form: Result<AdminForm>) -> Response {
    run(&s, &headers, form, "/admin/teams".into(), async |s: &Services, f: &Submitted| {
        let team = teams::create(s, &f.admin, NewTeam { name: f.get("name").into() }).await?;
        Ok(Done::Notice(format!("Team {} created.", team.name)))
    })
    .await
}

pub async fn create_api_token(State(s): State<Arc<Services>>, headers: HeaderMap, form: Result<AdminForm>) -> Response {
    run(&s, &headers, form, "/admin/teams".into(), async |s: &Services, f: &Submitted| {
        let issued = teams::create_token(s, &f.admin, NewApiToken { name: f.get("name").into(), team: f.opt("team") }).await?;
        let id = s.issued_api_tokens.put(&f.owner, &issued.token).await?;
        Ok(Done::To(format!("/admin/teams?issued={id}#new-token")))
    })
    .await
}

pub async fn revoke_api_token(
    State(s): State<Arc<Services>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, "/admin/teams".into(), async |s: &Services, f: &Submitted| {
        teams::revoke_token(s, &f.admin, &id).await?;
        Ok(Done::Notice(format!("API token {id} revoked.")))
    })
    .await
}

fn location_page() -> String {
    "/admin/locations".into()
}

pub async fn create_location(State(s): State<Arc<Services>>, headers: HeaderMap, form: Result<AdminForm>) -> Response {
    run(&s, &headers, form, location_page(), async |s: &Services, f: &Submitted| {
        let l =
            locations::create(s, &f.admin, NewLocation { name: f.get("name").into(), url: f.get("url").into(), comment: f.opt("comment") })
                .await?;
        Ok(Done::Notice(format!("Location {} created at {}. Grant it to the teams that may add tables under it.", l.name, l.url)))
    })
    .await
}

pub async fn grant_location(
    State(s): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, location_page(), async |s: &Services, f: &Submitted| {
        let team = f.get("team");
        if team.is_empty() {
            return Err(PortalError::field("team", "choose a team"));
        }
        let l = locations::set_grant(s, &f.admin, &name, team, true).await?;
        Ok(Done::Notice(format!("Team {team} can now add tables under {}.", l.name)))
    })
    .await
}

pub async fn revoke_location(
    State(s): State<Arc<Services>>,
    Path((name, team)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, location_page(), async |s: &Services, f: &Submitted| {
        let l = locations::set_grant(s, &f.admin, &name, &team, false).await?;
        Ok(Done::Notice(format!("Team {team} can no longer add tables under {}; its tables there stay shared.", l.name)))
    })
    .await
}

pub async fn delete_location(
    State(s): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    form: Result<AdminForm>,
) -> Response {
    run(&s, &headers, form, location_page(), async |s: &Services, f: &Submitted| {
        confirm(f, &name)?;
        locations::delete(s, &f.admin, &name).await?;
        Ok(Done::Notice(format!("Location {name} deleted; tables under it stay shared and are listed below.")))
    })
    .await
}

/// In the onboarding wizard, a form names the step to go on to (`wizard`); the share and the
/// recipient chosen so far travel in `wizard_share` and `wizard_recipient`.
fn wizard(f: &Submitted, share: Option<&str>, recipient: Option<&str>) -> Option<String> {
    let step: u8 = f.get("wizard").parse().ok()?;
    let share = share.map(String::from).or_else(|| f.opt("wizard_share")).unwrap_or_default();
    let recipient = recipient.map(String::from).or_else(|| f.opt("wizard_recipient")).unwrap_or_default();
    Some(format!("/admin/onboard?step={step}&share={}&recipient={}", encode(&share), encode(&recipient)))
}

/// Deleting asks for the object's name, typed again.
fn confirm(f: &Submitted, name: &str) -> Result<()> {
    if f.get("confirm").eq_ignore_ascii_case(name) {
        Ok(())
    } else {
        Err(PortalError::field("confirm", format!("type {name} to confirm; nothing was deleted")))
    }
}

/// Keeps a new activation link for this browser to see once, on the recipient's page (or
/// the wizard's last step).
async fn reveal(s: &Services, f: &Submitted, name: &str, issued: app::contract::IssuedLink) -> Result<String> {
    let id = s.issued_links.put(&f.owner, &issued).await?;
    let back =
        f.fields.get("back").map(|b| local_path(Some(b))).filter(|b| b.starts_with("/admin")).unwrap_or_else(|| recipient_page(name));
    Ok(format!("{}#activation-link", with_params(&back, &[("issued", id)])))
}

#[cfg(test)]
mod tests {
    use super::with_params;

    #[test]
    fn outcomes_replace_earlier_ones() {
        assert_eq!(with_params("/admin/shares/a", &[("notice", "ok".into())]), "/admin/shares/a?notice=ok");
        assert_eq!(
            with_params("/admin/onboard?step=2&share=s&error=x&field=name&sig=abc", &[("notice", "done".into())]),
            "/admin/onboard?step=2&share=s&notice=done"
        );
    }
}
