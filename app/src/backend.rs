//! The server side of the contract: the trait the `server` crate implements, and the helpers
//! server functions use to reach it. Compiled only for `ssr`.

use std::sync::Arc;

use async_trait::async_trait;
use http::request::Parts;
use leptos::prelude::*;

use crate::contract::grammar::encode;
use crate::contract::{
    ActivationState, AdminAuditView, AdminHomeView, AdminLinkState, AdminLocationsView, AdminLoginView, AdminOnboardView, AdminPreviewView,
    AdminRecipientView, AdminShareView, AdminTeamsView, AuditQuery, CatalogView, ConnectView, ExportsView, Loaded, SessionView, TableView,
};

/// Everything the UI needs from the server's capabilities. Methods that read partner data get
/// the request, so the server authenticates (session cookie or bearer token) in one place.
#[async_trait]
pub trait PortalBackend: Send + Sync + 'static {
    async fn activation_state(&self, code: &str) -> Result<ActivationState, String>;
    async fn session(&self, request: &Parts) -> SessionView;
    async fn catalog(&self, request: &Parts) -> Loaded<CatalogView>;
    async fn table_view(&self, request: &Parts, share: &str, schema: &str, table: &str, query: &str) -> Loaded<TableView>;
    /// `/connect`; `issued` shows a token created just now, once, and `client` an OAuth
    /// client's new secret.
    async fn connect(&self, request: &Parts, issued: Option<&str>, client: Option<&str>) -> Loaded<ConnectView>;
    async fn exports(&self, request: &Parts) -> Loaded<ExportsView>;
    /// `/views/{id}`: a redirect to the saved view's table page.
    async fn saved_view(&self, request: &Parts, id: &str) -> Loaded<()>;

    // The admin console: every method checks the caller's role and team on the server.
    async fn admin_login(&self, request: &Parts) -> AdminLoginView;
    async fn admin_link(&self, code: &str) -> AdminLinkState;
    /// `search`: part of a recipient's name, comment or property values (empty: all).
    async fn admin_home(&self, request: &Parts, search: &str) -> Loaded<AdminHomeView>;
    /// `issued`: the one-time id of an activation link created just now.
    async fn admin_recipient(&self, request: &Parts, name: &str, issued: Option<&str>) -> Loaded<AdminRecipientView>;
    async fn admin_share(&self, request: &Parts, name: &str) -> Loaded<AdminShareView>;
    async fn admin_audit(&self, request: &Parts, query: &AuditQuery) -> Loaded<AdminAuditView>;
    async fn admin_teams(&self, request: &Parts, issued: Option<&str>) -> Loaded<AdminTeamsView>;
    async fn admin_locations(&self, request: &Parts) -> Loaded<AdminLocationsView>;
    async fn admin_preview(&self, request: &Parts, share: &str, table: &str, as_recipient: Option<&str>) -> Loaded<AdminPreviewView>;
    async fn admin_onboard(
        &self,
        request: &Parts,
        step: u8,
        share: Option<&str>,
        recipient: Option<&str>,
        issued: Option<&str>,
    ) -> Loaded<AdminOnboardView>;
}

/// The backend as provided to every render and server-function call.
#[derive(Clone)]
pub struct Backend(pub Arc<dyn PortalBackend>);

pub fn current() -> Result<Arc<dyn PortalBackend>, ServerFnError> {
    use_context::<Backend>().map(|b| b.0).ok_or_else(|| ServerFnError::new("portal backend missing from context"))
}

/// The backend and the request being answered.
pub fn current_request() -> Result<(Arc<dyn PortalBackend>, Parts), ServerFnError> {
    let request = use_context::<Parts>().ok_or_else(|| ServerFnError::new("request missing from context"))?;
    Ok((current()?, request))
}

/// Sets the HTTP status of the page being rendered (e.g. 404 for an unknown link).
pub fn set_status(code: u16) {
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(code) {
            options.set_status(status);
        }
    }
}

/// Keeps the page being rendered out of every cache (it shows a secret once).
pub fn no_store() {
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        options.insert_header(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    }
}

/// As [`answer`], for console pages: a visitor without an admin session goes to `/admin/login`.
pub fn answer_admin<T>(request: &Parts, loaded: &Loaded<T>) {
    match loaded {
        Loaded::SignedOut => {
            let back = request.uri.path_and_query().map(|p| p.as_str()).filter(|p| !p.starts_with("/_fn/"));
            let target = match back {
                Some(p) if p != "/admin" => format!("/admin/login?next={}", encode(p)),
                _ => "/admin/login".to_string(),
            };
            redirect(request, &target);
        }
        other => answer(request, other),
    }
}

/// Gives a page load its HTTP meaning: 404 for what is not there, and a redirect to `/login`
/// (coming back here afterwards) for a visitor without a session.
pub fn answer<T>(request: &Parts, loaded: &Loaded<T>) {
    match loaded {
        Loaded::Ready(_) => {}
        Loaded::NotFound(_) => set_status(crate::contract::http_status::NOT_FOUND),
        Loaded::Failed { status, .. } => set_status(*status),
        Loaded::Redirect(to) => redirect(request, to),
        Loaded::SignedOut => {
            // A page request comes back to itself; a server-function call (client-side
            // navigation) has no page URL of its own.
            let back = request.uri.path_and_query().map(|p| p.as_str()).filter(|p| !p.starts_with("/_fn/"));
            let target = match back {
                Some(p) if p != "/" => format!("/login?next={}", encode(p)),
                _ => "/login".to_string(),
            };
            redirect(request, &target);
        }
    }
}

/// Sends the visitor to `target`. A page load answers a real 302 whatever the client accepts
/// (`leptos_axum` sets the status only for clients that ask for HTML); a server-function call
/// keeps its own answer, which the client router follows.
fn redirect(request: &Parts, target: &str) {
    leptos_axum::redirect(target);
    if !request.uri.path().starts_with("/_fn/") {
        set_status(http::StatusCode::FOUND.as_u16());
    }
}
