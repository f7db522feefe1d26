//! Single sign-on with OpenID Connect: authorization code with PKCE (S256), `state` bound to
//! the browser by a cookie, `nonce` checked, the ID token's signature, issuer, audience and
//! expiry verified against the provider's discovery document and keys (the `openidconnect`
//! crate, built on `oauth2`). What the verified token says is then read as plain JSON, so any
//! claim (e.g. `groups`) can carry admin rights or bind a partner.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use serde_json::Value;
use tokio::sync::Mutex;

use super::claims::claim_values;
use super::Reveals;
use crate::catalog::Catalog;
use crate::catalog::OidcBinding;
use crate::config::OidcSettings;
use crate::error::{PortalError, Result};

/// The cookie that binds a sign-in in progress to the browser that started it.
pub const STATE_COOKIE: &str = "portal_oidc";
/// How long the provider's discovery document and keys are trusted before being fetched again.
const METADATA_TTL: Duration = Duration::from_secs(300);

/// Who is signing in: an admin, or a partner's employee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Purpose {
    Admin,
    Partner,
}

impl Purpose {
    fn code(self) -> &'static str {
        match self {
            Self::Admin => "a",
            Self::Partner => "p",
        }
    }

    /// Who started the sign-in this browser's state cookie belongs to (so a failure is told
    /// on the right sign-in page); admins when unknown.
    pub fn of_cookie(cookie: Option<&str>) -> Self {
        if cookie.is_some_and(|c| c.starts_with("p.")) {
            Self::Partner
        } else {
            Self::Admin
        }
    }
}

/// Which of the portal's providers a sign-in in progress went to (0 when unknown).
pub fn provider_of_cookie(cookie: Option<&str>) -> usize {
    cookie.and_then(|c| c.split('.').nth(1)).and_then(|i| i.parse().ok()).unwrap_or(0)
}

/// A sign-in in progress, kept in the catalog (sealed) until the provider sends the browser back.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Pending {
    purpose: Purpose,
    next: String,
    nonce: String,
    verifier: String,
}

/// The verified identity.
#[derive(Clone, Debug)]
pub struct Identity {
    pub purpose: Purpose,
    pub next: String,
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    /// Every claim of the ID token.
    pub claims: Value,
}

impl Identity {
    /// `admin:<email>` (or the subject when the provider gives no email).
    pub fn actor(&self) -> String {
        format!("admin:{}", self.email.as_deref().unwrap_or(&self.subject))
    }

    /// The values of a claim that is a string or a list of strings.
    pub fn claim_values(&self, name: &str) -> Vec<String> {
        claim_values(&self.claims, name)
    }

    /// Whether this person acts as a recipient bound to the provider this way: a verified email
    /// in the domain, or the claim's value.
    pub fn matches(&self, binding: &OidcBinding) -> bool {
        if binding.issuer.trim_end_matches('/') != self.issuer.trim_end_matches('/') {
            return false;
        }
        let by_domain = binding.email_domain.as_deref().is_some_and(|domain| {
            self.email_verified
                && self.email.as_deref().and_then(|e| e.rsplit_once('@')).is_some_and(|(_, d)| d.eq_ignore_ascii_case(domain))
        });
        let by_claim = binding
            .claim
            .as_deref()
            .and_then(|c| c.split_once('='))
            .is_some_and(|(name, value)| self.claim_values(name.trim()).iter().any(|v| v == value.trim()));
        by_domain || by_claim
    }
}

pub struct Oidc {
    settings: OidcSettings,
    http: openidconnect::reqwest::Client,
    metadata: Mutex<Option<(CoreProviderMetadata, Instant)>>,
    pending: Reveals<Pending>,
}

impl Oidc {
    pub fn new(settings: OidcSettings, catalog: Catalog) -> Result<Self> {
        // The token endpoint must never redirect the code elsewhere (SSRF and code leaks).
        let http = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| PortalError::Config(format!("OIDC http client: {e}")))?;
        Ok(Self { settings, http, metadata: Mutex::new(None), pending: Reveals::new(catalog, "oidc-sign-in") })
    }

    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    async fn metadata(&self) -> Result<CoreProviderMetadata> {
        let mut cached = self.metadata.lock().await;
        if let Some((meta, at)) = cached.as_ref() {
            if at.elapsed() < METADATA_TTL {
                return Ok(meta.clone());
            }
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone()).map_err(|e| PortalError::Config(format!("OIDC issuer: {e}")))?;
        let meta = CoreProviderMetadata::discover_async(issuer, &self.http).await.map_err(|e| {
            tracing::error!(error = %e, issuer = %self.settings.issuer, "OIDC discovery failed");
            PortalError::Unavailable("the identity provider cannot be reached".into())
        })?;
        *cached = Some((meta.clone(), Instant::now()));
        Ok(meta)
    }

    /// What the sign-in page calls this provider.
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// Where to send the browser, and the value of the state cookie to set (it names the
    /// purpose and the provider, `index` among the portal's, for the callback).
    pub async fn start(&self, purpose: Purpose, next: String, index: usize) -> Result<(String, String)> {
        let meta = self.metadata().await?;
        let client = CoreClient::from_provider_metadata(
            meta,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect(&self.settings)?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random);
        for scope in self.settings.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let pending = Pending { purpose, next, nonce: nonce.secret().clone(), verifier: verifier.secret().clone() };
        let id = self.pending.put(state.secret(), &pending).await?;
        Ok((url.to_string(), format!("{}.{index}.{}.{id}", purpose.code(), state.secret())))
    }

    /// Completes a sign-in: the state must match the browser's cookie, the code is exchanged
    /// (with the PKCE verifier), and the ID token is verified, nonce included.
    pub async fn finish(&self, state: &str, code: &str, cookie: Option<&str>) -> Result<Identity> {
        let refused = |why: &str| PortalError::BadCredentials(format!("single sign-on failed: {why}"));
        let (cookie_state, id) = cookie
            .and_then(|c| c.splitn(3, '.').nth(2))
            .and_then(|rest| rest.split_once('.'))
            .ok_or_else(|| refused("this browser did not start the sign-in"))?;
        if !crate::primitives::secrets::same_hash(cookie_state, state) {
            return Err(refused("the sign-in state does not match"));
        }
        let pending = self.pending.take(id, state).await?.ok_or_else(|| refused("the sign-in took too long or was already used"))?;
        let meta = self.metadata().await?;
        let client = CoreClient::from_provider_metadata(
            meta,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect(&self.settings)?);
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| PortalError::Config(format!("OIDC provider has no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "OIDC code exchange failed");
                refused("the identity provider refused the code")
            })?;
        let id_token = response.id_token().ok_or_else(|| refused("the identity provider sent no ID token"))?;
        let verified = id_token.claims(&client.id_token_verifier(), &Nonce::new(pending.nonce)).map_err(|e| {
            tracing::warn!(error = %e, "OIDC ID token rejected");
            refused("the ID token did not verify")
        })?;
        // The token verified as a whole; its payload can now be read for any claim.
        let claims = payload(id_token)?;
        Ok(Identity {
            purpose: pending.purpose,
            next: pending.next,
            issuer: verified.issuer().as_str().trim_end_matches('/').to_string(),
            subject: verified.subject().to_string(),
            email: verified.email().map(|e| e.to_string()),
            email_verified: verified.email_verified().unwrap_or(false),
            claims,
        })
    }

    /// The team an identity administers: `Ok(None)` platform, `Ok(Some(team))` a team admin,
    /// `Err` no admin rights.
    pub fn admin_team(&self, identity: &Identity) -> Result<Option<String>> {
        let values = identity.claim_values(&self.settings.admin_claim);
        if values.contains(&self.settings.platform_admins) {
            return Ok(None);
        }
        values
            .iter()
            .find_map(|v| v.strip_prefix(&self.settings.team_prefix).filter(|t| !t.is_empty()))
            .map(|t| Some(t.to_string()))
            .ok_or_else(|| PortalError::Forbidden("your account has no admin rights in the portal".into()))
    }
}

fn redirect(settings: &OidcSettings) -> Result<RedirectUrl> {
    RedirectUrl::new(settings.redirect_url.clone()).map_err(|e| PortalError::Config(format!("PORTAL_OIDC_REDIRECT_URL: {e}")))
}

/// The JSON payload of a (verified) compact JWT.
fn payload<T: serde::Serialize>(id_token: &T) -> Result<Value> {
    let compact = serde_json::to_value(id_token).ok().and_then(|v| v.as_str().map(String::from));
    let part = compact
        .as_deref()
        .and_then(|c| c.split('.').nth(1))
        .ok_or_else(|| PortalError::Internal("ID token is not a compact JWT".into()))?;
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).map_err(|e| PortalError::fault("ID token payload", e))?;
    serde_json::from_slice(&bytes).map_err(|e| PortalError::fault("ID token payload", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(email: &str, verified: bool, claims: Value) -> Identity {
        Identity {
            purpose: Purpose::Partner,
            next: "/".into(),
            issuer: "https://id.acme.example".into(),
            subject: "s".into(),
            email: Some(email.into()),
            email_verified: verified,
            claims,
        }
    }

    #[test]
    fn partners_match_by_verified_domain_or_claim() {
        let by_domain = OidcBinding { issuer: "https://id.acme.example/".into(), email_domain: Some("acme.example".into()), claim: None };
        assert!(identity("ann@ACME.example", true, Value::Null).matches(&by_domain));
        assert!(!identity("ann@acme.example", false, Value::Null).matches(&by_domain));
        assert!(!identity("ann@evil-acme.example", true, Value::Null).matches(&by_domain));
        let other_issuer = OidcBinding { issuer: "https://id.other.example".into(), ..by_domain.clone() };
        assert!(!identity("ann@acme.example", true, Value::Null).matches(&other_issuer));
        let by_claim = OidcBinding { issuer: "https://id.acme.example".into(), email_domain: None, claim: Some("org=acme".into()) };
        assert!(identity("x@y.example", false, serde_json::json!({"org": "acme"})).matches(&by_claim));
        assert!(identity("x@y.example", false, serde_json::json!({"org": ["beta", "acme"]})).matches(&by_claim));
        assert!(!identity("x@y.example", false, serde_json::json!({"org": "acme-evil"})).matches(&by_claim));
    }

    #[tokio::test]
    async fn admin_rights_come_from_the_configured_claim() {
        let (catalog, _d) = crate::catalog::test_catalog().await;
        let settings = OidcSettings {
            name: "your company account".into(),
            issuer: "https://id.example".into(),
            client_id: "c".into(),
            client_secret: "s".into(),
            redirect_url: "http://127.0.0.1/cb".into(),
            scopes: vec!["openid".into()],
            admin_claim: "groups".into(),
            platform_admins: "portal-admins".into(),
            team_prefix: "portal-team-".into(),
        };
        let oidc = Oidc::new(settings, catalog).unwrap();
        let with = |groups: Value| identity("a@b.example", true, serde_json::json!({ "groups": groups }));
        assert_eq!(oidc.admin_team(&with(serde_json::json!(["x", "portal-admins"]))).unwrap(), None);
        assert_eq!(oidc.admin_team(&with(serde_json::json!(["portal-team-north"]))).unwrap(), Some("north".into()));
        assert_eq!(oidc.admin_team(&with(serde_json::json!("portal-team-"))).unwrap_err().status(), 403);
        assert_eq!(oidc.admin_team(&with(Value::Null)).unwrap_err().status(), 403);
    }
}
