//! The forms of `/connect`: a partner creates, rotates and revokes their own tokens and their
//! pipelines' OAuth clients. Each is a plain form with a form token, answering with a redirect
//! back to `/connect`; a new token or client secret is shown there once (`?issued=`, `?client=`),
//! never put in a URL.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};

use super::callers::PartnerForm;
use super::envelope::Audit;
use super::signin::see_other;
use app::contract::FederationProfile;

use crate::auth::credentials::IssuedToken;
use crate::auth::oauth_clients::IssuedClient;
use crate::catalog::Recipient;
use crate::error::{PortalError, Result};
use crate::Services;

pub async fn create(State(s): State<Arc<Services>>, audit: Audit, form: Result<PartnerForm>) -> Response {
    let issued = async {
        let form = form?;
        let days = match form.field("days") {
            "" => None,
            text => Some(text.parse().map_err(|_| PortalError::field("days", "the number of days must be a whole number"))?),
        };
        s.credentials.create_named(&form.caller.recipient, form.field("name"), days).await
    }
    .await;
    shown_once(&s, &audit, issued).await
}

pub async fn rotate(State(s): State<Arc<Services>>, Path(id): Path<String>, audit: Audit, form: Result<PartnerForm>) -> Response {
    audit.object(id.clone());
    let issued = async {
        let form = form?;
        s.credentials.rotate(&form.caller.recipient, &id, overlap_hours(&form, "token")?).await
    }
    .await;
    shown_once(&s, &audit, issued).await
}

pub async fn revoke(State(s): State<Arc<Services>>, Path(id): Path<String>, audit: Audit, form: Result<PartnerForm>) -> Response {
    audit.object(id.clone());
    let form = match form {
        Ok(f) => f,
        Err(e) => return refused(&audit, e),
    };
    match s.credentials.revoke_own(&form.caller.recipient, &id).await {
        // The session stood on that token: it has ended, so the browser signs in again.
        Ok(()) if id == form.caller.token_id => {
            let mut response = see_other("/login?error=revoked");
            if let Ok(cookie) = s.sessions.cleared_cookie().parse() {
                response.headers_mut().append(SET_COOKIE, cookie);
            }
            response
        }
        Ok(()) => see_other("/connect?revoked=1"),
        Err(e) => refused(&audit, e),
    }
}

pub async fn create_client(State(s): State<Arc<Services>>, audit: Audit, form: Result<PartnerForm>) -> Response {
    let issued = async {
        let form = form?;
        s.credentials.create_client(&form.caller.recipient, form.field("name"), true).await
    }
    .await;
    client_shown_once(&s, &audit, issued).await
}

pub async fn rotate_client(State(s): State<Arc<Services>>, Path(id): Path<String>, audit: Audit, form: Result<PartnerForm>) -> Response {
    audit.object(id.clone());
    let issued = async {
        let form = form?;
        s.credentials.rotate_client(&form.caller.recipient, &id, overlap_hours(&form, "secret")?, true).await
    }
    .await;
    client_shown_once(&s, &audit, issued).await
}

pub async fn revoke_client(State(s): State<Arc<Services>>, Path(id): Path<String>, audit: Audit, form: Result<PartnerForm>) -> Response {
    audit.object(id.clone());
    let revoked = async { s.credentials.revoke_client(&form?.caller.recipient, &id).await }.await;
    match revoked {
        Ok(_) => see_other("/connect?revoked=client#pipelines"),
        Err(e) => refused(&audit, e),
    }
}

/// Shows a new client secret once, on `/connect`.
async fn client_shown_once(s: &Services, audit: &Audit, issued: Result<IssuedClient>) -> Response {
    let issued = match issued {
        Ok(issued) => issued,
        Err(e) => return refused(audit, e),
    };
    audit.object_if_unset(issued.client.client_id.clone());
    match s.issued_clients.put(&issued.client.recipient_id, &issued).await {
        Ok(id) => see_other(&format!("/connect?client={id}#new-client")),
        Err(e) => refused(audit, e),
    }
}

/// One profile per federation policy of the recipient, pointing at the partner's own provider.
pub async fn federation_profiles(s: &Services, recipient: &Recipient) -> Result<Vec<FederationProfile>> {
    let mut profiles = Vec::new();
    for policy in s.catalog.federation_policies_of(&recipient.id).await? {
        let token_endpoint = s.credentials.federation_token_endpoint(&policy.issuer).await;
        let mut profile = serde_json::json!({
            "shareCredentialsVersion": 2,
            "type": "oauth_client_credentials",
            "endpoint": s.credentials.endpoint(),
            "tokenEndpoint": token_endpoint.unwrap_or_else(|| "<your identity provider's token endpoint>".into()),
            "clientId": "<your pipeline's client id at your identity provider>",
            "clientSecret": "<its client secret>",
        });
        if let Some(scope) = &policy.scope {
            profile["scope"] = serde_json::Value::from(scope.as_str());
        }
        profiles.push(FederationProfile {
            name: policy.name,
            issuer: policy.issuer,
            audiences: policy.audiences,
            subject_claim: policy.subject_claim,
            subject_values: policy.subject_values,
            profile: serde_json::to_string_pretty(&profile).unwrap_or_default(),
        });
    }
    Ok(profiles)
}

/// The rotation form's choice of how long the old `what` keeps working.
fn overlap_hours(form: &PartnerForm, what: &str) -> Result<u32> {
    form.field("overlap_hours")
        .parse()
        .map_err(|_| PortalError::field("overlap_hours", format!("choose how long the old {what} keeps working")))
}

/// Shows a newly issued token once, on `/connect`.
async fn shown_once(s: &Services, audit: &Audit, issued: Result<IssuedToken>) -> Response {
    let issued = match issued {
        Ok(issued) => issued,
        Err(e) => return refused(audit, e),
    };
    // A rotation names the old token; a new token is its own object.
    audit.object_if_unset(issued.record.id.clone());
    match s.reveals.put(&issued.record.recipient_id, &issued).await {
        Ok(id) => see_other(&format!("/connect?issued={id}#new-token")),
        Err(e) => refused(audit, e),
    }
}

/// Where a refused form sends the browser: back to `/connect` with the reason's code, to sign
/// in, or (for a token that is not theirs) a plain 404.
fn refused(audit: &Audit, e: PortalError) -> Response {
    audit.refused(&e);
    match e {
        PortalError::Field { field, .. } => see_other(&format!("/connect?error={field}")),
        PortalError::Forbidden(_) | PortalError::Malformed(_) => see_other("/connect?error=form"),
        PortalError::Conflict(_) => see_other("/connect?error=revoked"),
        PortalError::Unauthenticated(_) => see_other("/login?next=/connect"),
        e if e.status().is_client_error() => (e.status(), super::refusal::page("Token not found", &e.public_message())).into_response(),
        e => {
            tracing::error!(error = %e, "token form failed");
            see_other("/connect?error=unavailable")
        }
    }
}
