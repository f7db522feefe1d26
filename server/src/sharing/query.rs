//! Query Table (`POST …/query`): the request, parsed and checked once, and the answer, which the
//! synchronous call and a succeeded async query share.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::capabilities::Format;
use super::lines::{FileIdHash, Lines};
use super::predicates::{self, Expr};
use super::request::{capabilities, file_id_hash, open};
use super::respond::{ndjson, AuditNote, Stream};
use super::selection::{reads, select};
use super::stream::{self, SnapshotFiles};
use crate::auth::time_travel;
use crate::auth::{AuthorizedTable, Caller};
use crate::error::{PortalError, Result};
use crate::storage::{At, FileUrls};
use crate::Services;

/// What a query asks for, apart from paging: two requests with equal parameters are the same
/// query (the idempotency rule of async queries compares their [`canonical`](Self::canonical) form).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryParams {
    pub predicate_hints: Option<Vec<String>>,
    /// A string holding JSON, per the spec; an object is accepted too.
    pub json_predicate_hints: Option<serde_json::Value>,
    pub limit_hint: Option<i64>,
    pub version: Option<i64>,
    pub timestamp: Option<String>,
    pub starting_version: Option<i64>,
    pub ending_version: Option<i64>,
    pub include_refresh_token: Option<bool>,
    /// Protocol changes after `startingVersion` inlined (delta format).
    pub include_historical_protocol: Option<bool>,
}

/// The body of `POST …/query`. Unknown fields are ignored: real clients send more than the spec lists.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryRequest {
    #[serde(flatten)]
    pub params: QueryParams,
    pub max_files: Option<i64>,
    pub page_token: Option<String>,
    pub refresh_token: Option<String>,
    /// Async queries: the spec spells it `idempotencyKey`, the Spark client `idempotency_key`.
    idempotency_key: Option<String>,
    #[serde(rename = "idempotency_key")]
    idempotency_key_snake: Option<String>,
}

impl QueryRequest {
    /// Parses and checks a body (empty means "everything"), before any table is opened.
    pub fn parse(body: &[u8], t: &AuthorizedTable) -> Result<Self> {
        let req: Self = if body.iter().all(u8::is_ascii_whitespace) {
            Self::default()
        } else {
            serde_json::from_slice(body)
                .map_err(|e| PortalError::Malformed(format!("the request body is not valid JSON for a query: {e}")))?
        };
        let p = &req.params;
        if p.limit_hint.is_some_and(|l| l < 0) {
            return Err(PortalError::InvalidParameter("limitHint must be 0 or more".into()));
        }
        if req.max_files.is_some_and(|m| m <= 0) {
            return Err(PortalError::InvalidParameter("maxFiles must be greater than 0".into()));
        }
        if p.include_historical_protocol == Some(true) && p.starting_version.is_none() {
            return Err(PortalError::InvalidParameter("includeHistoricalProtocol needs startingVersion".into()));
        }
        p.at(t)?;
        Ok(req)
    }

    pub fn idempotency_key(&self) -> Option<&str> {
        self.idempotency_key.as_deref().or(self.idempotency_key_snake.as_deref()).filter(|k| !k.trim().is_empty())
    }

    /// The page or refresh token the request resumes from, if any.
    pub fn resume_token(&self) -> Option<&str> {
        self.page_token.as_deref().or(self.refresh_token.as_deref())
    }
}

impl QueryParams {
    /// The parameters as compact JSON without the absent ones: equal parameters, equal text.
    pub fn canonical(&self) -> Result<String> {
        let mut value = serde_json::to_value(self).map_err(|e| PortalError::fault("writing the query's parameters", e))?;
        if let Some(fields) = value.as_object_mut() {
            fields.retain(|_, v| !v.is_null());
        }
        Ok(value.to_string())
    }

    /// The snapshot asked for (validated: history shared, one of version/timestamp/startingVersion).
    pub fn at(&self, t: &AuthorizedTable) -> Result<At> {
        time_travel::snapshot_at(t, self.version, self.timestamp.as_deref(), self.starting_version)
    }

    /// Both hint languages, AND-ed. Hints are best effort: a bad one filters nothing.
    fn predicate(&self, column_types: &HashMap<String, String>) -> Option<Expr> {
        let json = match &self.json_predicate_hints {
            Some(serde_json::Value::String(text)) => predicates::json::parse(text),
            Some(other @ serde_json::Value::Object(_)) => predicates::json::parse(&other.to_string()),
            _ => None,
        };
        let sql = match &self.predicate_hints {
            Some(hints) if !hints.is_empty() => predicates::sql::parse_all(hints, column_types),
            _ => None,
        };
        match (json, sql) {
            (Some(a), Some(b)) => Some(Expr::And(vec![a, b])),
            (a, b) => a.or(b),
        }
    }
}

/// The table version a query reads, found by opening the table: the snapshot's version, or for
/// a `startingVersion` query the last version of its range. An async query pins this once.
pub async fn resolve_version(s: &Services, t: &AuthorizedTable, params: &QueryParams) -> Result<i64> {
    let at = params.at(t)?;
    match params.starting_version {
        Some(start) => {
            let latest = open(s, t, At::Latest).await?.version();
            time_travel::check_range(start, params.ending_version, latest)?;
            Ok(params.ending_version.unwrap_or(latest).min(latest))
        }
        None => Ok(open(s, t, at).await?.version()),
    }
}

/// One page of a query's answer. `pinned` is the version an async query resolved to (it stands
/// for "latest" and for a timestamp); `max_files` the page size.
pub struct Page<'a> {
    pub params: &'a QueryParams,
    pub pinned: Option<i64>,
    pub max_files: Option<i64>,
    pub resume_token: Option<&'a str>,
    pub async_query: bool,
}

/// The ndjson answer: protocol, metadata, the files of this page, and the end-of-stream line
/// when the client asked for it or there is more to read.
pub async fn answer(s: &Arc<Services>, caller: &Caller, t: &AuthorizedTable, headers: &HeaderMap, page: Page<'_>) -> Result<Response> {
    let params = page.params;
    let qualified = t.table.qualified_name();
    let resume = page.resume_token.map(|tok| decode_resume(s, tok, caller, &t.table.id)).transpose()?;
    let mut at = params.at(t)?;
    if let Some(v) = page.pinned {
        at = At::Version(v);
    }
    if let Some(r) = &resume {
        at = At::Version(r.version);
    }
    let caps = capabilities(headers);
    let id_hash = file_id_hash(headers)?;
    let historical_protocol = params.include_historical_protocol == Some(true);

    let state = Arc::new(open(s, t, if params.starting_version.is_some() { At::Latest } else { at }).await?);
    let format = caps.choose(&qualified, &state.advanced_features()?)?;
    let mut lines = Lines::new(format, id_hash.unwrap_or(FileIdHash::for_format(format)), FileUrls::of(&s.signer, &t.table.id, &state));
    lines.protocol_at(&state.protocol()?, historical_protocol.then(|| state.version()));
    lines.metadata(&state.metadata()?, (format == Format::Delta).then(|| state.version()));
    let end_stream = caps.include_end_stream || page.max_files.is_some() || params.include_refresh_token == Some(true);

    let header_version;
    let mut note = AuditNote::new("queryTable", qualified);
    let body = if let Some(start) = params.starting_version {
        // Data-change files since `start`, as streaming clients read them.
        let latest = page.pinned.unwrap_or(state.version()).min(state.version());
        time_travel::check_range(start, params.ending_version, latest)?;
        let end = params.ending_version.unwrap_or(latest).min(latest);
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
        (note.files, note.bytes) = (Some(lines.files), Some(lines.bytes));
        Body::from(lines.finish())
    } else {
        let column_types = state.column_types()?;
        let predicate = params.predicate(&column_types);
        let offset = resume.as_ref().map_or(0, |r| r.offset);
        let page_size = page.max_files.map_or(usize::MAX, |m| m as usize);
        // This page, and one file more to know whether another page follows.
        let enough = offset.saturating_add(page_size).saturating_add(1);
        let reads = reads(predicate.as_ref(), params.limit_hint, &state.partition_columns()?);
        // On a thread of its own: a table too large to keep loaded is read from its log here.
        let picked = {
            let (state, limit) = (state.clone(), params.limit_hint);
            tokio::task::spawn_blocking(move || select(state.candidates(reads)?, predicate.as_ref(), &column_types, limit, enough))
                .await
                .map_err(|e| PortalError::fault("choosing the files", e))??
        };
        let offset = offset.min(picked.len());
        let page_end = offset.saturating_add(page_size).min(picked.len());
        let this_page = &picked[offset..page_end];
        header_version = state.version();
        let end_stream = end_stream.then(|| {
            let resume_at =
                |offset| Resume { recipient: caller.recipient.id.clone(), table: t.table.id.clone(), version: header_version, offset };
            let next = (page_end < picked.len()).then(|| encode_resume(s, &resume_at(page_end)));
            let refresh = (params.include_refresh_token == Some(true)).then(|| encode_resume(s, &resume_at(0)));
            (next, refresh)
        });
        (note.files, note.bytes) = (Some(this_page.len() as i64), Some(this_page.iter().map(|p| p.size).sum()));
        let id_hash = lines.id_hash;
        let head = lines.finish();
        let positions = this_page.iter().map(|p| p.position).collect();
        let files = SnapshotFiles { state, positions, format, id_hash, end_stream };
        stream::body(s.clone(), head, files).await?
    };
    let stream = Stream { version: header_version, format, end_stream: caps.include_end_stream, async_query: page.async_query, body };
    Ok(ndjson(stream, id_hash.map(FileIdHash::echo), note))
}

/// Where a paged or refreshed query resumes: the snapshot version and the file offset. Sealed
/// (HMAC) and bound to the recipient and table, so it cannot be forged to reach other versions.
#[derive(Debug, Serialize, Deserialize)]
struct Resume {
    recipient: String,
    table: String,
    version: i64,
    offset: usize,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_of_the_idempotency_key_are_read_and_paging_is_not_a_parameter() {
        let camel: QueryRequest = serde_json::from_str(r#"{"idempotencyKey":"k1","limitHint":5,"maxFiles":2}"#).unwrap();
        let snake: QueryRequest = serde_json::from_str(r#"{"idempotency_key":"k1","limitHint":5,"queryId":"x"}"#).unwrap();
        assert_eq!((camel.idempotency_key(), snake.idempotency_key()), (Some("k1"), Some("k1")));
        assert_eq!(camel.params, snake.params, "maxFiles and unknown fields do not make another query");
        assert_eq!(camel.params.canonical().unwrap(), r#"{"limitHint":5}"#);
        let blank: QueryRequest = serde_json::from_str(r#"{"idempotencyKey":" "}"#).unwrap();
        assert_eq!(blank.idempotency_key(), None);
    }
}
