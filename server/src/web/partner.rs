//! Who a portal request comes from: the session cookie, a recipient bearer token (scripts and the
//! JSON API), or HTTP Basic with the token as password (what Excel's Power Query "From Web"
//! sends). All end in the same `Caller` that `Access` authorizes.

use axum::http::{header, HeaderMap};

use crate::auth::sessions::{cookie_value, COOKIE};
use crate::auth::Caller;
use crate::error::{PortalError, Result};
use crate::Services;

pub async fn authenticate(s: &Services, headers: &HeaderMap) -> Result<Caller> {
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
