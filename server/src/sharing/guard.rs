//! In front of every protocol route: authenticate the bearer token, then write one audit line
//! per call (who, what, status, files, bytes, user agent), success or not.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::respond::AuditNote;
use crate::auth::network;
use crate::catalog::{now_ms, AuditEvent};
use crate::error::RefusedRecipient;
use crate::Services;

pub async fn authenticate_and_audit(State(services): State<Arc<Services>>, mut req: Request, next: Next) -> Response {
    let user_agent = header_text(&req, header::USER_AGENT);
    let authorization = header_text(&req, header::AUTHORIZATION);
    let client_ip = network::peer(req.headers()).map(|ip| ip.to_string());
    let fallback_action = format!("{} {}", req.method(), req.uri().path());

    let authenticated = services.credentials.authenticate(authorization.as_deref()).await;
    let (actor, via, response) = match authenticated {
        Err(e) => ("anonymous".to_string(), crate::auth::Via::Token, e.into_response()),
        Ok(caller) => {
            let (actor, via) = (format!("recipient:{}", caller.recipient.name), caller.via.clone());
            match network::admits(&caller.recipient, network::peer(req.headers())) {
                Err(refused) => (actor, via, refused.into_response()),
                Ok(()) => {
                    req.extensions_mut().insert(caller);
                    (actor, via, next.run(req).await)
                }
            }
        }
    };
    let note = response.extensions().get::<AuditNote>().cloned().unwrap_or_default();
    let event = AuditEvent {
        at: now_ms(),
        actor,
        action: if note.action.is_empty() { fallback_action } else { note.action.to_string() },
        object: note.object,
        status: i64::from(response.status().as_u16()),
        files: note.files,
        bytes: note.bytes,
        rows: note.rows,
        detail: via.added_to(note.detail),
        recipient: RefusedRecipient::of(&response),
        user_agent,
        client_ip,
        ..Default::default()
    };
    services.metrics.protocol_call(note.action, note.files, note.bytes);
    services.catalog.audit(&event).await;
    response
}

fn header_text(req: &Request, name: header::HeaderName) -> Option<String> {
    req.headers().get(name).and_then(|v| v.to_str().ok()).map(String::from)
}
