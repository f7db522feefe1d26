//! Table endpoints: version, metadata and query.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use serde::Deserialize;

use super::capabilities::{Capabilities, Format, HEADER as CAPABILITIES};
use super::lines::{FileIdHash, Lines};
use super::predicates::{self, Expr};
use super::respond::{ndjson, version_only, AuditNote, Stream};
use super::selection::select;
use crate::auth::time_travel::{self, parse_timestamp};
use crate::auth::{Access, AuthorizedTable, Caller, ScopedTable};
use crate::error::{PortalError, Result};
use crate::storage::delta::{resolve_timestamp, Direction};
use crate::storage::{At, FileUrls};
use crate::Services;

pub type TablePath = Path<(String, String, String)>;

pub(super) async fn open(s: &Services, t: &AuthorizedTable, at: At) -> Result<ScopedTable> {
    t.open(&s.stores, at).await
}

async fn authorize(s: &Services, caller: &Caller, (share, schema, table): &(String, String, String)) -> Result<AuthorizedTable> {
    Access::new(&s.catalog, &caller.recipient).table(share, schema, table).await
}

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
    let stream = Stream { version: state.version(), format, end_stream: false, body: lines.finish() };
    Ok(ndjson(stream, None, AuditNote::new("getTableMetadata", t.table.qualified_name())))
}

/// The body of `POST …/query`. Unknown fields are ignored: real clients send more than the spec lists.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryRequest {
    #[serde(default)]
    predicate_hints: Option<Vec<String>>,
    /// A string holding JSON, per the spec; an object is accepted too.
    #[serde(default)]
    json_predicate_hints: Option<serde_json::Value>,
    limit_hint: Option<i64>,
    version: Option<i64>,
    timestamp: Option<String>,
    starting_version: Option<i64>,
    ending_version: Option<i64>,
    max_files: Option<i64>,
    page_token: Option<String>,
    include_refresh_token: Option<bool>,
    refresh_token: Option<String>,
    /// Protocol changes after `startingVersion` inlined (delta format).
    include_historical_protocol: Option<bool>,
}

/// Where a paged or refreshed query resumes: the snapshot version and the file offset. Sealed
/// (HMAC) and bound to the recipient and table, so it cannot be forged to reach other versions.
#[derive(Debug, serde::Serialize, Deserialize)]
struct Resume {
    recipient: String,
    table: String,
    version: i64,
    offset: usize,
}

/// `POST …/query`
pub async fn query(
    State(s): State<Arc<Services>>,
    Extension(caller): Extension<Caller>,
    Path(path): TablePath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let t = authorize(&s, &caller, &path).await?;
    let qualified = t.table.qualified_name();
    let req: QueryRequest = if body.iter().all(u8::is_ascii_whitespace) {
        QueryRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| PortalError::Malformed(format!("the request body is not valid JSON for a query: {e}")))?
    };
    if req.limit_hint.is_some_and(|l| l < 0) {
        return Err(PortalError::InvalidParameter("limitHint must be 0 or more".into()));
    }
    if req.max_files.is_some_and(|m| m <= 0) {
        return Err(PortalError::InvalidParameter("maxFiles must be greater than 0".into()));
    }
    let historical_protocol = req.include_historical_protocol == Some(true);
    if historical_protocol && req.starting_version.is_none() {
        return Err(PortalError::InvalidParameter("includeHistoricalProtocol needs startingVersion".into()));
    }
    let resume = [&req.page_token, &req.refresh_token]
        .into_iter()
        .flatten()
        .next()
        .map(|tok| decode_resume(&s, tok, &caller, &t.table.id))
        .transpose()?;
    let mut at = time_travel::snapshot_at(&t, req.version, req.timestamp.as_deref(), req.starting_version)?;
    if let Some(r) = &resume {
        at = At::Version(r.version);
    }
    let caps = capabilities(&headers);
    let id_hash = file_id_hash(&headers)?;

    let state = open(&s, &t, if req.starting_version.is_some() { At::Latest } else { at }).await?;
    let format = caps.choose(&qualified, &state.advanced_features()?)?;
    let mut lines = Lines::new(format, id_hash.unwrap_or(FileIdHash::for_format(format)), FileUrls::of(&s.signer, &t.table.id, &state));
    lines.protocol_at(&state.protocol()?, historical_protocol.then(|| state.version()));
    lines.metadata(&state.metadata()?, (format == Format::Delta).then(|| state.version()));
    let end_stream = caps.include_end_stream || req.max_files.is_some() || req.include_refresh_token == Some(true);

    let header_version;
    if let Some(start) = req.starting_version {
        // Data-change files since `start`, as streaming clients read them.
        let latest = state.version();
        time_travel::check_range(start, req.ending_version, latest)?;
        let end = req.ending_version.unwrap_or(latest).min(latest);
        for commit in state.commits(&state.history().await?, start, end).await? {
            if historical_protocol {
                lines.historical_protocol(&commit, start);
            }
            for (kind, file) in state.changes(&commit, false) {
                lines.file(kind, &file, Some((commit.version, commit.timestamp))).await?;
            }
        }
        header_version = start;
        if end_stream {
            lines.end_stream(None, None);
        }
    } else {
        let column_types = state.column_types()?;
        let predicate = predicate(&req, &column_types);
        let files = select(state.files(format == Format::Delta)?, predicate.as_ref(), &column_types, req.limit_hint);
        let offset = resume.as_ref().map_or(0, |r| r.offset).min(files.len());
        let page_size = req.max_files.map_or(usize::MAX, |m| m as usize);
        let page_end = offset.saturating_add(page_size).min(files.len());
        for file in &files[offset..page_end] {
            lines.file("file", file, None).await?;
        }
        header_version = state.version();
        if end_stream {
            let resume_at =
                |offset| Resume { recipient: caller.recipient.id.clone(), table: t.table.id.clone(), version: header_version, offset };
            let next = (page_end < files.len()).then(|| encode_resume(&s, &resume_at(page_end)));
            let refresh = (req.include_refresh_token == Some(true)).then(|| encode_resume(&s, &resume_at(0)));
            lines.end_stream(next, refresh);
        }
    }
    let note = AuditNote { files: Some(lines.files), bytes: Some(lines.bytes), ..AuditNote::new("queryTable", qualified) };
    let stream = Stream { version: header_version, format, end_stream: caps.include_end_stream, body: lines.finish() };
    Ok(ndjson(stream, id_hash.map(FileIdHash::echo), note))
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

/// Both hint languages, AND-ed. Hints are best effort: a bad one filters nothing.
fn predicate(req: &QueryRequest, column_types: &HashMap<String, String>) -> Option<Expr> {
    let json = match &req.json_predicate_hints {
        Some(serde_json::Value::String(text)) => predicates::json::parse(text),
        Some(other @ serde_json::Value::Object(_)) => predicates::json::parse(&other.to_string()),
        _ => None,
    };
    let sql = match &req.predicate_hints {
        Some(hints) if !hints.is_empty() => predicates::sql::parse_all(hints, column_types),
        _ => None,
    };
    match (json, sql) {
        (Some(a), Some(b)) => Some(Expr::And(vec![a, b])),
        (a, b) => a.or(b),
    }
}

pub fn capabilities(headers: &HeaderMap) -> Capabilities {
    Capabilities::parse(headers.get(CAPABILITIES).and_then(|v| v.to_str().ok()))
}

/// The `fileidhash` request header: `parquet` (md5) or `delta` (sha256); anything else is a 400.
pub(super) fn file_id_hash(headers: &HeaderMap) -> Result<Option<FileIdHash>> {
    let Some(value) = headers.get("fileidhash") else { return Ok(None) };
    match value.to_str().unwrap_or_default().to_ascii_lowercase().as_str() {
        "parquet" => Ok(Some(FileIdHash::Md5)),
        "delta" => Ok(Some(FileIdHash::Sha256)),
        other => Err(PortalError::InvalidParameter(format!("unknown fileidhash `{other}`; use parquet or delta"))),
    }
}

fn encode_resume(s: &Services, r: &Resume) -> String {
    s.signer.seal(&serde_json::to_vec(r).unwrap_or_default())
}

fn decode_resume(s: &Services, token: &str, caller: &Caller, table: &str) -> Result<Resume> {
    let invalid = || PortalError::InvalidParameter("invalid pageToken or refreshToken for this table".into());
    let payload = s.signer.unseal(token).ok_or_else(invalid)?;
    let r: Resume = serde_json::from_slice(&payload).map_err(|_| invalid())?;
    if r.table != table || r.recipient != caller.recipient.id {
        return Err(invalid());
    }
    Ok(r)
}
