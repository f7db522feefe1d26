//! Who a portal request comes from: the session cookie, or a recipient bearer token (scripts and
//! the JSON API). Both end in the same `Caller` that `Access` authorizes.

use axum::http::{header, HeaderMap};

use crate::auth::sessions::{cookie_value, COOKIE};
use crate::auth::Caller;
use crate::error::{PortalError, Result};
use crate::Services;

pub async fn authenticate(s: &Services, headers: &HeaderMap) -> Result<Caller> {
    if let Some(authorization) = headers.get(header::AUTHORIZATION) {
        return s.credentials.authenticate(authorization.to_str().ok()).await;
    }
    match cookie_value(headers, COOKIE) {
        Some(secret) => s.sessions.resume(secret).await,
        None => Err(PortalError::Unauthenticated("sign in first: no session and no bearer token".into())),
    }
}
