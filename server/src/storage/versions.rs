//! Which version of a table's log a requested version or time names, with the protocol's
//! wording when the log does not have it.

use crate::error::{PortalError, Result};

/// A requested version must be one the log still has: never a server error for a client's number.
pub fn check_version(times: &[(i64, i64)], v: i64) -> Result<i64> {
    let (Some(first), Some(last)) = (times.first(), times.last()) else {
        return Err(PortalError::InvalidParameter("the table has no commits".into()));
    };
    if v > last.0 {
        return Err(PortalError::InvalidParameter(format!("version {v} is after the latest available version {}", last.0)));
    }
    if v < first.0 {
        return Err(PortalError::InvalidParameter(format!("version {v} is before the earliest available version {}", first.0)));
    }
    Ok(v)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The snapshot as it was at the time: the last commit at or before it.
    AtOrBefore,
    /// The first commit at or after the time (for `startingTimestamp`).
    AtOrAfter,
}

/// Finds the version for a timestamp, with the protocol's wording for out-of-range times.
pub fn resolve_timestamp(times: &[(i64, i64)], ts: i64, direction: Direction) -> Result<i64> {
    let (Some(first), Some(last)) = (times.first(), times.last()) else {
        return Err(PortalError::InvalidParameter("the table has no commits".into()));
    };
    let when = crate::primitives::time::rfc3339_ms(ts);
    let after_latest = || {
        PortalError::InvalidParameter(format!(
            "The provided timestamp ({when}) is after the latest available version {}. Please use a timestamp less than or equal to {}.",
            last.0,
            crate::primitives::time::rfc3339_ms(last.1)
        ))
    };
    // As the reference server: a time after the last commit is not "the latest snapshot" (that
    // commit may still be followed by one with an earlier time on another writer's clock).
    if direction == Direction::AtOrBefore && ts > last.1 {
        return Err(after_latest());
    }
    match direction {
        Direction::AtOrBefore => times.iter().rev().find(|(_, t)| *t <= ts).map(|(v, _)| *v).ok_or_else(|| {
            PortalError::InvalidParameter(format!(
                "The provided timestamp ({when}) is before the earliest available version {}. Please use a timestamp greater than or equal to {}.",
                first.0,
                crate::primitives::time::rfc3339_ms(first.1)
            ))
        }),
        Direction::AtOrAfter => times.iter().find(|(_, t)| *t >= ts).map(|(v, _)| *v).ok_or_else(after_latest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_outside_the_log_are_client_errors() {
        let times = [(3, 1000), (4, 2000)];
        assert_eq!(check_version(&times, 4).unwrap(), 4);
        assert!(check_version(&times, 5).unwrap_err().to_string().contains("after the latest available version 4"));
        assert!(check_version(&times, 2).unwrap_err().to_string().contains("before the earliest available version 3"));
        assert_eq!(check_version(&times, 9).unwrap_err().status(), 400);
    }

    #[test]
    fn timestamps_resolve_in_both_directions() {
        let times = [(0, 1000), (1, 2000), (2, 3000)];
        assert_eq!(resolve_timestamp(&times, 2500, Direction::AtOrBefore).unwrap(), 1);
        assert_eq!(resolve_timestamp(&times, 2000, Direction::AtOrBefore).unwrap(), 1);
        assert_eq!(resolve_timestamp(&times, 2500, Direction::AtOrAfter).unwrap(), 2);
        assert_eq!(resolve_timestamp(&times, 3000, Direction::AtOrBefore).unwrap(), 2);
        // As Delta's time travel (`canReturnLastCommit = false`): no snapshot "as of" the future.
        let future = resolve_timestamp(&times, 9000, Direction::AtOrBefore).unwrap_err();
        assert!(future.to_string().contains("is after the latest available version 2"), "{future}");
        let early = resolve_timestamp(&times, 10, Direction::AtOrBefore).unwrap_err().to_string();
        assert!(early.contains("before the earliest available version") && early.contains("Please use a timestamp greater"));
        let late = resolve_timestamp(&times, 9000, Direction::AtOrAfter).unwrap_err().to_string();
        assert!(late.contains("is after the latest available version") && late.contains("Please use a timestamp less"));
    }
}
