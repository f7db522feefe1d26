//! The forms of `/connect`: a partner creates, rotates and revokes their own tokens. Each is a
//! plain form with a form token, answering with a redirect back to `/connect`; a new token is
//! shown there once (`?issued=`), never put in a URL.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};

use super::partner::PartnerForm;
use super::signin::see_other;
use crate::auth::credentials::IssuedToken;
use crate::error::{PortalError, Result};
use crate::Services;

pub async fn create(State(s): State<Arc<Services>>, req: Request) -> Response {
    answer(&s, req, "connect.createToken", None, async |s: &Services, form: &PartnerForm| {
        let days = match form.field("days") {
            "" => None,
            text => Some(text.parse().map_err(|_| PortalError::field("days", "the number of days must be a whole number"))?),
        };
        s.credentials.create_named(&form.caller.recipient, form.field("name"), days).await
    })
    .await
}

pub async fn rotate(State(s): State<Arc<Services>>, Path(id): Path<String>, req: Request) -> Response {
    answer(&s, req, "connect.rotateToken", Some(id.clone()), async |s: &Services, form: &PartnerForm| {
        let hours = form.field("overlap_hours").parse().map_err(|_| PortalError::field("overlap_hours", "choose how long the old token keeps working"))?;
        s.credentials.rotate(&form.caller.recipient, &id, hours).await
    })
    .await
}

pub async fn revoke(State(s): State<Arc<Services>>, Path(id): Path<String>, req: Request) -> Response {
    let form = match PartnerForm::read(&s, req).await {
        Ok(f) => f,
        Err(e) => return refused(e),
    };
    let result = s.credentials.revoke_own(&form.caller.recipient, &id).await;
    form.audit(&s, "connect.revokeToken", Some(id.clone()), result.as_ref().map_or_else(|e| e.status().as_u16(), |_| 303)).await;
    match result {
        // The session stood on that token: it has ended, so the browser signs in again.
        Ok(()) if id == form.caller.token_id => {
            let mut response = see_other("/login?error=revoked");
            if let Ok(cookie) = s.sessions.cleared_cookie().parse() {
                response.headers_mut().append(SET_COOKIE, cookie);
            }
            response
        }
        Ok(()) => see_other("/connect?revoked=1"),
        Err(e) => refused(e),
    }
}

/// Runs a form that issues a token, audits it, and shows the new token once.
async fn answer<F>(s: &Arc<Services>, req: Request, action: &str, object: Option<String>, issue: F) -> Response
where
    F: AsyncFnOnce(&Services, &PartnerForm) -> Result<IssuedToken>,
{
    let form = match PartnerForm::read(s, req).await {
        Ok(f) => f,
        Err(e) => return refused(e),
    };
    let result = issue(s.as_ref(), &form).await;
    let object = object.or_else(|| result.as_ref().ok().map(|t| t.record.id.clone()));
    form.audit(s, action, object, result.as_ref().map_or_else(|e| e.status().as_u16(), |_| 303)).await;
    match result {
        Ok(issued) => match s.reveals.put(&issued.record.recipient_id, &issued).await {
            Ok(id) => see_other(&format!("/connect?issued={id}#new-token")),
            Err(e) => refused(e),
        },
        Err(e) => refused(e),
    }
}

/// Where a refused form sends the browser: back to `/connect` with the reason's code, to sign
/// in, or (for a token that is not theirs) a plain 404.
fn refused(e: PortalError) -> Response {
    match e {
        PortalError::Field { field, .. } => see_other(&format!("/connect?error={field}")),
        PortalError::Forbidden(_) | PortalError::Malformed(_) => see_other("/connect?error=form"),
        PortalError::Conflict(_) => see_other("/connect?error=revoked"),
        PortalError::Unauthenticated(_) => see_other("/login?next=/connect"),
        e if e.status().is_client_error() => e.into_response(),
        e => {
            tracing::error!(error = %e, "token form failed");
            see_other("/connect?error=unavailable")
        }
    }
}
