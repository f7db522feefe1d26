//! The catalog's records, as the rest of the server sees them.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Share {
    pub id: String,
    pub name: String,
    pub comment: Option<String>,
    pub created_at: i64,
}

/// Row-level scope: a recipient sees only rows whose `column` equals its `property`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Scope {
    pub column: String,
    pub property: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SharedTable {
    pub id: String,
    pub share_id: String,
    pub share_name: String,
    pub schema_name: String,
    pub name: String,
    pub location: String,
    pub comment: Option<String>,
    pub history_shared: bool,
    pub scope: Option<Scope>,
    pub created_at: i64,
}

impl SharedTable {
    /// `share.schema.table`, as clients and the CLI write it.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}.{}", self.share_name, self.schema_name, self.name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recipient {
    pub id: String,
    pub name: String,
    pub comment: Option<String>,
    pub properties: BTreeMap<String, String>,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    pub id: String,
    pub recipient_id: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl TokenRecord {
    pub fn status(&self, now: i64) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at.is_some_and(|e| e <= now) {
            "expired"
        } else {
            "active"
        }
    }
}

/// What the catalog knows of an activation link, looked up by its code's hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivationLink {
    pub id: String,
    pub recipient: Recipient,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// One line of the audit log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    pub at: i64,
    /// `recipient:<name>`, `admin:cli`, or `anonymous`.
    pub actor: String,
    pub action: String,
    pub object: Option<String>,
    pub status: i64,
    pub files: Option<i64>,
    pub bytes: Option<i64>,
    pub detail: Option<String>,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
}

/// A page of a keyset-paginated listing; `next` is the last key when more may follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Vec<String>>,
}
