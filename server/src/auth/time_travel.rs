//! Version and timestamp arguments: history sharing, one-of rules, ranges, with the wording
//! the official clients' tests look for.

use super::AuthorizedTable;
use crate::error::{PortalError, Result};
use crate::storage::At;

pub fn require_history(t: &AuthorizedTable) -> Result<()> {
    if t.table.history_shared {
        Ok(())
    } else {
        Err(PortalError::InvalidParameter(format!(
            "Reading table by version or timestamp is not supported because history sharing is not enabled on table: {}",
            t.table.qualified_name()
        )))
    }
}

/// The snapshot a metadata or query call asks for.
pub fn snapshot_at(t: &AuthorizedTable, version: Option<i64>, timestamp: Option<&str>, starting_version: Option<i64>) -> Result<At> {
    let given = [version.is_some(), timestamp.is_some(), starting_version.is_some()].iter().filter(|b| **b).count();
    if given == 0 {
        return Ok(At::Latest);
    }
    require_history(t)?;
    if given > 1 {
        return Err(PortalError::InvalidParameter("Please only provide one of: version, timestamp, startingVersion".into()));
    }
    if let Some(v) = version.or(starting_version) {
        if v < 0 {
            return Err(PortalError::InvalidParameter(format!("version {v} must be 0 or more")));
        }
    }
    Ok(match (version, timestamp) {
        (Some(v), _) => At::Version(v),
        (_, Some(ts)) => At::Timestamp(chrono::DateTime::from_timestamp_millis(parse_timestamp(ts, "timestamp")?).unwrap_or_default()),
        _ => At::Latest,
    })
}

/// ISO-8601 in UTC, e.g. `2022-01-01T00:00:00Z`; returns epoch milliseconds.
pub fn parse_timestamp(text: &str, name: &str) -> Result<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim()).map(|t| t.timestamp_millis()).map_err(|_| {
        PortalError::InvalidParameter(format!("Invalid {name}: `{text}` is not an ISO-8601 timestamp like 2022-01-01T00:00:00Z"))
    })
}

/// `startingVersion` ≤ `endingVersion`, and not past the latest version.
pub fn check_range(start: i64, end: Option<i64>, latest: i64) -> Result<()> {
    if start < 0 {
        return Err(PortalError::InvalidParameter(format!("startingVersion {start} must be 0 or more")));
    }
    if start > latest {
        return Err(PortalError::InvalidParameter(format!("startingVersion {start} is after the latest available version {latest}")));
    }
    if let Some(end) = end {
        if end < start {
            return Err(PortalError::InvalidParameter(format!(
                "endingVersion {end} must be greater than or equal to startingVersion {start}"
            )));
        }
    }
    Ok(())
}
