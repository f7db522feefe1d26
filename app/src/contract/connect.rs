//! `/connect`: what a partner needs to connect their tools: the endpoint, their tokens, the
//! limits their data provider set, and a real table to put in the guides.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::views::{ColumnView, Loaded};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectView {
    pub partner: String,
    /// The Delta Sharing endpoint, as written in `.share` files.
    pub endpoint: String,
    /// Newest first.
    pub tokens: Vec<TokenRow>,
    pub max_days: u32,
    pub max_active: u32,
    /// A table shared with the partner, for the guides' examples.
    pub example: Option<ExampleTable>,
    /// A token created just now, shown this once.
    pub issued: Option<IssuedView>,
    /// The portal's OAuth token endpoint, for pipelines.
    pub token_endpoint: String,
    /// The partner's OAuth clients, newest first.
    pub clients: Vec<super::ClientSummary>,
    /// A client created or rotated just now, its secret shown this once.
    pub issued_client: Option<super::IssuedClientView>,
    /// One version-2 profile per federation policy: the partner's own identity provider.
    pub federation: Vec<FederationProfile>,
    /// The partner's webhooks, with their latest deliveries.
    #[serde(default)]
    pub webhooks: Vec<WebhookView>,
}

/// A partner's webhook: where the portal POSTs events, and the secret that signs them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    pub id: String,
    pub name: String,
    pub url: String,
    pub created_at: String,
    /// `whsec_…`: the receiver checks `X-Portal-Signature` with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Newest first.
    #[serde(default)]
    pub deliveries: Vec<WebhookDeliveryView>,
}

/// One event sent (or being sent) to a webhook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDeliveryView {
    pub id: String,
    pub event: String,
    /// `queued`, `sending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// What a pipeline needs to read with tokens of the partner's own identity provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederationProfile {
    pub name: String,
    pub issuer: String,
    /// The audiences the tokens must carry, and the claim and values that identify the pipeline.
    pub audiences: Vec<String>,
    pub subject_claim: String,
    pub subject_values: Vec<String>,
    /// The profile file's text, with placeholders for the client id and secret at the provider.
    pub profile: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub created: String,
    pub last_used: Option<String>,
    pub expires: Option<String>,
    /// `active`, `expired` or `revoked`.
    pub status: String,
    /// The token this browser signed in with.
    pub this_browser: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExampleTable {
    pub share: String,
    pub schema: String,
    pub name: String,
    /// Absolute URL of the table's CSV export (the Power Query source).
    pub csv_url: String,
    pub columns: Vec<ColumnView>,
}

impl ExampleTable {
    /// `share.schema.table`, as pandas and Spark name it.
    pub fn qualified(&self) -> String {
        format!("{}.{}.{}", self.share, self.schema, self.name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedView {
    pub name: String,
    pub token: String,
    pub expires: Option<String>,
    /// The `.share` profile file's text.
    pub profile: String,
}

/// The partner's connection page; `issued` is the one-time id of a token created just now,
/// `client` that of an OAuth client created or rotated just now.
#[server(prefix = "/_fn", input = server_fn::codec::GetUrl)]
pub async fn get_connect(issued: Option<String>, client: Option<String>) -> Result<Loaded<ConnectView>, ServerFnError> {
    let (backend, request) = crate::backend::current_request()?;
    let loaded = backend.connect(&request, issued.as_deref(), client.as_deref()).await;
    crate::backend::answer(&request, &loaded);
    if matches!(&loaded, Loaded::Ready(v) if v.issued.is_some() || v.issued_client.is_some()) {
        crate::backend::no_store();
    }
    Ok(loaded)
}
