//! The `delta-sharing-capabilities` header: which response format a client accepts, and which
//! one we answer in (always stated truthfully in the response header).

use crate::error::{PortalError, Result};

pub const HEADER: &str = "delta-sharing-capabilities";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Delta,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Self::Parquet => "parquet",
            Self::Delta => "delta",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Formats the client accepts, lower-case; empty means the default, parquet.
    pub formats: Vec<String>,
    pub include_end_stream: bool,
    /// `asyncquery=true`: the client polls for a query's answer (only `/query` honours it).
    pub async_query: bool,
}

impl Capabilities {
    /// Parses `key=v1,v2;key2=v` (case-insensitive; unknown keys ignored).
    pub fn parse(header: Option<&str>) -> Self {
        let mut caps = Self::default();
        for pair in header.unwrap_or_default().split(';') {
            let Some((key, values)) = pair.split_once('=') else { continue };
            let values = values.split(',').map(|v| v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty());
            match key.trim().to_ascii_lowercase().as_str() {
                "responseformat" => caps.formats = values.collect(),
                "includeendstreamaction" => caps.include_end_stream = values.into_iter().any(|v| v == "true"),
                "asyncquery" => caps.async_query = values.into_iter().any(|v| v == "true"),
                _ => {}
            }
        }
        caps
    }

    fn accepts(&self, f: Format) -> bool {
        if self.formats.is_empty() {
            return f == Format::Parquet;
        }
        self.formats.iter().any(|x| x == f.name())
    }

    /// Parquet when it can express the table and the client takes it; delta when the client asks
    /// only for delta or the table needs it. Never silently wrong rows: a table with deletion
    /// vectors or column mapping and a parquet-only client is a clear 400.
    pub fn choose(&self, table: &str, advanced_features: &[String]) -> Result<Format> {
        if !advanced_features.is_empty() {
            if self.accepts(Format::Delta) {
                return Ok(Format::Delta);
            }
            return Err(PortalError::Unsupported(format!(
                "Table {table} uses {} which the parquet response format cannot express (Unsupported Delta Table Properties); \
                 read it with a client that sends `delta-sharing-capabilities: responseformat=delta`",
                advanced_features.join(" and ")
            )));
        }
        if self.accepts(Format::Parquet) {
            Ok(Format::Parquet)
        } else if self.accepts(Format::Delta) {
            Ok(Format::Delta)
        } else {
            Err(PortalError::InvalidParameter(format!("unsupported responseformat `{}`; use parquet or delta", self.formats.join(","))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively() {
        let c = Capabilities::parse(Some(
            "ResponseFormat=Delta,parquet;readerfeatures=deletionvectors;includeEndStreamAction=true;AsyncQuery=True",
        ));
        assert_eq!(c.formats, ["delta", "parquet"]);
        assert!(c.include_end_stream && c.async_query);
        assert_eq!(Capabilities::parse(None), Capabilities::default());
    }

    #[test]
    fn chooses_the_format_the_protocol_requires() {
        let none = Capabilities::parse(None);
        let both = Capabilities::parse(Some("responseformat=delta,parquet"));
        let delta = Capabilities::parse(Some("responseformat=delta"));
        let dv = vec!["deletionVectors".to_string()];
        assert_eq!(none.choose("t", &[]).unwrap(), Format::Parquet);
        assert_eq!(both.choose("t", &[]).unwrap(), Format::Parquet);
        assert_eq!(delta.choose("t", &[]).unwrap(), Format::Delta);
        assert_eq!(both.choose("t", &dv).unwrap(), Format::Delta);
        let err = none.choose("s.d.t", &dv).unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains("deletionVectors"));
        assert!(Capabilities::parse(Some("responseformat=arrow")).choose("t", &[]).is_err());
    }
}
