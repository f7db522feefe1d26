//! Response shapes of the protocol: one-line JSON for lists, ndjson for streams, with the
//! headers clients require, plus the note each handler leaves for the audit log.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::capabilities::{Format, HEADER as CAPABILITIES};
pub use crate::catalog::AuditNote;

pub const TABLE_VERSION: &str = "delta-table-version";

/// Compact, single-line JSON with an explicit charset (Python reads the first line only).
pub fn json<T: Serialize>(body: &T, note: AuditNote) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".into());
    let mut resp = (StatusCode::OK, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], text).into_response();
    resp.extensions_mut().insert(note);
    resp
}

pub struct Stream {
    pub version: i64,
    pub format: Format,
    pub end_stream: bool,
    /// The answer of an async query (said in the capabilities header).
    pub async_query: bool,
    pub body: axum::body::Body,
}

pub fn ndjson(s: Stream, file_id_hash: Option<&str>, note: AuditNote) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson; charset=utf-8"));
    headers.insert(TABLE_VERSION, HeaderValue::from(s.version));
    let mut caps = format!("responseformat={}", s.format.name());
    if s.end_stream {
        caps.push_str(";includeendstreamaction=true");
    }
    if s.async_query {
        caps.push_str(";asyncquery=true");
    }
    headers.insert(CAPABILITIES, HeaderValue::from_str(&caps).expect("ascii"));
    if let Some(h) = file_id_hash {
        headers.insert("fileidhash", HeaderValue::from_str(h).expect("validated"));
    }
    let mut resp = (StatusCode::OK, headers, s.body).into_response();
    resp.extensions_mut().insert(note);
    resp
}

/// `/version` and the deprecated HEAD: the header, no body.
pub fn version_only(version: i64, note: AuditNote) -> Response {
    let mut resp = (StatusCode::OK, [(TABLE_VERSION, HeaderValue::from(version))]).into_response();
    resp.extensions_mut().insert(note);
    resp
}

/// An async query not answered yet: one `queryStatus` line. `Delta-Table-Version` is always
/// there (the Spark client requires it on every reply): the version asked for, else 0.
pub fn query_status(query_id: &str, status: &str, version: i64, note: AuditNote) -> Response {
    let line = serde_json::json!({ "queryStatus": { "queryId": query_id, "status": status } });
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson; charset=utf-8")),
        (header::HeaderName::from_static(TABLE_VERSION), HeaderValue::from(version)),
        (header::HeaderName::from_static(CAPABILITIES), HeaderValue::from_static("asyncquery=true")),
    ];
    let mut resp = (StatusCode::OK, headers, format!("{line}\n")).into_response();
    resp.extensions_mut().insert(note);
    resp
}
