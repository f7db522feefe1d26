//! Federation: a JWT from a partner's own identity provider, presented as a bearer token, acts
//! as the recipient one of whose policies admits it. Nothing is stored; the audit line names the
//! issuer and the subject.
//!
//! Only issuers named in some policy are ever contacted (a token cannot make the portal fetch
//! from an address of its choosing). The issuer's discovery document and keys are fetched with
//! `openidconnect` (which checks that the document names the same issuer) and kept for a few
//! minutes; a key id the cached set does not know fetches them again, at most once a minute,
//! and a provider that could not be read is not asked again for a minute.
//! Signatures are checked with an allow-listed asymmetric algorithm (never `none`, never HMAC,
//! where the key would be public), `exp` is required and `nbf`/`iat` checked with a small leeway,
//! and `aud` must name one of the policy's audiences.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm, CoreProviderMetadata};
use openidconnect::{IssuerUrl, JsonWebKey};
use serde_json::Value;
use tokio::sync::Mutex;

use super::claims::claim_values;
use crate::catalog::{now_ms, Catalog, FederationPolicy, Recipient};
use crate::error::{PortalError, Result};

/// The algorithms a partner's provider may sign with.
const ALGORITHMS: [&str; 9] = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];
/// Clock difference tolerated between the partner's provider and the portal.
pub const LEEWAY_SECS: i64 = 60;
/// How long an issuer's keys are trusted before being fetched again.
const KEYS_TTL: Duration = Duration::from_secs(300);
/// An unknown key id fetches the keys again, but not more often than this.
const REFETCH_AFTER: Duration = Duration::from_secs(60);

/// A federated caller: the recipient, the policy that admitted the token, and who it was.
#[derive(Clone, Debug)]
pub struct Federated {
    pub recipient: Recipient,
    pub policy_id: String,
    pub issuer: String,
    pub subject: String,
}

pub struct Federation {
    http: openidconnect::reqwest::Client,
    /// Per issuer, what its discovery said; each behind a lock of its own, so a slow provider
    /// holds up only its own tokens.
    issuers: std::sync::Mutex<HashMap<String, Arc<Mutex<Issuer>>>>,
}

/// An issuer's last reading: what it said, or when it could not be read.
#[derive(Default)]
struct Issuer {
    found: Option<Discovered>,
    failed_at: Option<Instant>,
}

/// What an issuer's discovery document said, and when it was read.
#[derive(Clone)]
struct Discovered {
    keys: Vec<CoreJsonWebKey>,
    token_endpoint: Option<String>,
    at: Instant,
}

impl Federation {
    pub fn new() -> Result<Self> {
        // Discovery must never be redirected elsewhere.
        let http = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| PortalError::Config(format!("federation http client: {e}")))?;
        Ok(Self { http, issuers: std::sync::Mutex::new(HashMap::new()) })
    }

    /// Whether a presented bearer token is a compact JWS (a federated token) rather than one of
    /// the portal's own opaque tokens.
    pub fn looks_like_jwt(token: &str) -> bool {
        token.starts_with("eyJ") && token.matches('.').count() == 2
    }

    /// The recipient a partner's JWT acts as, or 401 with the reason.
    pub async fn verify(&self, catalog: &Catalog, token: &str) -> Result<Federated> {
        let jwt = Jwt::parse(token)?;
        let issuer = jwt.claims.get("iss").and_then(Value::as_str).ok_or_else(|| refused("the token names no issuer"))?.to_string();
        let policies = catalog.federation_policies_of_issuer(&issuer).await?;
        if policies.is_empty() {
            return Err(refused("the token's issuer is not trusted by any recipient"));
        }
        self.check_signature(&issuer, &jwt).await?;
        check_times(&jwt.claims, now_ms() / 1000)?;
        let audiences = claim_values(&jwt.claims, "aud");
        if audiences.is_empty() {
            return Err(refused("the token names no audience"));
        }
        let admitted: Vec<&(FederationPolicy, Recipient)> = policies.iter().filter(|(p, _)| admits(p, &jwt.claims)).collect();
        let Some((policy, recipient)) = admitted.first() else {
            let audience_known = policies.iter().any(|(p, _)| p.audiences.iter().any(|a| audiences.contains(a)));
            return Err(refused(if audience_known {
                "the token's subject is not admitted by any federation policy of its issuer"
            } else {
                "the token's audience is not admitted by any federation policy of its issuer"
            }));
        };
        if admitted.iter().any(|(_, r)| r.id != recipient.id) {
            return Err(refused("the token matches the federation policies of more than one recipient; ask your data provider"));
        }
        let subject = jwt.claims.get("sub").and_then(Value::as_str).map(String::from);
        let subject = subject.unwrap_or_else(|| claim_values(&jwt.claims, &policy.subject_claim).join(","));
        Ok(Federated { recipient: recipient.clone(), policy_id: policy.id.clone(), issuer, subject })
    }

    async fn check_signature(&self, issuer: &str, jwt: &Jwt<'_>) -> Result<()> {
        let (keys, fresh) = self.keys_of(issuer, false).await?;
        match verify_with(&keys, jwt) {
            Err(Unverified::NoKey) if !fresh => {
                let (keys, _) = self.keys_of(issuer, true).await?;
                verify_with(&keys, jwt).map_err(|_| refused("the token's signature does not verify with its issuer's keys"))
            }
            outcome => outcome.map_err(|_| refused("the token's signature does not verify with its issuer's keys")),
        }
    }

    /// The issuer's keys, and whether they were fetched just now. `again`: fetch them anew
    /// unless that was done less than a minute ago.
    async fn keys_of(&self, issuer: &str, again: bool) -> Result<(Vec<CoreJsonWebKey>, bool)> {
        let found = self.discovered(issuer, if again { REFETCH_AFTER } else { KEYS_TTL }).await?;
        Ok((found.keys, found.at.elapsed() < REFETCH_AFTER))
    }

    /// The token endpoint of a partner's provider (for the profile `/connect` offers), if its
    /// discovery document can be read.
    pub async fn token_endpoint(&self, issuer: &str) -> Option<String> {
        self.discovered(issuer, KEYS_TTL).await.ok().and_then(|d| d.token_endpoint)
    }

    /// The issuer's discovery document and keys, read again when older than `max_age`. A
    /// provider that could not be read is not asked again for a while: its tokens get 503 at once.
    async fn discovered(&self, issuer: &str, max_age: Duration) -> Result<Discovered> {
        let slot = {
            let mut issuers = self.issuers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            issuers.entry(issuer.to_string()).or_default().clone()
        };
        let mut slot = slot.lock().await;
        if let Some(found) = slot.found.as_ref().filter(|d| d.at.elapsed() < max_age) {
            return Ok(found.clone());
        }
        let unreachable = || PortalError::Unavailable("the identity provider that issued this token cannot be reached".into());
        if slot.failed_at.is_some_and(|at| at.elapsed() < REFETCH_AFTER) {
            return Err(unreachable());
        }
        match self.discover(issuer).await {
            Ok(found) => {
                *slot = Issuer { found: Some(found.clone()), failed_at: None };
                Ok(found)
            }
            Err(why) => {
                tracing::warn!(error = %why, %issuer, "federation: the issuer's discovery document or keys could not be read");
                slot.failed_at = Some(Instant::now());
                Err(unreachable())
            }
        }
    }

    async fn discover(&self, issuer: &str) -> std::result::Result<Discovered, String> {
        let url = IssuerUrl::new(issuer.to_string()).map_err(|e| e.to_string())?;
        let meta = CoreProviderMetadata::discover_async(url, &self.http).await.map_err(|e| e.to_string())?;
        // Keys of an https issuer come over https too, or anyone on the way could swap them.
        if issuer.starts_with("https://") && meta.jwks_uri().url().scheme() != "https" {
            return Err(format!("its jwks_uri {} is not https", meta.jwks_uri().url()));
        }
        Ok(Discovered {
            keys: meta.jwks().keys().clone(),
            token_endpoint: meta.token_endpoint().map(|u| u.url().to_string()),
            at: Instant::now(),
        })
    }
}

/// A compact JWS, split and decoded (not yet verified).
struct Jwt<'a> {
    alg: CoreJwsSigningAlgorithm,
    kid: Option<String>,
    claims: Value,
    signed: &'a str,
    signature: Vec<u8>,
}

impl<'a> Jwt<'a> {
    fn parse(token: &'a str) -> Result<Self> {
        let malformed = || refused("the bearer token is not a well-formed JWT");
        let (signed, signature) = token.rsplit_once('.').ok_or_else(malformed)?;
        let (header, claims) = signed.split_once('.').ok_or_else(malformed)?;
        let json = |part: &str| -> Result<Value> {
            let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| malformed())?;
            serde_json::from_slice(&bytes).map_err(|_| malformed())
        };
        let header = json(header)?;
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or_default();
        if !ALGORITHMS.contains(&alg) {
            return Err(refused(&format!("the token's signing algorithm `{alg}` is not allowed")));
        }
        Ok(Self {
            alg: serde_json::from_value(Value::from(alg)).map_err(|_| malformed())?,
            kid: header.get("kid").and_then(Value::as_str).map(String::from),
            claims: Some(json(claims)?).filter(Value::is_object).ok_or_else(malformed)?,
            signed,
            signature: URL_SAFE_NO_PAD.decode(signature).map_err(|_| malformed())?,
        })
    }
}

/// Why a key set did not verify a token.
enum Unverified {
    /// No key has the token's key id: the issuer may have rotated its keys.
    NoKey,
    /// A key with its id was found and the signature is wrong: fetching again would not help.
    BadSignature,
}

fn verify_with(keys: &[CoreJsonWebKey], jwt: &Jwt<'_>) -> std::result::Result<(), Unverified> {
    let mut candidates =
        keys.iter().filter(|k| jwt.kid.as_deref().is_none_or(|kid| k.key_id().is_some_and(|id| id.as_str() == kid))).peekable();
    if candidates.peek().is_none() {
        return Err(Unverified::NoKey);
    }
    if candidates.any(|k| k.verify_signature(&jwt.alg, jwt.signed.as_bytes(), &jwt.signature).is_ok()) {
        Ok(())
    } else {
        Err(Unverified::BadSignature)
    }
}

/// `exp` required and not past, `nbf` and `iat` not in the future, each with the leeway.
fn check_times(claims: &Value, now_secs: i64) -> Result<()> {
    let time = |name: &str| claims.get(name).and_then(Value::as_f64).map(|t| t as i64);
    let exp = time("exp").ok_or_else(|| refused("the token has no expiry (`exp`)"))?;
    if exp.saturating_add(LEEWAY_SECS) <= now_secs {
        return Err(refused("the token has expired"));
    }
    if time("nbf").is_some_and(|nbf| nbf.saturating_sub(LEEWAY_SECS) > now_secs) {
        return Err(refused("the token is not valid yet (`nbf`)"));
    }
    if time("iat").is_some_and(|iat| iat.saturating_sub(LEEWAY_SECS) > now_secs) {
        return Err(refused("the token was issued in the future (`iat`)"));
    }
    Ok(())
}

/// Whether the policy admits a token with these (verified) claims: one of its audiences, and
/// one of its subject values in its subject claim.
fn admits(policy: &FederationPolicy, claims: &Value) -> bool {
    let audiences = claim_values(claims, "aud");
    let subjects = claim_values(claims, &policy.subject_claim);
    policy.audiences.iter().any(|a| audiences.contains(a)) && policy.subject_values.iter().any(|v| subjects.contains(v))
}

fn refused(why: &str) -> PortalError {
    PortalError::BadCredentials(format!("federated token refused: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(audiences: &[&str], claim: &str, values: &[&str]) -> FederationPolicy {
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        FederationPolicy::new("r", "p".into(), "https://id.example".into(), list(audiences), claim.into(), list(values), None)
    }

    #[test]
    fn a_policy_needs_its_audience_and_its_subject() {
        let p = policy(&["api://portal"], "azp", &["pipeline-1"]);
        assert!(admits(&p, &json!({"aud": "api://portal", "azp": "pipeline-1"})));
        assert!(admits(&p, &json!({"aud": ["other", "api://portal"], "azp": "pipeline-1"})));
        assert!(!admits(&p, &json!({"aud": "api://other", "azp": "pipeline-1"})));
        assert!(!admits(&p, &json!({"aud": "api://portal", "azp": "pipeline-2"})));
        assert!(!admits(&p, &json!({"aud": "api://portal", "sub": "pipeline-1"})));
        let groups = policy(&["api://portal"], "groups", &["acme-pipelines"]);
        assert!(admits(&groups, &json!({"aud": "api://portal", "groups": ["x", "acme-pipelines"]})));
    }

    #[test]
    fn times_are_checked_with_a_small_leeway() {
        let now = 1_800_000_000;
        assert!(check_times(&json!({"exp": now + 10}), now).is_ok());
        assert!(check_times(&json!({"exp": now - 30}), now).is_ok(), "within the leeway");
        assert!(check_times(&json!({"exp": now - LEEWAY_SECS - 1}), now).unwrap_err().to_string().contains("expired"));
        assert!(check_times(&json!({}), now).unwrap_err().to_string().contains("no expiry"));
        assert!(check_times(&json!({"exp": now + 100, "nbf": now + 300}), now).is_err());
        assert!(check_times(&json!({"exp": now + 100, "iat": now + 300}), now).is_err());
        assert!(check_times(&json!({"exp": now + 100, "nbf": now + 30, "iat": now + 30}), now).is_ok());
        // Absurd values are refused or accepted, never overflow.
        assert!(check_times(&json!({"exp": 1e300, "nbf": -1e300, "iat": -1e300}), now).is_ok());
        assert!(check_times(&json!({"exp": -1e300}), now).is_err());
        assert!(check_times(&json!({"exp": now + 100, "nbf": 1e300}), now).is_err());
    }

    #[test]
    fn unsigned_and_symmetric_tokens_are_refused_before_anything_is_fetched() {
        let part = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let claims = part(json!({"iss": "https://id.example", "aud": "a", "exp": 9_999_999_999i64}));
        for alg in ["none", "HS256", ""] {
            let token = format!("{}.{claims}.", part(json!({"alg": alg})));
            let err = Jwt::parse(&token).err().expect("refused");
            assert_eq!(err.status(), 401);
            assert!(err.to_string().contains("not allowed"), "{err}");
        }
        assert!(Jwt::parse("eyJ.nope.x").is_err());
        let token = format!("{}.{claims}.c2ln", part(json!({"alg": "RS256", "kid": "k"})));
        let jwt = Jwt::parse(&token).unwrap();
        assert_eq!(jwt.kid.as_deref(), Some("k"));
        assert!(Federation::looks_like_jwt(&token));
        assert!(!Federation::looks_like_jwt("dss_abc"));
    }
}
