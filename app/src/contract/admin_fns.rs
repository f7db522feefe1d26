//! The console pages' server functions: each loads one page's view through the backend, which
//! checks the admin's session, role and team on the server.

use leptos::prelude::*;

use super::admin::*;
use super::views::Loaded;

#[server(prefix = "/_fn", input = server_fn::codec::GetUrl)]
pub async fn get_admin_login() -> Result<AdminLoginView, ServerFnError> {
    let (backend, request) = crate::backend::current_request()?;
    Ok(backend.admin_login(&request).await)
}

#[server(prefix = "/_fn", input = server_fn::codec::GetUrl)]
pub async fn get_admin_link(code: String) -> Result<AdminLinkState, ServerFnError> {
    let (backend, _) = crate::backend::current_request()?;
    let state = backend.admin_link(&code).await;
    match &state {
        AdminLinkState::Used => crate::backend::set_status(410),
        AdminLinkState::Unknown => crate::backend::set_status(404),
        AdminLinkState::Ready { .. } => crate::backend::no_store(),
    }
    Ok(state)
}

impl AdminHomeView {
    /// Thousands of partners do not fit one page: the list shows this many, and a search.
    pub const SHOWN: usize = 200;
}

#[server(prefix = "/_fn", input = server_fn::codec::GetUrl)]
pub async fn get_admin_home(search: Option<String>) -> Result<Loaded<AdminHomeView>, ServerFnError> {
    let (backend, request) = crate::backend::current_request()?;
    let loaded = backend.admin_home(&request, search.as_deref().unwrap_or_default()).await;
    crate::backend::answer_admin(&request, &loaded);
    Ok(loaded)
}

#[server(prefix = "/_fn", input = server_fn::codec::GetUrl)]
pub async fn get_admin_recipient(name: String, issued: Option<String>) -> Result<Loaded<AdminRecipientView>, ServerFnError> {
    let (backend, request) = crate::backend::current_request()?;
    let loaded = backend.admin_recipient(&request, &name, issued.as_deref()).await;
    crate::backend::answer_admin(&request, &loaded);
    if matches!(&loaded, Loaded::Ready(v) if v.issued.is_some() || v.issued_client.is_some()) {
        crate::backend::no_store();
    }
    Ok(loaded)
}

#[server(prefix = "/_fn", input = server_fn::codec::GetUrl)]
pub async fn get_admin_share(name: String) -> Result<Loaded<AdminShareView>, ServerFnError> {
    let (backend, request) = crate::backend::current_request()?;
    let loaded = backend.admin_share(&request, &name).await;
    crate::backend::answer_admin(&request, &loaded);
    Ok(loaded)
}

#[server(prefix = "/_fn", input = server_fn::codec::GetUrl)]
pub async fn get_admin_audit(query: AuditQuery) -> Result<Loaded<AdminAuditView>, ServerFnError> {
    let (backend, request) = crate::backend::current_request()?;
    let loaded = backend.admin_audit(&request, &query).await;
    crate::backend::answer_admin(&request, &loaded);
    Ok(loaded)
}

#[server(prefix = "/_fn", input = server_fn::codec::GetUrl)]
pub async fn get_admin_onboard(
    step: u8,
    share: Option<String>,
    recipient: Option<String>,
    issued: Option<String>,
) -> Result<Loaded<AdminOnboardView>, ServerFnError> {
    let (backend, request) = crate::backend::current_request()?;
    let loaded = backend.admin_onboard(&request, step, share.as_deref(), recipient.as_deref(), issued.as_deref()).await;
    crate::backend::answer_admin(&request, &loaded);
    if matches!(&loaded, Loaded::Ready(v) if v.issued.is_some()) {
        crate::backend::no_store();
    }
    Ok(loaded)
}

#[server(prefix = "/_fn", input = server_fn::codec::GetUrl)]
pub async fn get_admin_preview(
    share: String,
    table: String,
    as_recipient: Option<String>,
) -> Result<Loaded<AdminPreviewView>, ServerFnError> {
    let (backend, request) = crate::backend::current_request()?;
    let loaded = backend.admin_preview(&request, &share, &table, as_recipient.as_deref()).await;
    crate::backend::answer_admin(&request, &loaded);
    Ok(loaded)
}

#[server(prefix = "/_fn", input = server_fn::codec::GetUrl)]
pub async fn get_admin_locations() -> Result<Loaded<AdminLocationsView>, ServerFnError> {
    let (backend, request) = crate::backend::current_request()?;
    let loaded = backend.admin_locations(&request).await;
    crate::backend::answer_admin(&request, &loaded);
    Ok(loaded)
}

#[server(prefix = "/_fn", input = server_fn::codec::GetUrl)]
pub async fn get_admin_teams(issued: Option<String>) -> Result<Loaded<AdminTeamsView>, ServerFnError> {
    let (backend, request) = crate::backend::current_request()?;
    let loaded = backend.admin_teams(&request, issued.as_deref()).await;
    crate::backend::answer_admin(&request, &loaded);
    if matches!(&loaded, Loaded::Ready(v) if v.issued_token.is_some()) {
        crate::backend::no_store();
    }
    Ok(loaded)
}
