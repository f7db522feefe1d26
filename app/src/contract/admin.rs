//! The admin console's records: what the admin API returns as JSON and the console pages render
//! (the pages load them with the server functions in `admin_fns`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::views::CatalogView;

/// Who is signed in to the console.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSessionView {
    pub actor: String,
    /// `None`: platform admin (every team).
    pub team: Option<String>,
    /// The form token for this browser's forms.
    pub csrf: String,
    /// What the last form did, as the portal wrote it for this session (never text from the URL).
    #[serde(default)]
    pub outcome: FormOutcome,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamView {
    pub name: String,
    pub created_at: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcView {
    pub issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_domain: Option<String>,
    /// `name=value` the ID token must carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecipientSummary {
    pub name: String,
    pub comment: Option<String>,
    pub team: String,
    pub properties: BTreeMap<String, String>,
    pub ip_allow_list: Vec<String>,
    pub oidc: Option<OidcView>,
    /// `new`, `invited`, `activated`, `expiring`, `expired` or `revoked`.
    pub status: String,
    pub last_access: Option<String>,
    pub rows_read: i64,
    pub bytes_read: i64,
    pub created_at: String,
    pub limits: super::DownloadLimits,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenSummary {
    pub id: String,
    pub name: Option<String>,
    pub status: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkSummary {
    pub id: String,
    /// `pending`, `used` or `expired`.
    pub status: String,
    pub created_at: String,
    pub expires_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecipientDetail {
    #[serde(flatten)]
    pub summary: RecipientSummary,
    pub tokens: Vec<TokenSummary>,
    pub activation_links: Vec<LinkSummary>,
    pub grants: Vec<String>,
    /// Newest first.
    #[serde(default)]
    pub oauth_clients: Vec<ClientSummary>,
    #[serde(default)]
    pub federation_policies: Vec<FederationPolicyView>,
    /// The people the portal e-mails about this recipient's data.
    #[serde(default)]
    pub contacts: Vec<ContactView>,
    /// The latest e-mails to them, newest first.
    #[serde(default)]
    pub notifications: Vec<NotificationView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactView {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    /// Kinds of e-mail the contact declined: `expiry`, `new-table`, `delivery`.
    pub opted_out: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationView {
    pub to: String,
    pub kind: String,
    pub subject: String,
    /// `queued`, `sending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// An OAuth client of a recipient's pipeline (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientSummary {
    pub id: String,
    pub client_id: String,
    pub name: String,
    /// `active`, `expired` or `revoked`.
    pub status: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    /// Until when the secret before the last rotation still works.
    pub previous_secret_until: Option<String>,
}

/// A client just created or rotated: its secret, shown this once, and the profile to download.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedClientView {
    pub client: ClientSummary,
    pub client_secret: String,
    /// The version-2 `oauth_client_credentials` profile's text.
    pub profile: String,
}

/// Which JWTs of the partner's own identity provider act as the recipient.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FederationPolicyView {
    #[serde(default)]
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub audiences: Vec<String>,
    pub subject_claim: String,
    pub subject_values: Vec<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareSummary {
    pub name: String,
    pub comment: Option<String>,
    pub display_name: Option<String>,
    pub team: String,
    pub tables: usize,
    pub grants: usize,
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableDetail {
    pub schema: String,
    pub name: String,
    pub location: String,
    pub comment: Option<String>,
    pub history: bool,
    /// `COLUMN=PROPERTY`.
    pub scope: Option<String>,
    /// The columns that identify a row (partners' net changes); empty: none declared.
    #[serde(default)]
    pub key_columns: Vec<String>,
    /// Empty when the table cannot be read right now (`problem` says why).
    pub columns: Vec<SchemaColumn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The external location the table lies under; `None`: outside every location (platform
    /// admins are asked to bring it under one).
    #[serde(default)]
    pub external_location: Option<String>,
    /// Whose credentials read an object-store table: a `[[storage]]` prefix or the store's
    /// environment variables; `None` for a local table. Never the credentials themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
}

/// An external location: a URL prefix platform admins grant to teams; team admins add tables
/// only under their team's locations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationView {
    pub name: String,
    /// A local directory or an object-store prefix (`s3://bucket/path`).
    pub url: String,
    pub comment: Option<String>,
    /// Teams it is granted to.
    pub teams: Vec<String>,
    pub created_by: String,
    pub created_at: String,
    /// Tables (of any share) under it.
    pub tables: u32,
}

/// A shared table that lies under no external location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutsideTable {
    pub share: String,
    pub table: String,
    pub location: String,
    pub team: String,
}

/// `/admin/locations`: the locations the admin may use (platform admins: all, with their
/// grants, and the tables outside every location).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminLocationsView {
    pub session: AdminSessionView,
    pub locations: Vec<LocationView>,
    pub teams: Vec<String>,
    pub outside: Vec<OutsideTable>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareDetail {
    pub name: String,
    pub comment: Option<String>,
    pub display_name: Option<String>,
    pub properties: BTreeMap<String, String>,
    pub team: String,
    pub created_at: String,
    pub tables: Vec<TableDetail>,
    pub grants: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object: Option<String>,
    pub status: i64,
    pub rows: Option<i64>,
    pub files: Option<i64>,
    pub bytes: Option<i64>,
    pub detail: Option<String>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiTokenView {
    pub id: String,
    pub name: String,
    /// `None`: platform scope.
    pub team: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    /// `active` or `revoked`.
    pub status: String,
}

/// A new activation link (shown to the admin once, to copy and send).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedLink {
    pub url: String,
    pub expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_tokens_expire_at: Option<String>,
}

/// The audit page's filters, as its URL carries them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub recipient: Option<String>,
    pub share: Option<String>,
    pub action: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`.
    pub from: Option<String>,
    pub to: Option<String>,
}

impl AuditQuery {
    /// The query string (without `?`) of these filters.
    pub fn to_query_string(&self) -> String {
        let pairs =
            [("recipient", &self.recipient), ("share", &self.share), ("action", &self.action), ("from", &self.from), ("to", &self.to)];
        pairs
            .iter()
            .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| format!("{k}={}", super::grammar::encode(v))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// What a console page shows after a form: a message, and the field it belongs to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormOutcome {
    pub error: Option<String>,
    pub field: Option<String>,
    pub notice: Option<String>,
}

/// `/admin`: the team's recipients (those matching `search`, at most [`AdminHomeView::SHOWN`])
/// and shares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminHomeView {
    pub session: AdminSessionView,
    pub search: String,
    pub recipients: Vec<RecipientSummary>,
    /// Recipients matching the search, shown or not.
    pub matching: usize,
    pub shares: Vec<ShareSummary>,
    /// Teams the admin may put new objects in.
    pub teams: Vec<String>,
    /// The team's partners' reads over the last days.
    pub usage: super::UsageView,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdminRecipientView {
    pub session: AdminSessionView,
    pub recipient: RecipientDetail,
    /// Shares of the recipient's team not granted yet.
    pub grantable: Vec<String>,
    /// A link created just now, shown once.
    pub issued: Option<IssuedLink>,
    /// An OAuth client created or rotated just now, its secret shown once.
    pub issued_client: Option<IssuedClientView>,
    /// The portal home as this recipient sees it.
    pub sees: CatalogView,
    /// The recipient's reads over the last days.
    pub usage: super::UsageView,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminShareView {
    pub session: AdminSessionView,
    pub share: ShareDetail,
    /// Recipients of the share's team without a grant.
    pub grantable: Vec<String>,
    /// URLs of the locations the admin's team may add tables under (platform admins: all).
    pub locations: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminAuditView {
    pub session: AdminSessionView,
    pub query: AuditQuery,
    pub events: Vec<AuditRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminTeamsView {
    pub session: AdminSessionView,
    pub teams: Vec<TeamView>,
    pub tokens: Vec<ApiTokenView>,
    /// An API token created just now, shown once.
    pub issued_token: Option<String>,
}

/// `/admin/onboard`: the five onboarding steps in one flow; the URL carries the share and the
/// recipient picked so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdminOnboardView {
    pub session: AdminSessionView,
    /// 1 share, 2 tables, 3 recipient, 4 grant, 5 activation link.
    pub step: u8,
    pub shares: Vec<String>,
    pub recipients: Vec<String>,
    pub teams: Vec<String>,
    pub share: Option<ShareDetail>,
    pub recipient: Option<RecipientDetail>,
    pub issued: Option<IssuedLink>,
    /// The portal home as the recipient will see it (last step).
    pub sees: Option<CatalogView>,
    /// URLs of the locations the admin's team may add tables under (platform admins: all).
    pub locations: Vec<String>,
}

/// `/admin/shares/:name/preview?table=&as=`: the first rows of a table as a recipient sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminPreviewView {
    pub session: AdminSessionView,
    pub share: String,
    /// `schema.table`.
    pub table: String,
    /// The recipient previewed as (`None` when the share is granted to no one).
    pub recipient: Option<String>,
    /// Recipients the share is granted to.
    pub recipients: Vec<String>,
    pub description: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub count: Option<u64>,
    /// Why no rows could be shown.
    pub problem: Option<String>,
}

/// What the sign-in page offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminLoginView {
    /// Single sign-on is configured.
    pub sso: bool,
    pub csrf: String,
}

/// A one-time admin sign-in link, as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminLinkState {
    Ready { team: Option<String> },
    Used,
    Unknown,
}
