//! Partner browser sessions: opened by signing in (token or credential file) or by an activation,
//! kept server-side in the catalog, carried by an HttpOnly, SameSite=Lax cookie.

use axum::http::HeaderMap;

use super::Caller;
use crate::catalog::{now_ms, Catalog, TokenStatus};
use crate::error::{PortalError, Result};
use crate::primitives::secrets;

pub const COOKIE: &str = "portal_session";
/// The admin console's session cookie, apart from the partner's.
pub const ADMIN_COOKIE: &str = "portal_admin";
const PREFIX: &str = "pss_";

#[derive(Clone)]
pub struct Sessions {
    catalog: Catalog,
    ttl_ms: i64,
    /// Mark cookies `Secure` (the portal is served over https).
    secure: bool,
}

impl Sessions {
    pub fn new(catalog: Catalog, ttl_hours: u32, secure: bool) -> Self {
        Self { catalog, ttl_ms: i64::from(ttl_hours) * 3_600_000, secure }
    }

    /// Opens a session for an authenticated caller; returns the cookie value (stored hashed).
    pub async fn open(&self, caller: &Caller) -> Result<String> {
        let secret = secrets::generate(PREFIX);
        self.catalog.insert_session(&secrets::hash(&secret), &caller.token_id, now_ms() + self.ttl_ms).await?;
        Ok(secret)
    }

    /// Opens a session and ends the one the browser held before (signing in again, or activating
    /// another credential, must not leave the old session alive).
    pub async fn replace(&self, old: Option<&str>, caller: &Caller) -> Result<String> {
        if let Some(old) = old {
            self.close(old).await?;
        }
        self.open(caller).await
    }

    /// The caller behind a session cookie: 401 when unknown, expired, or when the token it was
    /// opened with is no longer active.
    pub async fn resume(&self, secret: &str) -> Result<Caller> {
        let presented = secrets::hash(secret);
        let signed_out = || PortalError::Unauthenticated("your session has ended; please sign in again".into());
        let Some(found) = self.catalog.session_by_hash(&presented).await? else {
            return Err(signed_out());
        };
        let now = now_ms();
        if !secrets::same_hash(&presented, &found.secret_hash) || found.expires_at <= now || found.token.status(now) != TokenStatus::Active
        {
            return Err(signed_out());
        }
        Ok(Caller { recipient: found.recipient, token_id: found.token.id, via: crate::auth::Via::Token })
    }

    pub async fn close(&self, secret: &str) -> Result<()> {
        self.catalog.delete_session(&secrets::hash(secret)).await
    }

    /// The `Set-Cookie` value carrying a new session.
    pub fn cookie(&self, secret: &str) -> String {
        set_cookie(COOKIE, secret, Some(self.ttl_ms / 1000), self.secure)
    }

    /// The `Set-Cookie` value that removes the session cookie.
    pub fn cleared_cookie(&self) -> String {
        set_cookie(COOKIE, "", Some(0), self.secure)
    }

    pub fn secure(&self) -> bool {
        self.secure
    }
}

/// `name=value; Path=/; HttpOnly; SameSite=Lax[; Max-Age][; Secure]`: scripts never read portal
/// cookies, and other sites' forms do not carry them on POST.
pub fn set_cookie(name: &str, value: &str, max_age_secs: Option<i64>, secure: bool) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age_secs {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Credentials;
    use crate::catalog::test_catalog;
    use std::collections::BTreeMap;

    #[tokio::test]
    async fn sessions_live_and_die_with_their_token() {
        let (catalog, _dir) = test_catalog().await;
        catalog.create_recipient("acme", None, BTreeMap::new()).await.unwrap();
        let creds = Credentials::new(catalog.clone(), "http://h".into(), crate::auth::TokenPolicy { max_days: 365, max_active: 5 });
        let issued = creds.create_token("acme", None, Some(1)).await.unwrap();
        let caller = creds.authenticate(Some(&format!("Bearer {}", issued.token))).await.unwrap();
        let sessions = Sessions::new(catalog.clone(), 1, false);

        let secret = sessions.open(&caller).await.unwrap();
        assert_eq!(sessions.resume(&secret).await.unwrap().recipient.name, "acme");
        assert_eq!(sessions.resume("pss_forged").await.unwrap_err().status(), 401);

        catalog.revoke_token("acme", &issued.record.id).await.unwrap();
        assert_eq!(sessions.resume(&secret).await.unwrap_err().status(), 401);

        let other = creds.create_token("acme", None, Some(1)).await.unwrap();
        let caller = creds.authenticate(Some(&format!("Bearer {}", other.token))).await.unwrap();
        let secret = sessions.open(&caller).await.unwrap();
        sessions.close(&secret).await.unwrap();
        assert_eq!(sessions.resume(&secret).await.unwrap_err().status(), 401);

        let first = sessions.open(&caller).await.unwrap();
        let second = sessions.replace(Some(&first), &caller).await.unwrap();
        assert!(sessions.resume(&first).await.is_err());
        assert_eq!(sessions.resume(&second).await.unwrap().recipient.name, "acme");

        let expired = Sessions::new(catalog, 0, false);
        let secret = expired.open(&caller).await.unwrap();
        assert_eq!(expired.resume(&secret).await.unwrap_err().status(), 401);
    }

    #[test]
    fn cookies_are_http_only_and_same_site() {
        let mut headers = HeaderMap::new();
        headers.insert("cookie", "a=1; portal_session=pss_x; b=".parse().unwrap());
        assert_eq!(cookie_value(&headers, COOKIE), Some("pss_x"));
        assert_eq!(cookie_value(&headers, "b"), None);
        let c = set_cookie(COOKIE, "v", Some(60), true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.ends_with("Secure"));
    }
}
