//! Name rules of the Delta Sharing protocol (PROTOCOL.md, "Delta Sharing name rules").

use crate::error::{PortalError, Result};

/// What a name names, for messages and for the `.` rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    Share,
    Schema,
    Table,
    Recipient,
    Team,
    Location,
}

impl NameKind {
    fn label(self) -> &'static str {
        match self {
            Self::Share => "share",
            Self::Schema => "schema",
            Self::Table => "table",
            Self::Recipient => "recipient",
            Self::Team => "team",
            Self::Location => "location",
        }
    }
}

/// At most 255 characters; no space, `/`, or control characters; schemas and tables also no `.`.
pub fn validate(kind: NameKind, name: &str) -> Result<()> {
    let label = kind.label();
    let bad = |why: &str| Err(PortalError::InvalidParameter(format!("invalid {label} name `{}`: {why}", name.escape_debug())));
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.chars().count() > 255 {
        return bad("it is longer than 255 characters");
    }
    if let Some(c) = name.chars().find(|c| *c == ' ' || *c == '/' || c.is_ascii_control()) {
        return bad(&format!("it contains {:?}", c));
    }
    if matches!(kind, NameKind::Schema | NameKind::Table) && name.contains('.') {
        return bad("schema and table names cannot contain `.`");
    }
    Ok(())
}

/// The lookup key: names are case-insensitive.
pub fn key(name: &str) -> String {
    name.to_lowercase()
}

/// Splits `share.schema.table`. Schema and table names have no `.`, so a share name may.
pub fn split_qualified(qualified: &str) -> Result<(&str, &str, &str)> {
    let mut parts = qualified.rsplitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(table), Some(schema), Some(share)) if !table.is_empty() && !schema.is_empty() && !share.is_empty() => {
            Ok((share, schema, table))
        }
        _ => Err(PortalError::InvalidParameter(format!("`{qualified}` is not of the form <share>.<schema>.<table>"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_protocol_names() {
        for n in ["sales", "Sales_2024", "ünïcode", "a-b", &"x".repeat(255)] {
            validate(NameKind::Table, n).unwrap();
        }
        validate(NameKind::Share, "retail.eu").unwrap();
    }

    #[test]
    fn refuses_what_the_protocol_forbids() {
        for (kind, n) in [
            (NameKind::Share, ""),
            (NameKind::Share, "has space"),
            (NameKind::Share, "a/b"),
            (NameKind::Share, "tab\tname"),
            (NameKind::Share, "del\u{7f}"),
            (NameKind::Schema, "a.b"),
            (NameKind::Table, "a.b"),
        ] {
            let err = validate(kind, n).unwrap_err();
            assert!(err.to_string().starts_with("invalid"), "{err}");
        }
        assert!(validate(NameKind::Table, &"x".repeat(256)).is_err());
    }

    #[test]
    fn splits_from_the_right() {
        assert_eq!(split_qualified("retail.eu.sales.daily").unwrap(), ("retail.eu", "sales", "daily"));
        assert!(split_qualified("a.b").is_err());
        assert!(split_qualified("a..c").is_err());
    }
}
