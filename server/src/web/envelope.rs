//! The envelope of the portal's own routes (`/api/v1`, the forms): a route declared with
//! [`audited`] gets one audit line per request, whatever happens inside. The caller extractors
//! (`callers`) name who called, the handler names what it touched through [`Audit`], and the
//! line carries the status the client got. Handlers return `Result<_, PortalError>`; the error
//! becomes `{"errorCode","message"}` in one place (`error.rs`).
//!
//! The protocol's guard (`sharing::guard`) and the UI's page reads (`backend`) write their lines
//! with the same [`event`] builder and `Catalog::audit`.

use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::Response;
use axum::routing::MethodRouter;

use crate::auth::network::peer;
use crate::auth::Via;
use crate::catalog::{now_ms, AuditEvent, AuditNote};
use crate::error::{PortalError, RefusedRecipient};
use crate::Services;

/// What the request did, filled in while it runs and written once it has been answered. Outside
/// an audited route it is detached: what is noted goes nowhere.
#[derive(Clone, Default)]
pub struct Audit(Arc<Mutex<Slot>>);

#[derive(Default)]
struct Slot {
    actor: Option<String>,
    /// How the actor authenticated.
    via: Option<Via>,
    note: AuditNote,
    /// The refusal a form answered with a redirect: the line records the refusal's status.
    refused: Option<u16>,
}

impl Audit {
    fn with<R>(&self, f: impl FnOnce(&mut Slot) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn actor(&self, actor: String) {
        self.with(|s| s.actor = Some(actor));
    }

    /// A partner: the recipient, and how it authenticated.
    pub fn partner(&self, caller: &crate::auth::Caller) {
        self.with(|s| {
            s.actor = Some(partner_actor(&caller.recipient.name));
            s.via = Some(caller.via.clone());
        });
    }

    pub fn object(&self, object: impl Into<String>) {
        let object = object.into();
        self.with(|s| s.note.object = Some(object));
    }

    pub fn object_if_unset(&self, object: impl Into<String>) {
        let object = object.into();
        self.with(|s| {
            s.note.object.get_or_insert(object);
        });
    }

    pub fn rows(&self, rows: Option<u64>) {
        self.with(|s| s.note.rows = rows.and_then(|n| i64::try_from(n).ok()));
    }

    pub fn detail(&self, detail: impl Into<String>) {
        let detail = detail.into();
        self.with(|s| s.note.detail = Some(detail));
    }

    /// A form that answers a refusal with a redirect: the line says what was refused.
    pub fn refused(&self, e: &PortalError) {
        let status = e.status().as_u16();
        self.with(|s| s.refused = Some(status));
    }

    /// The request's slot (the caller extractors name the actor in it).
    pub fn of(parts: &Parts) -> Self {
        parts.extensions.get::<Audit>().cloned().unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Audit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts))
    }
}

/// A route whose every request is audited as `action`:
/// `.route(path, audited(&services, "export.jobCreate", post(handler)))`.
pub fn audited(services: &Arc<Services>, action: &'static str, route: MethodRouter<Arc<Services>>) -> MethodRouter<Arc<Services>> {
    route.layer(from_fn_with_state((services.clone(), action), write_line))
}

async fn write_line(State((s, action)): State<(Arc<Services>, &'static str)>, mut req: Request, next: Next) -> Response {
    let audit = Audit::default();
    req.extensions_mut().insert(audit.clone());
    let headers = req.headers().clone();
    let response = next.run(req).await;
    let slot = std::mem::take(&mut *audit.0.lock().unwrap_or_else(PoisonError::into_inner));
    let status = slot.refused.unwrap_or_else(|| response.status().as_u16());
    let mut event = event(&headers, slot.actor.unwrap_or_else(|| "anonymous".into()), action, status);
    event.object = slot.note.object;
    event.recipient = RefusedRecipient::of(&response);
    // Rows count only for what was actually delivered.
    event.rows = slot.note.rows.filter(|_| status < 400);
    event.detail = match slot.via {
        Some(via) => via.added_to(slot.note.detail),
        None => slot.note.detail,
    };
    s.catalog.audit(&event).await;
    response
}

/// An audit line with the request's user agent and client address filled in.
pub fn event(headers: &HeaderMap, actor: String, action: &str, status: u16) -> AuditEvent {
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

/// How a partner appears in the log.
pub fn partner_actor(recipient: &str) -> String {
    format!("recipient:{recipient}")
}
