//! Who an admin request comes from: an admin browser session (opened by single sign-on or a
//! one-time sign-in link) or an admin API token. Secrets are stored only as hashes.

use axum::http::{header, HeaderMap};

use super::teams::ADMIN_TOKEN_PREFIX;
use super::Admin;
use crate::auth::network::peer;
use crate::auth::sessions::{cookie_value, set_cookie};
use crate::catalog::{now_ms, AdminGrant};
use crate::error::{PortalError, Result};
use crate::primitives::secrets;
use crate::Services;

pub use crate::auth::sessions::ADMIN_COOKIE;
const SESSION_PREFIX: &str = "pas_";
const LINK_PREFIX: &str = "adm_";

/// `portal admin login-link`: a one-time sign-in link; `team` makes a team admin.
pub async fn create_login_link(s: &Services, team: Option<&str>, ttl_minutes: u32) -> Result<String> {
    if ttl_minutes == 0 || ttl_minutes > 24 * 60 {
        return Err(PortalError::InvalidParameter("--ttl-minutes must be between 1 and 1440".into()));
    }
    let team = match team {
        Some(name) => Some(s.catalog.team(name).await?),
        None => None,
    };
    let code = secrets::generate(LINK_PREFIX);
    s.catalog
        .insert_admin_link(&secrets::hash(&code), team.as_ref().map(|t| t.id.as_str()), now_ms() + i64::from(ttl_minutes) * 60_000)
        .await?;
    Ok(format!("{}/admin/login/{code}", s.settings.public_url))
}

/// The live sign-in link behind `code`: `NotFound` unknown, `Gone` used or expired.
async fn live_link(s: &Services, code: &str) -> Result<AdminGrant> {
    let presented = secrets::hash(code);
    let link = match s.catalog.admin_link(&presented).await? {
        Some(link) if secrets::same_hash(&presented, &link.secret_hash) => link,
        _ => return Err(PortalError::NotFound("this sign-in link does not exist".into())),
    };
    if link.used_at.is_some() || link.expires_at <= now_ms() {
        return Err(PortalError::Gone("this sign-in link was already used or has expired".into()));
    }
    Ok(link)
}

/// What a sign-in link is, without spending it: `Ok(Some(team name))` ready for a team admin,
/// `Ok(None)` ready for a platform admin; `NotFound` unknown, `Gone` used or expired.
pub async fn link_state(s: &Services, code: &str) -> Result<Option<String>> {
    Ok(match live_link(s, code).await?.team_id {
        Some(id) => Some(s.catalog.team_by_id(&id).await?.name),
        None => None,
    })
}

/// Spends a sign-in link and opens a session; returns the cookie value and who signed in.
pub async fn redeem_link(s: &Services, code: &str, headers: &HeaderMap) -> Result<(String, Admin)> {
    let link = live_link(s, code).await?;
    // Spending checks again in one statement: of two presses at once, one wins.
    s.catalog.spend_admin_link(&link.id).await?;
    open_session(s, "admin:login-link", link.team_id.as_deref(), headers).await
}

/// Opens an admin session for `actor` (platform admin when `team_id` is `None`).
pub async fn open_session(s: &Services, actor: &str, team_id: Option<&str>, headers: &HeaderMap) -> Result<(String, Admin)> {
    let secret = secrets::generate(SESSION_PREFIX);
    let ttl_ms = i64::from(s.settings.session_ttl_hours) * 3_600_000;
    s.catalog.insert_admin_session(&secrets::hash(&secret), actor, team_id, now_ms() + ttl_ms).await?;
    let admin = admin(s, actor.to_string(), team_id, headers).await?;
    Ok((secret, admin))
}

pub async fn close_session(s: &Services, headers: &HeaderMap) -> Result<()> {
    match cookie_value(headers, ADMIN_COOKIE) {
        Some(secret) => s.catalog.delete_admin_session(&secrets::hash(secret)).await,
        None => Ok(()),
    }
}

/// The admin behind a request: an admin API token in `Authorization`, else the admin session
/// cookie. Anything else (a partner's token, a partner session, nothing) is `Unauthenticated`.
pub async fn authenticate(s: &Services, headers: &HeaderMap) -> Result<Admin> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer "))).map(str::trim);
        let Some(token) = token.filter(|t| t.starts_with(ADMIN_TOKEN_PREFIX)) else {
            return Err(PortalError::Unauthenticated("this API needs an admin API token".into()));
        };
        let presented = secrets::hash(token);
        return match s.catalog.admin_token_by_hash(&presented).await? {
            Some((record, stored)) if secrets::same_hash(&presented, &stored) && record.revoked_at.is_none() => {
                s.catalog.touch_admin_token(&record.id).await?;
                admin(s, format!("admin-token:{}", record.name), record.team_id.as_deref(), headers).await
            }
            _ => Err(PortalError::BadCredentials("invalid or revoked admin API token".into())),
        };
    }
    let signed_out = || PortalError::Unauthenticated("sign in to the admin console first".into());
    let secret = cookie_value(headers, ADMIN_COOKIE).ok_or_else(signed_out)?;
    let presented = secrets::hash(secret);
    match s.catalog.admin_session(&presented).await? {
        Some(found) if secrets::same_hash(&presented, &found.secret_hash) && found.expires_at > now_ms() => {
            admin(s, found.actor, found.team_id.as_deref(), headers).await
        }
        _ => Err(signed_out()),
    }
}

async fn admin(s: &Services, actor: String, team_id: Option<&str>, headers: &HeaderMap) -> Result<Admin> {
    let team = match team_id {
        Some(id) => Some(s.catalog.team_by_id(id).await?),
        None => None,
    };
    Ok(Admin {
        actor,
        team,
        client_ip: peer(headers).map(|ip| ip.to_string()),
        user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(String::from),
    })
}

pub fn session_cookie(s: &Services, secret: &str) -> String {
    set_cookie(ADMIN_COOKIE, secret, Some(i64::from(s.settings.session_ttl_hours) * 3600), s.sessions.secure())
}

pub fn cleared_cookie(s: &Services) -> String {
    set_cookie(ADMIN_COOKIE, "", Some(0), s.sessions.secure())
}
