//! What the console pages show, loaded through the admin service functions (the same ones
//! the admin API calls), for the admin the request's session belongs to.

use app::contract::{
    AdminAuditView, AdminHomeView, AdminLinkState, AdminLocationsView, AdminLoginView, AdminOnboardView, AdminPreviewView,
    AdminRecipientView, AdminSessionView, AdminShareView, AdminTeamsView, AuditQuery, FormToken, Loaded,
};
use axum::http::request::Parts;

use crate::admin::{self, audit_log, identity, locations, recipients, shares, teams, Admin};
use crate::auth::sessions::cookie_value;
use crate::error::{PortalError, Result};
use crate::primitives::secrets;
use crate::primitives::time::now_ms;
use crate::{query, Services};

/// Authenticates the console request and runs `read`; no admin session is `SignedOut` (the
/// page then redirects to the sign-in page), another team's object is `NotFound`.
async fn admin_read<T, F>(s: &Services, request: &Parts, read: F) -> Loaded<T>
where
    F: AsyncFnOnce(&Admin, AdminSessionView) -> Result<T>,
{
    let Ok(admin) = identity::authenticate(s, &request.headers).await else {
        return Loaded::SignedOut;
    };
    let session = AdminSessionView {
        actor: admin.actor.clone(),
        team: admin.team.as_ref().map(|t| t.name.clone()),
        csrf: request.extensions.get::<FormToken>().map(|t| t.0.clone()).unwrap_or_default(),
        outcome: super::outcome::read(&s.signer, &owner(request), request.uri.query()),
    };
    match read(&admin, session).await {
        Ok(value) => Loaded::Ready(value),
        Err(PortalError::NotFound(m)) => Loaded::NotFound(m),
        Err(e) if e.status().is_client_error() => Loaded::Failed { status: e.status().as_u16(), message: e.to_string() },
        Err(e) => {
            tracing::error!(error = %e, "console page failed");
            Loaded::Failed { status: 500, message: "Something went wrong on our side. Please try again in a minute.".into() }
        }
    }
}

/// Where the admin may point tables: the URLs of the team's locations (all, for platform admins).
async fn location_urls(s: &Services, admin: &Admin) -> Result<Vec<String>> {
    Ok(s.catalog.locations(admin.team_filter()).await?.into_iter().map(|l| l.url).collect())
}

pub async fn locations(s: &Services, request: &Parts) -> Loaded<AdminLocationsView> {
    admin_read(s, request, async |admin: &Admin, session| {
        let teams = match &admin.team {
            Some(team) => vec![team.name.clone()],
            None => s.catalog.teams().await?.into_iter().map(|t| t.name).collect(),
        };
        Ok(AdminLocationsView { session, locations: locations::list(s, admin).await?, teams, outside: locations::outside(s, admin).await? })
    })
    .await
}

/// The admin session's hash: one-time reveals and form outcomes are bound to it.
fn owner(request: &Parts) -> String {
    cookie_value(&request.headers, identity::ADMIN_COOKIE).map(secrets::hash).unwrap_or_default()
}

pub fn login(s: &Services, request: &Parts) -> AdminLoginView {
    AdminLoginView { sso: s.oidc.is_some(), csrf: request.extensions.get::<FormToken>().map(|t| t.0.clone()).unwrap_or_default() }
}

pub async fn link(s: &Services, code: &str) -> AdminLinkState {
    match identity::link_state(s, code).await {
        Ok(team) => AdminLinkState::Ready { team },
        Err(PortalError::Gone(_)) => AdminLinkState::Used,
        Err(_) => AdminLinkState::Unknown,
    }
}

pub async fn home(s: &Services, request: &Parts, search: &str) -> Loaded<AdminHomeView> {
    admin_read(s, request, async |admin: &Admin, session| {
        let teams = match &admin.team {
            Some(team) => vec![team.name.clone()],
            None => s.catalog.teams().await?.into_iter().map(|t| t.name).collect(),
        };
        let needle = search.trim().to_lowercase();
        let matching: Vec<_> = recipients::list(s, admin)
            .await?
            .into_iter()
            .filter(|r| {
                needle.is_empty()
                    || r.name.to_lowercase().contains(&needle)
                    || r.comment.as_deref().is_some_and(|c| c.to_lowercase().contains(&needle))
                    || r.properties.values().any(|v| v.to_lowercase().contains(&needle))
            })
            .collect();
        Ok(AdminHomeView {
            session,
            search: search.trim().to_string(),
            matching: matching.len(),
            recipients: matching.into_iter().take(AdminHomeView::SHOWN).collect(),
            shares: shares::list(s, admin).await?,
            teams,
            usage: admin::usage::usage(s, admin, None, admin::usage::DEFAULT_DAYS, now_ms()).await?,
        })
    })
    .await
}

pub async fn recipient(s: &Services, request: &Parts, name: &str, issued: Option<&str>) -> Loaded<AdminRecipientView> {
    let owner = owner(request);
    admin_read(s, request, async |admin: &Admin, session| {
        let found = admin::recipient_for(s, admin, name).await?;
        let detail = recipients::detail_of(s, &found).await?;
        let grantable = s
            .catalog
            .shares_in(Some(&found.team_id))
            .await?
            .into_iter()
            .map(|share| share.name)
            .filter(|n| !detail.grants.contains(n))
            .collect();
        // One reveal id: an activation link or an OAuth client's new secret.
        let (issued, issued_client) = match issued {
            Some(id) => match s.issued_links.take(id, &owner).await? {
                Some(link) => (Some(link), None),
                None => (None, s.issued_clients.take(id, &owner).await?.map(|c| admin::machine_access::issued_view(s, &c))),
            },
            None => (None, None),
        };
        let sees = query::catalog::catalog(s, &found).await?;
        let usage = admin::usage::usage(s, admin, Some(&found), admin::usage::DEFAULT_DAYS, now_ms()).await?;
        Ok(AdminRecipientView { session, recipient: detail, grantable, issued, issued_client, sees, usage })
    })
    .await
}

pub async fn share(s: &Services, request: &Parts, name: &str) -> Loaded<AdminShareView> {
    admin_read(s, request, async |admin: &Admin, session| {
        let found = admin::share_for(s, admin, name).await?;
        let detail = shares::detail_of(s, &found).await?;
        let grantable = s
            .catalog
            .recipients_in(Some(&found.team_id))
            .await?
            .into_iter()
            .map(|r| r.name)
            .filter(|n| !detail.grants.contains(n))
            .collect();
        Ok(AdminShareView { session, share: detail, grantable, locations: location_urls(s, admin).await? })
    })
    .await
}

pub async fn audit(s: &Services, request: &Parts, query: &AuditQuery) -> Loaded<AdminAuditView> {
    admin_read(s, request, async |admin: &Admin, session| {
        let events = audit_log::events(s, admin, query, 500).await?;
        Ok(AdminAuditView { session, query: query.clone(), events })
    })
    .await
}

pub async fn preview(s: &Services, request: &Parts, share: &str, table: &str, as_recipient: Option<&str>) -> Loaded<AdminPreviewView> {
    admin_read(s, request, async |admin: &Admin, session| {
        let (found_share, _) = shares::table_for(s, admin, share, table).await?;
        let recipients = s.catalog.grantees_of(&found_share.id).await?;
        let chosen = as_recipient.map(String::from).filter(|r| !r.is_empty()).or_else(|| recipients.first().cloned());
        let mut view = AdminPreviewView {
            session,
            share: found_share.name.clone(),
            table: table.to_string(),
            recipient: chosen.clone(),
            recipients,
            description: String::new(),
            columns: Vec::new(),
            rows: Vec::new(),
            count: None,
            problem: None,
        };
        let Some(as_name) = chosen else {
            view.problem = Some("This share is granted to no one yet: grant it to a recipient to preview what they would see.".into());
            return Ok(view);
        };
        let (share, found, recipient) = shares::preview_target(s, admin, share, table, &as_name).await?;
        match query::view(s, &recipient, &share.name, &found.schema_name, &found.name, Ok(Default::default()))
            .await
            .and_then(|o| Ok((o.description, o.grid?)))
        {
            Ok((description, grid)) => {
                view.description = description;
                view.count = grid.count;
                view.rows = grid.rows.iter().map(|r| r.iter().map(|c| c.filter_text().unwrap_or_default()).collect()).collect();
                view.columns = grid.columns;
            }
            Err(PortalError::NotFound(_)) => {
                view.problem = Some(format!("{as_name} cannot read this table: the share is not granted to them."))
            }
            Err(e) if e.status().is_client_error() => view.problem = Some(e.to_string()),
            Err(e) => return Err(e),
        }
        Ok(view)
    })
    .await
}

pub async fn onboard(
    s: &Services,
    request: &Parts,
    step: u8,
    share: Option<&str>,
    recipient: Option<&str>,
    issued: Option<&str>,
) -> Loaded<AdminOnboardView> {
    let owner = owner(request);
    admin_read(s, request, async |admin: &Admin, session| {
        let share = match share.filter(|n| !n.is_empty()) {
            Some(name) => Some(shares::detail(s, admin, name).await?),
            None => None,
        };
        let found = match recipient.filter(|n| !n.is_empty()) {
            Some(name) => Some(admin::recipient_for(s, admin, name).await?),
            None => None,
        };
        let detail = match &found {
            Some(r) => Some(recipients::detail_of(s, r).await?),
            None => None,
        };
        // A step needs what the steps before it chose.
        let step = step.clamp(1, 5).min(if share.is_none() {
            1
        } else if found.is_none() {
            3
        } else {
            5
        });
        let sees = match (&found, step) {
            (Some(r), 5) => Some(query::catalog::catalog(s, r).await?),
            _ => None,
        };
        let teams = match &admin.team {
            Some(team) => vec![team.name.clone()],
            None => s.catalog.teams().await?.into_iter().map(|t| t.name).collect(),
        };
        Ok(AdminOnboardView {
            session,
            step,
            shares: s.catalog.shares_in(admin.team_filter()).await?.into_iter().map(|x| x.name).collect(),
            recipients: s.catalog.recipients_in(admin.team_filter()).await?.into_iter().map(|x| x.name).collect(),
            teams,
            share,
            recipient: detail,
            issued: match issued {
                Some(id) => s.issued_links.take(id, &owner).await?,
                None => None,
            },
            sees,
            locations: location_urls(s, admin).await?,
        })
    })
    .await
}

pub async fn teams(s: &Services, request: &Parts, issued: Option<&str>) -> Loaded<AdminTeamsView> {
    let owner = owner(request);
    admin_read(s, request, async |admin: &Admin, session| {
        let teams = match &admin.team {
            Some(team) => {
                vec![app::contract::TeamView { name: team.name.clone(), created_at: crate::primitives::time::rfc3339_ms(team.created_at) }]
            }
            None => teams::list(s, admin).await?,
        };
        let issued_token = match issued {
            Some(id) => s.issued_api_tokens.take(id, &owner).await?,
            None => None,
        };
        Ok(AdminTeamsView { session, teams, tokens: teams::tokens(s, admin).await?, issued_token })
    })
    .await
}
