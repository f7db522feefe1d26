//! `GET …/changes`: the change data feed, as add/cdf/remove lines per commit.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;

use super::lines::{FileIdHash, Lines};
use super::request::{capabilities, file_id_hash, open, TablePath};
use super::respond::{ndjson, AuditNote, Stream};
use crate::auth::time_travel::{check_range, parse_timestamp, require_history};
use crate::auth::{Access, Caller};
use crate::error::{PortalError, Result};
use crate::storage::versions::{resolve_timestamp, Direction};
use crate::storage::{At, FileUrls};
use crate::Services;

pub async fn changes(
    State(s): State<Arc<Services>>,
    Extension(caller): Extension<Caller>,
    Path((share, schema, table)): TablePath,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response> {
    let t = Access::new(&s.catalog, &caller.recipient).table(&share, &schema, &table).await?;
    let qualified = t.table.qualified_name();
    require_history(&t)?;
    let state = open(&s, &t, At::Latest).await?;
    if !state.cdf_enabled()? {
        return Err(PortalError::InvalidParameter(format!("cdf is not enabled on table {qualified}")));
    }
    let history = state.history().await?;
    let number = |name: &str| -> Result<Option<i64>> {
        params
            .get(name)
            .map(|v| v.parse::<i64>().map_err(|_| PortalError::InvalidParameter(format!("{name} `{v}` is not a version number"))))
            .transpose()
    };
    let start = match (number("startingVersion")?, params.get("startingTimestamp")) {
        (Some(_), Some(_)) => {
            return Err(PortalError::InvalidParameter("Please only provide one of: startingVersion, startingTimestamp".into()))
        }
        (Some(v), None) => v,
        (None, Some(ts)) => resolve_timestamp(&history, parse_timestamp(ts, "startingTimestamp")?, Direction::AtOrAfter)?,
        (None, None) => return Err(PortalError::InvalidParameter("startingVersion or startingTimestamp is required".into())),
    };
    let end = match (number("endingVersion")?, params.get("endingTimestamp")) {
        (Some(_), Some(_)) => {
            return Err(PortalError::InvalidParameter("Please only provide one of: endingVersion, endingTimestamp".into()))
        }
        (Some(v), None) => Some(v),
        (None, Some(ts)) => Some(resolve_timestamp(&history, parse_timestamp(ts, "endingTimestamp")?, Direction::AtOrBefore)?),
        (None, None) => None,
    };
    let latest = state.version();
    check_range(start, end, latest)?;
    if let Some(first) = history.first() {
        if start < first.0 {
            return Err(PortalError::InvalidParameter(format!(
                "startingVersion {start} is before the earliest available version {}",
                first.0
            )));
        }
    }
    let end = end.unwrap_or(latest).min(latest);

    let format = capabilities(&headers).choose(&qualified, &state.advanced_features()?)?;
    let id_hash = file_id_hash(&headers)?;
    let historical_protocol = params.get("includeHistoricalProtocol").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut lines = Lines::new(format, id_hash.unwrap_or(FileIdHash::for_format(format)), FileUrls::of(&s.signer, &t.table.id, &state));
    lines.protocol_at(&state.protocol()?, historical_protocol.then_some(latest));
    // Readers rebuild a log that starts at `start`: its metadata must carry that version.
    lines.metadata(&state.metadata()?, Some(start).filter(|_| format == super::capabilities::Format::Delta));
    for commit in state.commits(&history, start, end).await? {
        if historical_protocol {
            lines.historical_protocol(&commit, start);
        }
        for (kind, file) in state.changes(&commit, true) {
            lines.file(kind, &file, Some((commit.version, commit.timestamp))).await?;
        }
    }
    let note = AuditNote {
        files: Some(lines.files),
        bytes: Some(lines.bytes),
        detail: Some(format!("versions {start}..={end}")),
        ..AuditNote::new("queryTableChanges", qualified)
    };
    let stream = Stream { version: start, format, end_stream: false, async_query: false, body: lines.finish().into() };
    Ok(ndjson(stream, id_hash.map(FileIdHash::echo), note))
}
