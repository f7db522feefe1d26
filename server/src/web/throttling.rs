//! The throttle's place in the envelope: a throttled address is refused before any handler runs,
//! and an answer marked as a failed authentication is counted against the address it came from.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::Response;

use super::refusal::refuse;
use crate::auth::network::peer;
use crate::error::FailedAuthentication;
use crate::Services;

/// Paths that are never throttled: the site's static files and the health checks.
const EXEMPT: [&str; 3] = ["/pkg/", "/healthz", "/readyz"];

pub async fn throttle(State(s): State<Arc<Services>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let Some(ip) = peer(req.headers()).filter(|_| !EXEMPT.iter().any(|p| path.starts_with(p))) else {
        return next.run(req).await;
    };
    if let Err(e) = s.throttle.check(ip, presents_credentials(&req)).await {
        return refuse(req.uri(), e);
    }
    let response = next.run(req).await;
    if FailedAuthentication::marked(&response) {
        s.throttle.failed(ip).await;
    }
    response
}

/// Requests whose credentials are checked: a token in `Authorization`, the sign-in forms, an
/// activation link, the single sign-on callback, the OAuth token endpoint.
fn presents_credentials(req: &Request) -> bool {
    let path = req.uri().path();
    req.headers().contains_key(header::AUTHORIZATION)
        || (req.method() == Method::POST && (path == "/login" || path.starts_with("/activate/") || path.starts_with("/admin/login/")))
        || path == "/auth/oidc/callback"
        || path == "/oauth/token"
}
