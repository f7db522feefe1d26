//! The catalog's records, as the rest of the server sees them.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Share {
    pub id: String,
    pub name: String,
    pub comment: Option<String>,
    /// What recipients' tools show instead of the name (Get Share's `displayName`).
    pub display_name: Option<String>,
    /// Free-form facts recipients read with the share (`owner`, `region`, …).
    pub properties: BTreeMap<String, String>,
    pub created_at: i64,
    /// The provider team that governs the share.
    pub team_id: String,
}

/// A provider team: admins of a team govern only its shares and recipients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

/// The team every object belongs to unless said otherwise.
pub const DEFAULT_TEAM: &str = "default";

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
    /// The columns that identify a row (for net changes); empty: none declared.
    pub key_columns: Vec<String>,
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
    pub team_id: String,
    /// CIDRs the recipient may call from; empty = anywhere.
    pub ip_allow: Vec<String>,
    /// Employees of the partner may sign in with this identity provider.
    pub oidc: Option<OidcBinding>,
    pub limits: RecipientLimits,
}

/// What an admin lets a recipient download from the portal (files, not protocol reads).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RecipientLimits {
    /// CSV, Excel, export jobs and Power Query; browsing and the rows API stay open.
    pub downloads: bool,
    /// The most rows one download or export may hold.
    pub max_rows: Option<u64>,
    /// The most export jobs the recipient may start in 24 hours.
    pub jobs_per_day: Option<u32>,
}

impl Default for RecipientLimits {
    fn default() -> Self {
        Self { downloads: true, max_rows: None, jobs_per_day: None }
    }
}

/// Which people of an identity provider act as a recipient in the portal: the issuer, and a
/// verified email domain or a `claim=value` their ID token carries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OidcBinding {
    pub issuer: String,
    pub email_domain: Option<String>,
    pub claim: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TokenRecord {
    pub id: String,
    pub recipient_id: String,
    /// What the partner called it ("Power BI refresh"); tokens from the CLI may have none.
    pub name: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl TokenRecord {
    /// A new token's record, not yet stored.
    pub fn new(recipient_id: &str, name: Option<&str>, expires_at: Option<i64>) -> Self {
        Self {
            id: super::tokens::short_id(),
            recipient_id: recipient_id.into(),
            name: name.map(String::from),
            created_at: super::now_ms(),
            expires_at,
            last_used_at: None,
            revoked_at: None,
        }
    }

    /// The token of a single sign-on browser session: it ends with the session, so it neither
    /// counts against the partner's token limit nor makes the recipient look `expiring`.
    pub fn is_single_sign_on(&self) -> bool {
        self.name.as_deref().is_some_and(|n| n.starts_with(SSO_TOKEN_PREFIX))
    }

    pub fn status(&self, now: i64) -> TokenStatus {
        TokenStatus::of(self.revoked_at, self.expires_at, now)
    }
}

/// Whether a token still opens the door, at a given moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Expired,
    Revoked,
}

impl TokenStatus {
    /// Revoked, else expired by `now`, else active: the same for tokens and OAuth clients.
    pub fn of(revoked_at: Option<i64>, expires_at: Option<i64>, now: i64) -> Self {
        if revoked_at.is_some() {
            Self::Revoked
        } else if expires_at.is_some_and(|e| e <= now) {
            Self::Expired
        } else {
            Self::Active
        }
    }

    /// As the API and the pages name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

impl std::fmt::Display for TokenStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// How the token of a single sign-on browser session is named ("Single sign-on: ann@acme.example").
pub const SSO_TOKEN_PREFIX: &str = "Single sign-on: ";

/// What the catalog knows of an activation link, looked up by its code's hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivationLink {
    pub id: String,
    pub recipient: Recipient,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// An activation link as admins list it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LinkRecord {
    pub id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl LinkRecord {
    pub fn status(&self, now: i64) -> &'static str {
        if self.used_at.is_some() {
            "used"
        } else if self.expires_at <= now {
            "expired"
        } else {
            "pending"
        }
    }
}

/// An admin API token (its hash stays in the catalog).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdminToken {
    pub id: String,
    pub name: String,
    /// `None`: platform scope.
    pub team_id: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
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
    /// Rows a partner read (table previews and API pages).
    pub rows: Option<i64>,
    pub detail: Option<String>,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
    /// The recipient the event concerns (for a partner's own reads, filled in from the actor).
    pub recipient: Option<String>,
    /// The share the event concerns, where known.
    pub share: Option<String>,
    /// The team an admin action concerned.
    pub team_id: Option<String>,
}

/// A page of a keyset-paginated listing; `next` is the last key when more may follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Vec<String>>,
}

/// Where a background export is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
    /// Finished, and its file deleted (expired or deleted by the partner).
    Expired,
}

impl JobStatus {
    pub const ALL: [Self; 6] = [Self::Queued, Self::Running, Self::Done, Self::Failed, Self::Cancelled, Self::Expired];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn is_unfinished(self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }
}

/// A background export of one table view, owned by one recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportJob {
    pub id: String,
    pub recipient_id: String,
    pub share: String,
    pub schema: String,
    pub table: String,
    /// `xlsx` or `csv`.
    pub format: String,
    /// The CSV dialect (`plain`, `excel`, `excel-eu`); empty for xlsx.
    pub dialect: String,
    /// The view, in the table page's grammar.
    pub view: String,
    /// The filters in words.
    pub description: String,
    pub status: JobStatus,
    pub rows_written: i64,
    pub rows_total: Option<i64>,
    pub bytes: Option<i64>,
    pub file_name: Option<String>,
    pub error: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// The scheduled delivery that started it, if one did.
    pub delivery_id: Option<String>,
}

/// An external location: a URL prefix (local directory or object-store prefix) that platform
/// admins grant to teams; a team admin adds tables only under its team's locations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    pub id: String,
    pub name: String,
    /// Normalised: a canonical local directory, or `scheme://authority/key/prefix`.
    pub url: String,
    pub comment: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    /// Ids of the teams it is granted to.
    pub team_ids: Vec<String>,
}
