//! Recipients as admins govern them: create, edit, delete, invite, rotate and revoke.

use std::collections::BTreeMap;

use app::contract::{DownloadLimits, IssuedLink, OidcView, RecipientDetail, RecipientSummary};
use serde::Deserialize;

use super::{name_field, recipient_for, record, team_for_new, text, views, Admin, Change};
use crate::auth::credentials::DEFAULT_ACTIVATION_TTL_HOURS;
use crate::auth::network::parse_allow_list;
use crate::catalog::{now_ms, OidcBinding, Recipient, RecipientFields};
use crate::error::{PortalError, Result};
use crate::primitives::time::rfc3339_ms;
use crate::{export, Services};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewRecipient {
    pub name: String,
    pub comment: Option<String>,
    pub team: Option<String>,
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    #[serde(default)]
    pub ip_allow_list: Vec<String>,
    pub oidc: Option<OidcView>,
}

/// Fields left out stay as they are; an `oidc` with an empty issuer removes the binding.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecipientPatch {
    pub comment: Option<String>,
    pub properties: Option<BTreeMap<String, String>>,
    pub ip_allow_list: Option<Vec<String>>,
    pub oidc: Option<OidcView>,
}

pub async fn list(s: &Services, admin: &Admin) -> Result<Vec<RecipientSummary>> {
    let usage = s.catalog.usage(None).await?;
    let teams = team_names(s).await?;
    let tokens = s.catalog.tokens_by_recipient(admin.team_filter()).await?;
    let links = s.catalog.links_by_recipient(admin.team_filter()).await?;
    let now = now_ms();
    let recipients = s.catalog.recipients_in(admin.team_filter()).await?;
    Ok(recipients
        .iter()
        .map(|r| {
            let status =
                views::status(tokens.get(&r.id).map_or(&[][..], Vec::as_slice), links.get(&r.id).map_or(&[][..], Vec::as_slice), now);
            views::summary(r, team_name(&teams, &r.team_id), status, usage.get(&r.name.to_lowercase()))
        })
        .collect())
}

pub async fn detail(s: &Services, admin: &Admin, name: &str) -> Result<RecipientDetail> {
    let r = recipient_for(s, admin, name).await?;
    detail_of(s, &r).await
}

/// The detail of a recipient already looked up (and checked) by the caller.
pub async fn detail_of(s: &Services, r: &Recipient) -> Result<RecipientDetail> {
    let now = now_ms();
    let tokens = s.catalog.tokens_of(&r.name).await?;
    let links = s.catalog.links_of(&r.id).await?;
    let usage = s.catalog.usage(Some(&r.name)).await?;
    let team = s.catalog.team_by_id(&r.team_id).await?;
    let status = views::status(&tokens, &links, now);
    Ok(RecipientDetail {
        summary: views::summary(r, &team.name, status, usage.get(&r.name.to_lowercase())),
        tokens: tokens.iter().rev().map(|t| views::token(t, now)).collect(),
        activation_links: links.iter().map(|l| views::link(l, now)).collect(),
        grants: s.catalog.grants_of(&r.id).await?,
        oauth_clients: s.catalog.clients_of(&r.id).await?.iter().rev().map(|c| views::client(c, now)).collect(),
        federation_policies: s.catalog.federation_policies_of(&r.id).await?.iter().map(views::policy).collect(),
        contacts: s.catalog.contacts_of(&r.id).await?.iter().map(views::contact).collect(),
        notifications: s.catalog.messages_of(&r.id, 20).await?.iter().map(views::notification).collect(),
    })
}

pub async fn create(s: &Services, admin: &Admin, new: NewRecipient) -> Result<RecipientDetail> {
    let mut change = Change::new("createRecipient", new.name.clone());
    change.recipient = Some(new.name.clone());
    let result = async {
        let team = team_for_new(s, admin, new.team.as_deref()).await?;
        let fields = fields(new.comment.as_deref(), new.properties, &new.ip_allow_list, new.oidc)?;
        let r = s.catalog.insert_recipient(new.name.trim(), &team.id, fields).await.map_err(|e| name_field(e, "name"))?;
        detail_of(s, &r).await.map(|d| (d, team.id))
    }
    .await;
    finish(s, admin, change, result, None).await
}

pub async fn update(s: &Services, admin: &Admin, name: &str, patch: RecipientPatch) -> Result<RecipientDetail> {
    let r = recipient_for(s, admin, name).await?;
    let before = detail_of(s, &r).await?.summary;
    let mut change = Change::new("updateRecipient", r.name.clone());
    change.recipient = Some(r.name.clone());
    let result = async {
        let fields = fields(
            patch.comment.as_deref().or(r.comment.as_deref()),
            patch.properties.unwrap_or_else(|| r.properties.clone()),
            patch.ip_allow_list.as_deref().unwrap_or(&r.ip_allow),
            match patch.oidc {
                Some(view) => Some(view),
                None => r.oidc.as_ref().map(views::oidc_view),
            },
        )?;
        s.catalog.update_recipient(&r.id, &fields).await?;
        let after = s.catalog.recipient(&r.name).await?;
        detail_of(s, &after).await.map(|d| (d, r.team_id.clone()))
    }
    .await;
    finish(s, admin, change, result, Some(serde_json::to_value(&before).unwrap_or_default())).await
}

pub async fn delete(s: &Services, admin: &Admin, name: &str) -> Result<()> {
    let r = recipient_for(s, admin, name).await?;
    let before = detail_of(s, &r).await?;
    s.catalog.delete_recipient(&r.id).await?;
    let mut change = Change::new("deleteRecipient", r.name.clone());
    change.recipient = Some(r.name.clone());
    change.team_id = Some(r.team_id.clone());
    change.before = serde_json::to_value(&before.summary).ok();
    record(s, admin, change, 200).await;
    Ok(())
}

/// Sets what the recipient may download (`admin.setRecipientLimits`, with before and after).
pub async fn set_limits(s: &Services, admin: &Admin, name: &str, limits: DownloadLimits) -> Result<RecipientDetail> {
    let r = recipient_for(s, admin, name).await?;
    let before = export::limits::view(&r.limits);
    let mut change = Change::new("setRecipientLimits", r.name.clone());
    change.recipient = Some(r.name.clone());
    change.team_id = Some(r.team_id.clone());
    change.before = serde_json::to_value(before).ok();
    let result = async {
        s.catalog.set_recipient_limits(&r.id, &export::limits::from_view(&limits)?).await?;
        detail_of(s, &s.catalog.recipient(&r.name).await?).await
    }
    .await;
    match &result {
        Ok(detail) => {
            change.after = serde_json::to_value(detail.summary.limits).ok();
            record(s, admin, change, 200).await;
        }
        Err(e) => record(s, admin, change, e.status().as_u16()).await,
    }
    result
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewContact {
    pub email: String,
    pub name: Option<String>,
}

/// Adds a person the portal e-mails about the recipient's data (`admin.addContact`).
pub async fn add_contact(s: &Services, admin: &Admin, name: &str, new: NewContact) -> Result<RecipientDetail> {
    let r = recipient_for(s, admin, name).await?;
    let email = new.email.trim();
    let mut change = Change::new("addContact", format!("{}/{email}", r.name));
    change.recipient = Some(r.name.clone());
    change.team_id = Some(r.team_id.clone());
    let result = async {
        if email.len() > 254 || email.parse::<lettre::Address>().is_err() {
            return Err(PortalError::field("email", format!("`{email}` is not an e-mail address")));
        }
        s.catalog.add_contact(&r.id, email, text(new.name.as_deref()).as_deref()).await?;
        detail_of(s, &r).await
    }
    .await;
    let status = result.as_ref().map_or_else(|e| e.status().as_u16(), |_| 200);
    record(s, admin, change, status).await;
    result
}

/// Removes a contact (`admin.removeContact`); another recipient's contact is "missing".
pub async fn remove_contact(s: &Services, admin: &Admin, name: &str, contact_id: &str) -> Result<RecipientDetail> {
    let r = recipient_for(s, admin, name).await?;
    let contact = s.catalog.contact(contact_id).await?.filter(|c| c.recipient_id == r.id);
    let Some(contact) = contact else {
        return Err(PortalError::NotFound(format!("recipient `{}` has no contact {contact_id}", r.name)));
    };
    s.catalog.remove_contact(&r.id, &contact.id).await?;
    let mut change = Change::new("removeContact", format!("{}/{}", r.name, contact.email));
    change.recipient = Some(r.name.clone());
    change.team_id = Some(r.team_id.clone());
    record(s, admin, change, 200).await;
    detail_of(s, &r).await
}

/// A new one-time activation link for the recipient.
pub async fn activation_link(s: &Services, admin: &Admin, name: &str, ttl_hours: Option<u32>) -> Result<IssuedLink> {
    let r = recipient_for(s, admin, name).await?;
    let ttl = ttl_hours.unwrap_or(DEFAULT_ACTIVATION_TTL_HOURS);
    if ttl == 0 || ttl > 24 * 30 {
        return Err(PortalError::field("ttlHours", "the link must last between 1 hour and 30 days"));
    }
    let code = s.credentials.create_activation_link(&r.name, ttl).await?;
    let issued = IssuedLink {
        url: format!("{}/activate/{code}", s.settings.public_url),
        expires_at: rfc3339_ms(now_ms() + i64::from(ttl) * 3_600_000),
        old_tokens_expire_at: None,
    };
    let mut change = Change::new("createActivationLink", r.name.clone());
    change.recipient = Some(r.name.clone());
    change.team_id = Some(r.team_id.clone());
    change.after = Some(serde_json::json!({ "expiresAt": issued.expires_at }));
    record(s, admin, change, 200).await;
    Ok(issued)
}

/// Databricks-style rotation: every active token ends after `overlap_hours` (0 = now), and a
/// new activation link hands out the new token.
pub async fn rotate(s: &Services, admin: &Admin, name: &str, overlap_hours: u32) -> Result<IssuedLink> {
    let r = recipient_for(s, admin, name).await?;
    if overlap_hours > 24 * 30 {
        return Err(PortalError::field("overlapHours", "the overlap can be at most 30 days (720 hours)"));
    }
    let ends = now_ms() + i64::from(overlap_hours) * 3_600_000;
    let changed = s.catalog.expire_active_tokens(&r.id, ends).await?;
    let code = s.credentials.create_activation_link(&r.name, DEFAULT_ACTIVATION_TTL_HOURS).await?;
    let issued = IssuedLink {
        url: format!("{}/activate/{code}", s.settings.public_url),
        expires_at: rfc3339_ms(now_ms() + i64::from(DEFAULT_ACTIVATION_TTL_HOURS) * 3_600_000),
        old_tokens_expire_at: Some(rfc3339_ms(ends)),
    };
    let mut change = Change::new("rotateTokens", r.name.clone());
    change.recipient = Some(r.name.clone());
    change.team_id = Some(r.team_id.clone());
    change.after = Some(serde_json::json!({ "tokensEnding": changed, "oldTokensExpireAt": issued.old_tokens_expire_at }));
    record(s, admin, change, 200).await;
    Ok(issued)
}

pub async fn revoke_token(s: &Services, admin: &Admin, name: &str, token_id: &str) -> Result<RecipientDetail> {
    let r = recipient_for(s, admin, name).await?;
    s.catalog.revoke_token(&r.name, token_id).await?;
    let mut change = Change::new("revokeToken", format!("{}/{token_id}", r.name));
    change.recipient = Some(r.name.clone());
    change.team_id = Some(r.team_id.clone());
    record(s, admin, change, 200).await;
    detail_of(s, &r).await
}

/// Validates what an admin typed; nothing is stored unless all of it is good.
fn fields(
    comment: Option<&str>,
    properties: BTreeMap<String, String>,
    ip_allow: &[String],
    oidc: Option<OidcView>,
) -> Result<RecipientFields> {
    let mut clean = BTreeMap::new();
    for (k, v) in properties {
        let key = k.trim();
        if key.is_empty() || key.contains(['=', '\n']) {
            return Err(PortalError::field("properties", format!("property name `{k}` must be a word like partner_id")));
        }
        clean.insert(key.to_string(), v.trim().to_string());
    }
    let oidc = match oidc {
        None => None,
        Some(v) if v.issuer.trim().is_empty() => None,
        Some(v) => Some(binding(v)?),
    };
    Ok(RecipientFields { comment: text(comment), properties: clean, ip_allow: parse_allow_list(ip_allow)?, oidc })
}

fn binding(v: OidcView) -> Result<OidcBinding> {
    let issuer = v.issuer.trim().trim_end_matches('/').to_string();
    let url = url::Url::parse(&issuer).map_err(|_| PortalError::field("oidc", format!("issuer `{issuer}` is not a URL")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(PortalError::field("oidc", "the issuer must be an https URL"));
    }
    let email_domain = text(v.email_domain.as_deref()).map(|d| d.trim_start_matches('@').to_lowercase());
    let claim = text(v.claim.as_deref());
    if let Some(c) = &claim {
        if !c.split_once('=').is_some_and(|(k, v)| !k.trim().is_empty() && !v.trim().is_empty()) {
            return Err(PortalError::field("oidc", format!("claim `{c}` is not of the form name=value")));
        }
    }
    if email_domain.is_none() && claim.is_none() {
        return Err(PortalError::field(
            "oidc",
            "say which people of the identity provider act as this recipient: an email domain or a claim",
        ));
    }
    Ok(OidcBinding { issuer, email_domain, claim })
}

/// Writes the audit line (with the team and the new state) and hands back the result.
async fn finish(
    s: &Services,
    admin: &Admin,
    mut change: Change<'_>,
    result: Result<(RecipientDetail, String)>,
    before: Option<serde_json::Value>,
) -> Result<RecipientDetail> {
    change.before = before;
    match result {
        Ok((detail, team_id)) => {
            change.team_id = Some(team_id);
            change.after = serde_json::to_value(&detail.summary).ok();
            record(s, admin, change, 200).await;
            Ok(detail)
        }
        Err(e) => {
            change.team_id = admin.team.as_ref().map(|t| t.id.clone());
            record(s, admin, change, e.status().as_u16()).await;
            Err(e)
        }
    }
}

pub(super) async fn team_names(s: &Services) -> Result<Vec<(String, String)>> {
    Ok(s.catalog.teams().await?.into_iter().map(|t| (t.id, t.name)).collect())
}

pub(super) fn team_name<'a>(teams: &'a [(String, String)], id: &'a str) -> &'a str {
    teams.iter().find(|(tid, _)| tid == id).map_or(id, |(_, name)| name.as_str())
}
