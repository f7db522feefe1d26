//! Audit lines for browser and JSON-API requests: who, what, and from where.

use axum::http::{header, Extensions, HeaderMap};

use crate::auth::network::peer;

use crate::catalog::{now_ms, AuditEvent};
use crate::Services;

/// An event with the request's user agent and client address filled in.
pub fn event(headers: &HeaderMap, _extensions: &Extensions, actor: String, action: &str, status: u16) -> AuditEvent {
    AuditEvent {
        at: now_ms(),
        actor,
        action: action.into(),
        status: i64::from(status),
        user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(String::from),
        client_ip: peer(headers).map(|ip| ip.to_string()),
        ..Default::default()
    }
}

/// Writes the event; a lost audit line is logged loudly but does not undo what happened.
pub async fn record(s: &Services, event: AuditEvent) {
    if let Err(e) = s.catalog.record(&event).await {
        tracing::error!(error = %e, action = %event.action, "could not write audit event");
    }
}

pub fn actor(recipient: &str) -> String {
    format!("recipient:{recipient}")
}
