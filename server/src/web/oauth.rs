//! `POST /oauth/token`: the client credentials grant (RFC 6749 §4.4) for partners' pipelines.
//! The client authenticates with HTTP Basic (client_secret_basic, as the official clients send
//! it) or with `client_id` and `client_secret` in the form (client_secret_post), never both.
//! Answers are RFC 6749's: `{"access_token","token_type","expires_in"}`, or
//! `{"error","error_description"}` (401 `invalid_client`, counted by the throttle like any failed
//! sign-in). Every token issued, and every refusal, is audited.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;

use super::envelope::{event, partner_actor};
use crate::auth::network::peer;
use crate::auth::oauth_clients::GrantError;
use crate::error::FailedAuthentication;
use crate::Services;

pub async fn token(State(s): State<Arc<Services>>, headers: HeaderMap, body: Bytes) -> Response {
    let presented = presented(&headers, &body);
    let client_id = presented.as_ref().map(|p| p.client_id.clone()).ok();
    let outcome = match presented {
        Ok(p) => s.credentials.grant(&p.client_id, &p.secret, peer(&headers)).await,
        Err(e) => Err(e),
    };
    let (actor, status, mut response) = match outcome {
        Ok(granted) => {
            let mut line = event(&headers, partner_actor(&granted.recipient.name), "oauth.token", 200);
            line.object = Some(granted.client.client_id.clone());
            line.detail =
                Some(format!("access token for {} seconds to OAuth client \"{}\"", granted.token.expires_in, granted.client.name));
            s.catalog.audit(&line).await;
            return no_store((StatusCode::OK, Json(granted.token)).into_response());
        }
        Err(e) => refusal(e, headers.contains_key(header::AUTHORIZATION)),
    };
    let mut line = event(&headers, actor, "oauth.token", status.as_u16());
    line.object = client_id;
    s.catalog.audit(&line).await;
    if status == StatusCode::UNAUTHORIZED {
        FailedAuthentication::mark(&mut response);
    }
    no_store(response)
}

/// The client's credentials, from the one place it put them.
struct Presented {
    client_id: String,
    secret: String,
}

fn presented(headers: &HeaderMap, body: &[u8]) -> Result<Presented, GrantError> {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(GrantError::UnsupportedGrantType(format!("grant type `{other}` is not supported; use client_credentials")))
        }
        None => return Err(GrantError::InvalidRequest("grant_type=client_credentials is required (a form-encoded body)".into())),
    }
    let basic = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(basic_credentials);
    let posted = (form.get("client_id"), form.get("client_secret"));
    match (basic, posted) {
        // The form may repeat the client id that HTTP Basic carries (RFC 6749 §3.2.1), no more.
        (Some(Some((client_id, secret))), (Some(posted_id), None)) if *posted_id == client_id => Ok(Presented { client_id, secret }),
        (Some(_), (Some(_), _) | (_, Some(_))) => {
            Err(GrantError::InvalidRequest("send the client's credentials either with HTTP Basic or in the form, not both".into()))
        }
        (Some(Some((client_id, secret))), _) => Ok(Presented { client_id, secret }),
        (Some(None), _) => Err(GrantError::InvalidClient("the Authorization header is not HTTP Basic client credentials".into())),
        (None, (Some(id), Some(secret))) => Ok(Presented { client_id: id.clone(), secret: secret.clone() }),
        (None, _) => Err(GrantError::InvalidClient("no client credentials: use HTTP Basic or client_id and client_secret".into())),
    }
}

/// `Basic base64(id:secret)`, each half form-decoded as RFC 6749 §2.3.1 asks (the portal's own
/// ids and secrets need no encoding, so clients that skip it work too).
fn basic_credentials(header: &str) -> Option<(String, String)> {
    let encoded = header.get(..6).filter(|p| p.eq_ignore_ascii_case("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(header[encoded.len()..].trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8().ok().map(|c| c.into_owned());
    Some((decode(id)?, decode(secret)?))
}

/// An RFC 6749 §5.2 error answer: who is named in the audit line, the status, the response.
fn refusal(e: GrantError, used_basic: bool) -> (String, StatusCode, Response) {
    let (status, code) = match &e {
        GrantError::InvalidClient(_) => (StatusCode::UNAUTHORIZED, "invalid_client"),
        GrantError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
        GrantError::UnsupportedGrantType(_) => (StatusCode::BAD_REQUEST, "unsupported_grant_type"),
        GrantError::Portal(inner) => return ("anonymous".into(), inner.status(), portal(inner)),
    };
    let body = serde_json::json!({
        "error": code,
        "error_description": e.to_string(),
        // The portal's own shape too, for clients that read only that.
        "errorCode": if status == StatusCode::UNAUTHORIZED { "UNAUTHENTICATED" } else { "INVALID_PARAMETER_VALUE" },
        "message": e.to_string(),
    });
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED && used_basic {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"partner-data-portal\""));
    }
    ("anonymous".into(), status, response)
}

/// Any other refusal (a network the recipient does not allow, too many live tokens, bad text)
/// or fault, in both shapes.
fn portal(e: &crate::error::PortalError) -> Response {
    let code = match e.status() {
        StatusCode::FORBIDDEN => "unauthorized_client",
        StatusCode::TOO_MANY_REQUESTS => "slow_down",
        status if status.is_client_error() => "invalid_request",
        _ => "server_error",
    };
    if e.status().is_server_error() {
        tracing::error!(error = %e, "token endpoint failed");
    }
    let body = serde_json::json!({"error": code, "error_description": e.public_message(), "errorCode": e.error_code(), "message": e.public_message()});
    let mut response = (e.status(), Json(body)).into_response();
    if let crate::error::PortalError::Throttled { retry_after_secs } = e {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
    }
    response
}

/// Token answers are never cached (RFC 6749 §5.1).
fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(text: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(text));
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn credentials_come_from_basic_or_the_form_never_both() {
        let grant = b"grant_type=client_credentials";
        let p = presented(&basic("dsc_1:dcs_2"), grant).ok().unwrap();
        assert_eq!((p.client_id.as_str(), p.secret.as_str()), ("dsc_1", "dcs_2"));
        let p = presented(&HeaderMap::new(), b"grant_type=client_credentials&client_id=a&client_secret=b%2Bc").ok().unwrap();
        assert_eq!((p.client_id.as_str(), p.secret.as_str()), ("a", "b+c"));
        assert!(matches!(presented(&basic("a:b"), b"grant_type=client_credentials&client_id=b"), Err(GrantError::InvalidRequest(_))));
        assert!(presented(&basic("a:b"), b"grant_type=client_credentials&client_id=a").is_ok(), "the same id may be repeated");
        assert!(matches!(presented(&HeaderMap::new(), grant), Err(GrantError::InvalidClient(_))));
        assert!(matches!(presented(&basic("a:b"), b"grant_type=password"), Err(GrantError::UnsupportedGrantType(_))));
        assert!(matches!(presented(&basic("a:b"), b""), Err(GrantError::InvalidRequest(_))));
        assert!(matches!(presented(&basic("no colon"), grant), Err(GrantError::InvalidClient(_))));
    }
}
