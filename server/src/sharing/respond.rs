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
    pub body: String,
}

pub fn ndjson(s: Stream, file_id_hash: Option<&str>, note: AuditNote) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson; charset=utf-8"));
    headers.insert(TABLE_VERSION, HeaderValue::from(s.version));
    let caps = if s.end_stream {
        format!("responseformat={};includeendstreamaction=true", s.format.name())
    } else {
        format!("responseformat={}", s.format.name())
    };
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
