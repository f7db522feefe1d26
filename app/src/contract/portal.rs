//! Server functions of the partner pages. They are read-only (GET), so a cross-site request
//! cannot change anything; the state-changing forms (sign-in, sign-out) post to plain routes
//! that check the form token.

use leptos::prelude::*;

use super::views::{CatalogView, Loaded, SessionView, TableView};

/// The signed-in partner, and the form token for this browser.
#[server(prefix = "/_fn", input = server_fn::codec::GetUrl)]
pub async fn get_session() -> Result<SessionView, ServerFnError> {
    let (backend, request) = crate::backend::current_request()?;
    Ok(backend.session(&request).await)
}

/// The partner's catalog: granted shares → schemas → tables.
#[server(prefix = "/_fn", input = server_fn::codec::GetUrl)]
pub async fn get_catalog() -> Result<Loaded<CatalogView>, ServerFnError> {
    let (backend, request) = crate::backend::current_request()?;
    let loaded = backend.catalog(&request).await;
    crate::backend::answer(&request, &loaded);
    Ok(loaded)
}

/// A table's dictionary and one page of its filtered rows; `query` is the page's query string.
#[server(prefix = "/_fn", input = server_fn::codec::GetUrl)]
pub async fn get_table_view(share: String, schema: String, table: String, query: String) -> Result<Loaded<TableView>, ServerFnError> {
    let (backend, request) = crate::backend::current_request()?;
    let loaded = backend.table_view(&request, &share, &schema, &table, &query).await;
    crate::backend::answer(&request, &loaded);
    if let Loaded::Ready(TableView { grid: Err(problem), .. }) = &loaded {
        crate::backend::set_status(problem.status);
    }
    Ok(loaded)
}
