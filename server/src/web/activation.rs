//! `POST /activate/{code}`: spends the one-time link, returns the `.share` profile, and signs the
//! browser in to the portal.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::envelope;
use super::signin::read_fields;
use crate::auth::credentials::LinkState;
use crate::auth::sessions::{cookie_value, COOKIE};
use crate::auth::{forms, network, Caller};
use crate::error::{FailedAuthentication, PortalError};
use crate::Services;

pub async fn redeem(State(s): State<Arc<Services>>, Path(code): Path<String>, req: Request) -> Response {
    let headers = req.headers().clone();
    let fields = read_fields(req).await.unwrap_or_default();
    let result = async {
        if let Err(forged) = forms::verify(&s.signer, &headers, fields.get(forms::FIELD).map(String::as_str)) {
            // A spent or unknown link says so; only a live link needs the page's own form.
            return Err(match s.credentials.link_state(&code).await? {
                LinkState::Ready { .. } => forged,
                LinkState::Used(_) | LinkState::Expired(_) => {
                    PortalError::Gone("this activation link was already used or has expired".into())
                }
                LinkState::Unknown => PortalError::NotFound("this activation link does not exist".into()),
            });
        }
        if let LinkState::Ready { recipient, .. } = s.credentials.link_state(&code).await? {
            network::admits(&recipient, network::peer(&headers))?;
        }
        let (recipient, issued) = s.credentials.redeem(&code).await?;
        // The activating browser is signed in too, on the token it just received.
        let caller = Caller { recipient: recipient.clone(), token_id: issued.record.id.clone(), via: crate::auth::Via::Token };
        let secret = s.sessions.replace(cookie_value(&headers, COOKIE), &caller).await?;
        Ok::<_, PortalError>((recipient, issued, secret))
    }
    .await;
    let (actor, status) = match &result {
        Ok((recipient, _, _)) => (envelope::partner_actor(&recipient.name), StatusCode::OK),
        Err(e) => ("anonymous".to_string(), e.status()),
    };
    s.catalog.audit(&envelope::event(&headers, actor, "activateCredential", status.as_u16())).await;
    match result {
        Ok((_, issued, secret)) => {
            let profile = s.credentials.profile(&issued);
            let body = serde_json::to_string_pretty(&profile).unwrap_or_default();
            let mut response = (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "application/json; charset=utf-8"),
                    (header::CONTENT_DISPOSITION, "attachment; filename=\"config.share\""),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                body,
            )
                .into_response();
            if let Ok(cookie) = s.sessions.cookie(&secret).parse() {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(e) => {
            // An unknown or spent code is a failed authentication, like a wrong token.
            let guessed = matches!(e.status(), StatusCode::NOT_FOUND | StatusCode::GONE);
            let mut response = failure_page(e);
            if guessed {
                FailedAuthentication::mark(&mut response);
            }
            response
        }
    }
}

/// A browser posted this form: answer with a readable page, still with the 4xx status.
fn failure_page(e: PortalError) -> Response {
    let status = e.status();
    let network = format!("This link cannot be used from your network ({e}). Ask your contact which networks your organisation may use.");
    let message = match status {
        StatusCode::FORBIDDEN if e.to_string().starts_with("requests from") => network.as_str(),
        StatusCode::GONE => "This activation link was already used or has expired. Ask your contact for a new one.",
        StatusCode::NOT_FOUND => "This activation link is not valid. Check that you copied all of it.",
        StatusCode::FORBIDDEN => {
            "This page was open too long or did not come from the portal. Go back, reload the page and press the button again."
        }
        _ => "Something went wrong while creating your credential file. Please try again in a minute.",
    };
    (status, super::refusal::page("Credential not available", message)).into_response()
}
