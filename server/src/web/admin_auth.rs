//! Signing in to the console (one-time link, single sign-on), signing out, and single sign-on
//! for partners' employees. Every step is a plain form or redirect, so it works without JavaScript.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::HeaderMap;
use axum::response::Response;

use super::envelope;
use super::signin::{local_path, read_fields, see_other};
use crate::admin::{identity, Admin};
use crate::auth::oidc::{provider_of_cookie, Identity, Purpose, STATE_COOKIE};
use crate::auth::sessions::{cookie_value, set_cookie};
use crate::auth::{forms, network};
use crate::error::{FailedAuthentication, PortalError};
use crate::Services;

/// `POST /admin/login/{code}`: spends a one-time sign-in link.
pub async fn redeem_link(State(s): State<Arc<Services>>, Path(code): Path<String>, req: Request) -> Response {
    let headers = req.headers().clone();
    let fields = read_fields(req).await.unwrap_or_default();
    if forms::verify(&s.signer, &headers, fields.get(forms::FIELD).map(String::as_str)).is_err() {
        return see_other(&format!("/admin/login/{code}?error=form"));
    }
    match identity::redeem_link(&s, &code, &headers).await {
        Ok((secret, admin)) => signed_in(&s, &admin, &secret, "/admin").await,
        // The page says what happened to the link (used, expired, unknown).
        Err(e) if e.status().is_client_error() => {
            s.catalog.audit(&envelope::event(&headers, "anonymous".into(), "admin.signIn", e.status().as_u16())).await;
            let mut response = see_other(&format!("/admin/login/{code}"));
            FailedAuthentication::mark(&mut response);
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "admin sign-in link failed");
            see_other("/admin/login?error=unavailable")
        }
    }
}

/// `POST /admin/logout`.
pub async fn sign_out(State(s): State<Arc<Services>>, req: Request) -> Response {
    let headers = req.headers().clone();
    let fields = read_fields(req).await.unwrap_or_default();
    if forms::verify(&s.signer, &headers, fields.get(forms::FIELD).map(String::as_str)).is_err() {
        return see_other("/admin?error=form");
    }
    if let Ok(admin) = identity::authenticate(&s, &headers).await {
        crate::admin::record(&s, &admin, crate::admin::Change::new("signOut", admin.actor.clone()), 200).await;
    }
    if let Err(e) = identity::close_session(&s, &headers).await {
        tracing::error!(error = %e, "could not end admin session");
    }
    with_cookie(see_other("/admin/login?signed_out=1"), &identity::cleared_cookie(&s))
}

/// `GET /auth/oidc/start?as=admin|partner&next=`: off to the identity provider.
pub async fn start(State(s): State<Arc<Services>>, Query(params): Query<HashMap<String, String>>) -> Response {
    let purpose = if params.get("as").map(String::as_str) == Some("partner") { Purpose::Partner } else { Purpose::Admin };
    let back = failure_page(purpose);
    // Admins sign in only with the portal's own provider; partners may choose theirs.
    let index = match purpose {
        Purpose::Admin => 0,
        Purpose::Partner => params.get("idp").and_then(|i| i.parse().ok()).unwrap_or(0),
    };
    let Some(oidc) = s.sign_in_provider(index) else {
        return see_other(&format!("{back}?error=sso_off"));
    };
    let default = if purpose == Purpose::Admin { "/admin" } else { "/" };
    let next = params.get("next").map(|n| local_path(Some(n))).filter(|n| n != "/").unwrap_or_else(|| default.into());
    match oidc.start(purpose, next, index).await {
        Ok((url, state)) => with_cookie(see_other(&url), &set_cookie(STATE_COOKIE, &state, Some(600), s.sessions.secure())),
        Err(e) => {
            tracing::error!(error = %e, "single sign-on could not start");
            see_other(&format!("{back}?error=sso_unavailable"))
        }
    }
}

/// `GET /auth/oidc/callback?code=&state=`: the provider sends the browser back here.
pub async fn callback(State(s): State<Arc<Services>>, Query(params): Query<HashMap<String, String>>, req: Request) -> Response {
    let headers = req.headers().clone();
    let cleared = set_cookie(STATE_COOKIE, "", Some(0), s.sessions.secure());
    let state_cookie = cookie_value(&headers, STATE_COOKIE);
    let failed = format!("{}?error=oidc", failure_page(Purpose::of_cookie(state_cookie)));
    let Some(oidc) = s.sign_in_provider(provider_of_cookie(state_cookie)) else {
        return with_cookie(see_other(&failed), &cleared);
    };
    let (Some(code), Some(state)) = (params.get("code"), params.get("state")) else {
        // The person cancelled, or the provider refused (`error=access_denied`).
        return with_cookie(see_other(&failed), &cleared);
    };
    let identity = match oidc.finish(state, code, state_cookie).await {
        Ok(identity) => identity,
        Err(e) => {
            tracing::warn!(error = %e, "single sign-on refused");
            let event = envelope::event(&headers, "anonymous".into(), "admin.signIn", e.status().as_u16());
            s.catalog.audit(&event).await;
            let mut response = with_cookie(see_other(&failed), &cleared);
            if e.is_bad_credentials() {
                FailedAuthentication::mark(&mut response);
            }
            return response;
        }
    };
    let response = match identity.purpose {
        // Only the portal's own provider grants admin rights.
        Purpose::Admin if provider_of_cookie(state_cookie) != 0 => see_other("/admin/login?error=oidc"),
        Purpose::Admin => admin_from(&s, &identity, &headers).await,
        Purpose::Partner => partner_from(&s, &identity, &headers).await,
    };
    with_cookie(response, &cleared)
}

async fn admin_from(s: &Services, identity: &Identity, headers: &HeaderMap) -> Response {
    let refuse = |code: &str| see_other(&format!("/admin/login?error={code}"));
    let oidc = s.oidc.as_ref().expect("callback checked single sign-on");
    let team = match oidc.admin_team(identity) {
        Ok(None) => None,
        Ok(Some(name)) => match s.catalog.team(&name).await {
            Ok(team) => Some(team.id),
            Err(_) => return refuse("no_team"),
        },
        Err(_) => {
            let event = envelope::event(headers, identity.actor(), "admin.signIn", 403);
            s.catalog.audit(&event).await;
            return refuse("not_admin");
        }
    };
    match identity::open_session(s, &identity.actor(), team.as_deref(), headers).await {
        Ok((secret, admin)) => signed_in(s, &admin, &secret, &identity.next).await,
        Err(e) => {
            tracing::error!(error = %e, "admin session failed");
            refuse("unavailable")
        }
    }
}

/// A partner's employee: the recipient bound to this provider and their email domain or claim.
async fn partner_from(s: &Services, identity: &Identity, headers: &HeaderMap) -> Response {
    let who = identity.email.clone().unwrap_or_else(|| identity.subject.clone());
    let result = async {
        let candidates = s.catalog.recipients_of_issuer(&identity.issuer).await?;
        let recipient = candidates
            .into_iter()
            .find(|r| r.oidc.as_ref().is_some_and(|b| identity.matches(b)))
            .ok_or_else(|| PortalError::Unauthenticated("no partner is set up for this account".into()))?;
        network::admits(&recipient, network::peer(headers))?;
        let caller = s.credentials.single_sign_on(&recipient, &who, s.settings.session_ttl_hours).await?;
        let secret = s.sessions.replace(cookie_value(headers, crate::auth::sessions::COOKIE), &caller).await?;
        Ok::<_, PortalError>((caller, secret))
    }
    .await;
    match result {
        Ok((caller, secret)) => {
            let mut event = envelope::event(headers, envelope::partner_actor(&caller.recipient.name), "portal.signIn", 303);
            event.detail = Some(format!("single sign-on as {who}"));
            s.catalog.audit(&event).await;
            with_cookie(see_other(&identity.next), &s.sessions.cookie(&secret))
        }
        Err(e) => {
            let mut event = envelope::event(headers, "anonymous".into(), "portal.signIn", e.status().as_u16());
            event.detail = Some(format!("single sign-on as {who}"));
            s.catalog.audit(&event).await;
            let code = if e.status() == 403 { "network" } else { "oidc_unknown" };
            see_other(&format!("/login?error={code}"))
        }
    }
}

async fn signed_in(s: &Services, admin: &Admin, secret: &str, next: &str) -> Response {
    crate::admin::record(s, admin, crate::admin::Change::new("signIn", admin.actor.clone()), 200).await;
    with_cookie(see_other(&local_path(Some(next))), &identity::session_cookie(s, secret))
}

fn failure_page(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Admin => "/admin/login",
        Purpose::Partner => "/login",
    }
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = cookie.parse() {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}
