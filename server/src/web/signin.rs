//! `POST /login` (access token or credential file) and `POST /logout`. Both are plain forms
//! with a form token, so they work without JavaScript; tokens travel only in request bodies.

use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use std::collections::HashMap;

use super::envelope;
use crate::auth::forms;
use crate::auth::sessions::{cookie_value, COOKIE};
use crate::error::{FailedAuthentication, PortalError};
use crate::Services;

/// Why a sign-in failed, as the login page's `?error=` code (never the token itself).
fn failure_code(e: &PortalError) -> &'static str {
    match e {
        PortalError::StaleToken { message, .. } if message.contains("revoked") => "revoked",
        PortalError::StaleToken { message, .. } if message.contains("expired") => "expired",
        PortalError::Unauthenticated(_) => "invalid",
        e if e.is_bad_credentials() => "invalid",
        PortalError::Forbidden(_) => "form",
        PortalError::Malformed(_) => "file",
        PortalError::InvalidParameter(_) => "missing",
        _ => "unavailable",
    }
}

pub async fn sign_in(State(s): State<Arc<Services>>, req: Request) -> Response {
    let headers = req.headers().clone();
    let fields = match read_fields(req).await {
        Ok(f) => f,
        Err(e) => return back_to_login(failure_code(&e), None),
    };
    let next = local_path(fields.get("next").map(String::as_str));
    let result = async {
        forms::verify(&s.signer, &headers, fields.get(forms::FIELD).map(String::as_str))?;
        let token = presented_token(&fields)?;
        let caller = s.credentials.authenticate_token(token.trim()).await?;
        let secret = s.sessions.replace(cookie_value(&headers, COOKIE), &caller).await?;
        Ok::<_, PortalError>((caller, secret))
    }
    .await;
    match result {
        Ok((caller, secret)) => {
            s.catalog.audit(&envelope::event(&headers, envelope::partner_actor(&caller.recipient.name), "portal.signIn", 303)).await;
            let mut response = see_other(&next);
            if let Ok(cookie) = s.sessions.cookie(&secret).parse() {
                response.headers_mut().append(SET_COOKIE, cookie);
            }
            response
        }
        Err(e) => {
            if e.status().is_server_error() {
                tracing::error!(error = %e, "sign-in failed");
            }
            let mut event = envelope::event(&headers, "anonymous".into(), "portal.signIn", e.status().as_u16());
            event.recipient = e.refused_recipient().map(String::from);
            s.catalog.audit(&event).await;
            let mut response = back_to_login(failure_code(&e), Some(&next));
            if e.is_bad_credentials() {
                FailedAuthentication::mark(&mut response);
            }
            response
        }
    }
}

pub async fn sign_out(State(s): State<Arc<Services>>, headers: HeaderMap, req: Request) -> Response {
    let fields = read_fields(req).await.unwrap_or_default();
    if forms::verify(&s.signer, &headers, fields.get(forms::FIELD).map(String::as_str)).is_err() {
        return back_to_login("form", None);
    }
    if let Some(secret) = cookie_value(&headers, COOKIE) {
        let who =
            s.sessions.resume(secret).await.map(|c| envelope::partner_actor(&c.recipient.name)).unwrap_or_else(|_| "anonymous".into());
        if let Err(e) = s.sessions.close(secret).await {
            tracing::error!(error = %e, "could not end session");
        }
        s.catalog.audit(&envelope::event(&headers, who, "portal.signOut", 303)).await;
    }
    let mut response = see_other("/login?signed_out=1");
    if let Ok(cookie) = s.sessions.cleared_cookie().parse() {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

/// The token typed in, or the `bearerToken` of an uploaded `.share` file (the file wins).
pub(super) fn presented_token(fields: &HashMap<String, String>) -> Result<String, PortalError> {
    if let Some(file) = fields.get("credential_file").filter(|f| !f.trim().is_empty()) {
        let profile: serde_json::Value =
            serde_json::from_str(file).map_err(|_| PortalError::Malformed("the credential file is not a .share profile".into()))?;
        return profile["bearerToken"]
            .as_str()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| PortalError::Malformed("the credential file has no bearerToken".into()));
    }
    fields
        .get("token")
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| PortalError::InvalidParameter("enter an access token or choose a credential file".into()))
}

/// Text fields of a urlencoded or multipart form (files read as UTF-8, at most 64 KiB each).
pub async fn read_fields(req: Request) -> Result<HashMap<String, String>, PortalError> {
    let multipart = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let Form(fields) =
            Form::<HashMap<String, String>>::from_request(req, &()).await.map_err(|e| PortalError::Malformed(e.body_text()))?;
        return Ok(fields);
    }
    let mut form = Multipart::from_request(req, &()).await.map_err(|e| PortalError::Malformed(e.body_text()))?;
    let mut fields = HashMap::new();
    while let Some(field) = form.next_field().await.map_err(|e| PortalError::Malformed(e.body_text()))? {
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field.bytes().await.map_err(|e| PortalError::Malformed(e.body_text()))?;
        if bytes.len() > 64 * 1024 {
            return Err(PortalError::Malformed(format!("form field `{name}` is too large")));
        }
        fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
    }
    Ok(fields)
}

/// Only paths of this site: `next=https://evil.example`, `//evil.example`, `/\evil.example` or
/// `/<tab>/evil.example` (browsers drop tabs and newlines from URLs) become `/`.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.chars().any(|c| c == '\\' || c.is_whitespace() || c.is_control()) => {
            p.to_string()
        }
        _ => "/".to_string(),
    }
}

pub fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location.to_string())]).into_response()
}

fn back_to_login(code: &str, next: Option<&str>) -> Response {
    let next = next.filter(|n| *n != "/").map(|n| format!("&next={}", app::contract::grammar::encode(n))).unwrap_or_default();
    see_other(&format!("/login?error={code}{next}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/shares/a/b/c?x=1")), "/shares/a/b/c?x=1");
        for bad in [
            None,
            Some(""),
            Some("https://evil.example"),
            Some("//evil.example"),
            Some("/\\evil.example"),
            Some("/\t/evil.example"),
            Some("/\r\nX: y"),
        ] {
            assert_eq!(local_path(bad), "/");
        }
    }

    #[test]
    fn a_credential_file_or_a_typed_token() {
        let fields = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<HashMap<_, _>>();
        assert_eq!(presented_token(&fields(&[("token", " dss_a ")])).unwrap(), "dss_a");
        let file = r#"{"shareCredentialsVersion":1,"endpoint":"http://h","bearerToken":"dss_f"}"#;
        assert_eq!(presented_token(&fields(&[("token", "dss_a"), ("credential_file", file)])).unwrap(), "dss_f");
        assert_eq!(failure_code(&presented_token(&fields(&[("credential_file", "not json")])).unwrap_err()), "file");
        assert_eq!(failure_code(&presented_token(&fields(&[("token", "  ")])).unwrap_err()), "missing");
    }
}
