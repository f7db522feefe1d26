//! Table endpoints: version, metadata and query.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;

use super::async_query;
use super::capabilities::Format;
use super::lines::{FileIdHash, Lines};
use super::query::{answer, Page, QueryRequest};
use super::request::{authorize, capabilities, open, TablePath};
use super::respond::{ndjson, version_only, AuditNote, Stream};
use crate::auth::time_travel::{self, parse_timestamp};
use crate::auth::Caller;
use crate::error::{PortalError, Result};
use crate::storage::versions::{resolve_timestamp, Direction};
use crate::storage::{At, FileUrls};
use crate::Services;

/// `GET …/version[?startingTimestamp=]`
pub async fn version(
    State(s): State<Arc<Services>>,
    Extension(caller): Extension<Caller>,
    Path(path): TablePath,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response> {
    let t = authorize(&s, &caller, &path).await?;
    let state = open(&s, &t, At::Latest).await?;
    let version = match params.get("startingTimestamp") {
        None => state.version(),
        Some(ts) => {
            time_travel::require_history(&t)?;
            let ts = parse_timestamp(ts, "startingTimestamp")?;
            resolve_timestamp(&state.history().await?, ts, Direction::AtOrAfter)?
        }
    };
    Ok(version_only(version, AuditNote::new("getTableVersion", t.table.qualified_name())))
}

/// The deprecated `HEAD …/tables/{table}`.
pub async fn head_table(s: State<Arc<Services>>, caller: Extension<Caller>, path: TablePath) -> Result<Response> {
    version(s, caller, path, Query(HashMap::new())).await
}

/// `GET …/metadata[?version=|timestamp=]`: exactly two lines, protocol then metaData.
pub async fn metadata(
    State(s): State<Arc<Services>>,
    Extension(caller): Extension<Caller>,
    Path(path): TablePath,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response> {
    let t = authorize(&s, &caller, &path).await?;
    let version = params
        .get("version")
        .map(|v| v.parse::<i64>().map_err(|_| PortalError::InvalidParameter(format!("version `{v}` is not a number"))))
        .transpose()?;
    let at = time_travel::snapshot_at(&t, version, params.get("timestamp").map(String::as_str), None)?;
    let state = open(&s, &t, at).await?;
    let format = capabilities(&headers).choose(&t.table.qualified_name(), &state.advanced_features()?)?;
    let mut lines = Lines::new(format, FileIdHash::for_format(format), FileUrls::of(&s.signer, &t.table.id, &state));
    lines.protocol(&state.protocol()?);
    lines.metadata(&state.metadata()?, (format == Format::Delta).then(|| state.version()));
    let stream = Stream { version: state.version(), format, end_stream: false, async_query: false, body: lines.finish().into() };
    Ok(ndjson(stream, None, AuditNote::new("getTableMetadata", t.table.qualified_name())))
}

/// `POST …/query`: answered at once, or, when the client offers `asyncquery=true`, submitted
/// as an async query that it then polls.
pub async fn query(
    State(s): State<Arc<Services>>,
    Extension(caller): Extension<Caller>,
    Path(path): TablePath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let t = authorize(&s, &caller, &path).await?;
    let req = QueryRequest::parse(&body, &t)?;
    // A page or refresh token names its version already: there is nothing to wait for.
    if capabilities(&headers).async_query && req.resume_token().is_none() {
        return async_query::submit(&s, &caller, &t, &req).await;
    }
    let page = Page { params: &req.params, pinned: None, max_files: req.max_files, resume_token: req.resume_token(), async_query: false };
    answer(&s, &caller, &t, &headers, page).await
}

/// `POST …/temporary-table-credentials`: directory access (`accessModes: ["dir"]`) is not
/// offered, so tables are read through `/query`'s signed URLs; a granted table gets a clear
/// refusal, anything else the usual 404.
pub async fn temporary_credentials(
    State(s): State<Arc<Services>>,
    Extension(caller): Extension<Caller>,
    Path(path): TablePath,
) -> Result<Response> {
    let t = authorize(&s, &caller, &path).await?;
    Err(PortalError::Unsupported(format!(
        "temporary table credentials are not offered for {}: this server shares tables by signed file URLs; read it with /query",
        t.table.qualified_name()
    )))
}
