//! A table view, parsed once where the request arrives: the table from the path, the view in
//! the grammar's typed form, and the download options beside it (`_format`, `_dialect`, and the
//! admin preview's `as`). Everything inward takes these types, never the query string.

use std::sync::Arc;

use app::contract::grammar::{decode_pairs, GrammarError, TableQuery};
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use super::envelope::Audit;
use crate::error::{PortalError, Result};
use crate::export::format::{Dialect, FileFormat};
use crate::Services;

/// `/shares/{share}/schemas/{schema}/tables/{table}/…`; the audit line names it even when the
/// caller is then refused.
pub struct TablePath {
    pub share: String,
    pub schema: String,
    pub table: String,
}

impl TablePath {
    pub fn qualified(&self) -> String {
        format!("{}.{}.{}", self.share, self.schema, self.table)
    }
}

impl FromRequestParts<Arc<Services>> for TablePath {
    type Rejection = PortalError;

    async fn from_request_parts(parts: &mut Parts, s: &Arc<Services>) -> Result<Self> {
        let Path((share, schema, table)) =
            Path::<(String, String, String)>::from_request_parts(parts, s).await.map_err(|e| PortalError::Malformed(e.body_text()))?;
        let path = Self { share, schema, table };
        Audit::of(parts).object(path.qualified());
        Ok(path)
    }
}

/// The query string: the view (or why the grammar refused it) and the options beside it.
pub struct View {
    pub query: std::result::Result<TableQuery, GrammarError>,
    /// The raw query as sent, for the audit line's detail.
    pub raw: String,
    format: Option<String>,
    dialect: Option<String>,
    pub as_recipient: Option<String>,
}

impl View {
    pub fn parse(raw: &str) -> Self {
        let (mut format, mut dialect, mut as_recipient) = (None, None, None);
        let mut pairs = Vec::new();
        for (k, v) in decode_pairs(raw) {
            match k.as_str() {
                "_format" => format = Some(v),
                "_dialect" => dialect = Some(v),
                "as" => as_recipient = Some(v),
                _ => pairs.push((k, v)),
            }
        }
        Self { query: TableQuery::parse(pairs), raw: raw.to_string(), format, dialect, as_recipient }
    }

    /// The view, or the grammar's refusal as a 400.
    pub fn valid(&self) -> Result<TableQuery> {
        self.query.clone().map_err(Into::into)
    }

    pub fn dialect(&self) -> Result<Dialect> {
        Dialect::parse(self.dialect.as_deref())
    }

    /// The background export's file (`_format`, and `_dialect` for CSV).
    pub fn file_format(&self) -> Result<FileFormat> {
        FileFormat::parse(self.format.as_deref(), self.dialect.as_deref())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for View {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> std::result::Result<Self, Self::Rejection> {
        Ok(Self::parse(parts.uri.query().unwrap_or_default()))
    }
}
