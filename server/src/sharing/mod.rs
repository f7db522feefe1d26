//! The Delta Sharing protocol server, mounted at `/delta-sharing`.

mod async_query;
mod capabilities;
pub mod changes;
#[cfg(test)]
mod fuzz;
mod guard;
mod lines;
mod lists;
mod pagination;
pub mod predicates;
mod query;
mod request;
mod respond;
mod selection;
mod stream;
mod table;

use std::sync::Arc;

use axum::routing::{get, head, post};
use axum::Router;

use crate::Services;

pub fn router(services: Arc<Services>) -> Router {
    const TABLE: &str = "/shares/{share}/schemas/{schema}/tables/{table}";
    Router::new()
        .route("/shares", get(lists::list_shares))
        .route("/shares/{share}", get(lists::get_share))
        .route("/shares/{share}/schemas", get(lists::list_schemas))
        .route("/shares/{share}/schemas/{schema}/tables", get(lists::list_tables))
        .route("/shares/{share}/all-tables", get(lists::list_all_tables))
        .route(TABLE, head(table::head_table))
        .route(&format!("{TABLE}/version"), get(table::version))
        .route(&format!("{TABLE}/metadata"), get(table::metadata))
        .route(&format!("{TABLE}/query"), post(table::query))
        .route(&format!("{TABLE}/queries/{{query_id}}"), post(async_query::poll))
        .route(&format!("{TABLE}/changes"), get(changes::changes))
        .route(&format!("{TABLE}/temporary-table-credentials"), post(table::temporary_credentials))
        .route_layer(axum::middleware::from_fn_with_state(services.clone(), guard::authenticate_and_audit))
        .with_state(services)
}
