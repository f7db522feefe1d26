//! Who a portal request comes from, as axum extractors: a handler names the caller it needs
//! in its signature and never sees an unauthenticated request. Each names its actor in the
//! request's audit slot (`envelope`). A refusal is a `PortalError` (401, 403 for a foreign
//! network or a missing form token).
//!
//! Partners come with the session cookie, a recipient bearer token (scripts and the JSON API),
//! or HTTP Basic with the token as password (what Excel's Power Query "From Web" sends). Admins
//! come with an admin API token or the console's session cookie.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use super::envelope::Audit;
use crate::admin::{identity, Admin};
use crate::auth::sessions::{cookie_value, COOKIE};
use crate::auth::Caller;
use crate::auth::{forms, network};
use crate::error::{PortalError, Result};
use crate::Services;

/// The header a browser script sends the form token in when it changes something through the
/// JSON API with its session cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A partner reading, from a network its recipient allows.
pub struct PartnerCaller(pub Caller);

/// A partner changing something: a session cookie alone is not enough (a cross-site page could
/// make the browser send it); it must come with the form token in [`CSRF_HEADER`]. A bearer
/// token in `Authorization` cannot be sent by another site.
pub struct PartnerChange(pub Caller);

/// A submitted browser form of a signed-in partner, its form token checked.
pub struct PartnerForm {
    pub caller: Caller,
    fields: HashMap<String, String>,
}

/// An admin reading (API token or console session).
pub struct AdminReader(pub Admin);

/// An admin changing something: with a console session, only with the form token in
/// [`CSRF_HEADER`]; an API token in `Authorization` needs none.
pub struct AdminChanger(pub Admin);

/// A submitted console form, its form token checked.
pub struct AdminForm {
    pub admin: Admin,
    pub fields: HashMap<String, String>,
}

/// The partner behind a request (no audit slot involved: the UI's page reads use it too).
pub async fn partner(s: &Services, headers: &HeaderMap) -> Result<Caller> {
    let caller = if let Some(authorization) = headers.get(header::AUTHORIZATION) {
        let authorization = authorization.to_str().ok();
        match authorization.and_then(basic_password) {
            Some(token) => s.credentials.authenticate(Some(&format!("Bearer {token}"))).await?,
            None => s.credentials.authenticate(authorization).await?,
        }
    } else {
        match cookie_value(headers, COOKIE) {
            Some(secret) => s.sessions.resume(secret).await?,
            None => return Err(PortalError::Unauthenticated("sign in first: no session and no bearer token".into())),
        }
    };
    network::admits(&caller.recipient, network::peer(headers))?;
    Ok(caller)
}

fn named(parts: &Parts, caller: Caller) -> Caller {
    Audit::of(parts).partner(&caller);
    caller
}

fn csrf_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())
}

impl FromRequestParts<Arc<Services>> for PartnerCaller {
    type Rejection = PortalError;

    async fn from_request_parts(parts: &mut Parts, s: &Arc<Services>) -> Result<Self> {
        Ok(Self(named(parts, partner(s, &parts.headers).await?)))
    }
}

impl FromRequestParts<Arc<Services>> for PartnerChange {
    type Rejection = PortalError;

    async fn from_request_parts(parts: &mut Parts, s: &Arc<Services>) -> Result<Self> {
        // Browsers may replay cached Basic credentials cross-site; only a bearer token proves intent.
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("bearer ")));
        let caller = named(parts, partner(s, &parts.headers).await?);
        if !bearer {
            forms::verify(&s.signer, &parts.headers, csrf_header(&parts.headers))?;
        }
        Ok(Self(caller))
    }
}

impl FromRequest<Arc<Services>> for PartnerForm {
    type Rejection = PortalError;

    /// No session is `Unauthenticated`; a missing or foreign form token is `Forbidden`.
    async fn from_request(req: Request, s: &Arc<Services>) -> Result<Self> {
        let (parts, body) = req.into_parts();
        let headers = parts.headers.clone();
        let fields = super::signin::read_fields(Request::from_parts(parts.clone(), body)).await?;
        let caller = match cookie_value(&headers, COOKIE) {
            Some(secret) => s.sessions.resume(secret).await?,
            None => return Err(PortalError::Unauthenticated("sign in first".into())),
        };
        let caller = named(&parts, caller);
        network::admits(&caller.recipient, network::peer(&headers))?;
        forms::verify(&s.signer, &headers, fields.get(forms::FIELD).map(String::as_str))?;
        Ok(Self { caller, fields })
    }
}

impl PartnerForm {
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", |v| v.trim())
    }
}

async fn admin(parts: &Parts, s: &Services) -> Result<Admin> {
    let admin = match identity::authenticate(s, &parts.headers).await {
        Ok(admin) => admin,
        // A refused admin API token is a failed sign-in: the admin routes audit their changes,
        // not the callers they turn away.
        Err(e @ PortalError::BadCredentials(_)) => {
            s.catalog.audit(&super::envelope::event(&parts.headers, "anonymous".into(), "admin.signIn", e.status().as_u16())).await;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    Audit::of(parts).actor(admin.actor.clone());
    Ok(admin)
}

impl FromRequestParts<Arc<Services>> for AdminReader {
    type Rejection = PortalError;

    async fn from_request_parts(parts: &mut Parts, s: &Arc<Services>) -> Result<Self> {
        Ok(Self(admin(parts, s).await?))
    }
}

impl FromRequestParts<Arc<Services>> for AdminChanger {
    type Rejection = PortalError;

    async fn from_request_parts(parts: &mut Parts, s: &Arc<Services>) -> Result<Self> {
        let admin = admin(parts, s).await?;
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            forms::verify(&s.signer, &parts.headers, csrf_header(&parts.headers))?;
        }
        Ok(Self(admin))
    }
}

impl FromRequest<Arc<Services>> for AdminForm {
    type Rejection = PortalError;

    /// `Unauthenticated` without a session, `Forbidden` for a missing or foreign form token.
    async fn from_request(req: Request, s: &Arc<Services>) -> Result<Self> {
        let (parts, body) = req.into_parts();
        let fields = super::signin::read_fields(Request::from_parts(parts.clone(), body)).await?;
        let admin = admin(&parts, s).await?;
        forms::verify(&s.signer, &parts.headers, fields.get(forms::FIELD).map(String::as_str))?;
        Ok(Self { admin, fields })
    }
}

/// The password of `Basic base64(user:password)`; any user name.
fn basic_password(header: &str) -> Option<String> {
    use base64::Engine;
    let encoded = header.strip_prefix("Basic ").or_else(|| header.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (_, password) = text.split_once(':')?;
    Some(password.to_string())
}

#[cfg(test)]
mod tests {
    use super::basic_password;

    #[test]
    fn basic_auth_carries_the_token_as_password() {
        // "excel:dss_abc"
        assert_eq!(basic_password("Basic ZXhjZWw6ZHNzX2FiYw==").as_deref(), Some("dss_abc"));
        assert_eq!(basic_password("Basic !!!"), None);
        assert_eq!(basic_password("Bearer dss_abc"), None);
    }
}
