//! Who a portal request comes from: the session cookie, a recipient bearer token (scripts and the
//! JSON API), or HTTP Basic with the token as password (what Excel's Power Query "From Web"
//! sends). All end in the same `Caller` that `Access` authorizes.

use std::collections::HashMap;

use axum::extract::Request;
use axum::http::{header, Extensions, HeaderMap};

use crate::auth::sessions::{cookie_value, COOKIE};
use crate::auth::Caller;
use crate::auth::{forms, network};
use crate::error::{PortalError, Result};
use crate::Services;

/// The header a browser script sends the form token in when it changes something through the
/// JSON API with its session cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The partner behind a request, calling from a network its recipient allows.
pub async fn authenticate(s: &Services, headers: &HeaderMap) -> Result<Caller> {
    let caller = credentials(s, headers).await?;
    network::admits(&caller.recipient, network::peer(headers))?;
    Ok(caller)
}

async fn credentials(s: &Services, headers: &HeaderMap) -> Result<Caller> {
    if let Some(authorization) = headers.get(header::AUTHORIZATION) {
        let authorization = authorization.to_str().ok();
        if let Some(token) = authorization.and_then(basic_password) {
            return s.credentials.authenticate(Some(&format!("Bearer {token}"))).await;
        }
        return s.credentials.authenticate(authorization).await;
    }
    match cookie_value(headers, COOKIE) {
        Some(secret) => s.sessions.resume(secret).await,
        None => Err(PortalError::Unauthenticated("sign in first: no session and no bearer token".into())),
    }
}

/// As [`authenticate`], for requests that change something: a session cookie alone is not
/// enough (a cross-site page could make the browser send it); it must come with the form token
/// in [`CSRF_HEADER`]. A bearer token in `Authorization` cannot be sent by another site.
pub async fn authenticate_change(s: &Services, headers: &HeaderMap) -> Result<Caller> {
    // Browsers may replay cached Basic credentials cross-site; only a bearer token proves intent.
    let bearer =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).is_some_and(|v| v.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("bearer ")));
    let caller = authenticate(s, headers).await?;
    if !bearer {
        let presented = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        forms::verify(&s.signer, headers, presented)?;
    }
    Ok(caller)
}

/// A submitted browser form of a signed-in partner.
pub struct PartnerForm {
    pub caller: Caller,
    pub fields: HashMap<String, String>,
    pub headers: HeaderMap,
    pub extensions: Extensions,
}

impl PartnerForm {
    /// Reads the form, checks its form token, and finds the partner. No session is
    /// `Unauthenticated`; a missing or foreign form token is `Forbidden` and nothing happens.
    pub async fn read(s: &Services, req: Request) -> Result<Self> {
        let (headers, extensions) = (req.headers().clone(), req.extensions().clone());
        let fields = super::signin::read_fields(req).await?;
        let caller = match cookie_value(&headers, COOKIE) {
            Some(secret) => s.sessions.resume(secret).await?,
            None => return Err(PortalError::Unauthenticated("sign in first".into())),
        };
        network::admits(&caller.recipient, network::peer(&headers))?;
        forms::verify(&s.signer, &headers, fields.get(forms::FIELD).map(String::as_str))?;
        Ok(Self { caller, fields, headers, extensions })
    }

    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", |v| v.trim())
    }

    /// Writes the audit line of what this form did.
    pub async fn audit(&self, s: &Services, action: &str, object: Option<String>, status: u16) {
        let mut event = super::audit::event(&self.headers, &self.extensions, super::audit::actor(&self.caller.recipient.name), action, status);
        event.object = object;
        super::audit::record(s, event).await;
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
