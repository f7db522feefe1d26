//! Anti-forgery tokens for every state-changing form (sign-in, sign-out, activation).
//!
//! Signed double-submit: the token is an HMAC of a value the browser holds in an HttpOnly cookie
//! (the session cookie once signed in, before that a random `portal_form` cookie). A page of
//! another site can make the browser send the cookie but cannot read it, so it cannot produce
//! the matching token.

use axum::http::HeaderMap;

use super::sessions::{cookie_value, COOKIE as SESSION_COOKIE};
use crate::error::{PortalError, Result};
use crate::primitives::secrets;
use crate::storage::UrlSigner;

pub const BINDING_COOKIE: &str = "portal_form";
/// The hidden field every protected form carries.
pub const FIELD: &str = "csrf";

/// What this request's forms are bound to, if the browser holds anything yet.
pub fn binding(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE)
        .or_else(|| cookie_value(headers, super::sessions::ADMIN_COOKIE))
        .or_else(|| cookie_value(headers, BINDING_COOKIE))
        .map(String::from)
}

/// A fresh binding value for a browser that has none.
pub fn new_binding() -> String {
    secrets::generate("pf_")
}

pub fn token(signer: &UrlSigner, binding: &str) -> String {
    signer.mac("form", binding)
}

/// Checks a submitted form's token against the request's cookies.
pub fn verify(signer: &UrlSigner, headers: &HeaderMap, presented: Option<&str>) -> Result<()> {
    match (binding(headers), presented) {
        (Some(binding), Some(presented)) if signer.verify_mac("form", &binding, presented) => Ok(()),
        _ => Err(PortalError::Forbidden("this form has expired or did not come from the portal; reload the page and try again".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_their_cookie() {
        let signer = UrlSigner::with_key(b"k", "http://h", 60);
        let mut headers = HeaderMap::new();
        headers.insert("cookie", "portal_form=pf_a".parse().unwrap());
        let good = token(&signer, "pf_a");
        verify(&signer, &headers, Some(&good)).unwrap();
        assert_eq!(verify(&signer, &headers, Some(&token(&signer, "pf_b"))).unwrap_err().status(), 403);
        assert!(verify(&signer, &headers, None).is_err());
        assert!(verify(&signer, &HeaderMap::new(), Some(&good)).is_err());
        // Once signed in, forms are bound to the session instead.
        headers.insert("cookie", "portal_form=pf_a; portal_session=pss_s".parse().unwrap());
        assert!(verify(&signer, &headers, Some(&good)).is_err());
        verify(&signer, &headers, Some(&token(&signer, "pss_s"))).unwrap();
    }
}
