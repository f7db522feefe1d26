//! Recipients: a partner, with properties (e.g. `partner_id`) that row scopes refer to, the
//! networks it may call from, and the identity provider its employees may sign in with.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::names::{self, NameKind};
use super::{conflict_or, new_id, now_ms, Catalog, OidcBinding, Recipient, RecipientLimits, DEFAULT_TEAM};
use crate::error::{PortalError, Result};

/// The columns [`recipient_from_row`] reads, from `recipients r` (a macro so queries can `concat!` it).
macro_rules! recipient_columns {
    () => {
        "r.id, r.name, r.comment, r.properties, r.created_at, r.team_id, r.ip_allow, r.oidc_issuer, r.oidc_email_domain, r.oidc_claim, r.downloads_allowed, r.max_download_rows, r.max_export_jobs_per_day"
    };
}
pub(super) use recipient_columns;
pub(super) const RECIPIENT_COLUMNS: &str = recipient_columns!();

/// What an admin may change on a recipient (the name and team are fixed once created).
#[derive(Clone, Debug, Default)]
pub struct RecipientFields {
    pub comment: Option<String>,
    pub properties: BTreeMap<String, String>,
    pub ip_allow: Vec<String>,
    pub oidc: Option<OidcBinding>,
}

impl Catalog {
    pub async fn create_recipient(&self, name: &str, comment: Option<&str>, properties: BTreeMap<String, String>) -> Result<Recipient> {
        let fields = RecipientFields { comment: comment.map(Into::into), properties, ..Default::default() };
        self.insert_recipient(name, DEFAULT_TEAM, fields).await
    }

    pub async fn insert_recipient(&self, name: &str, team_id: &str, fields: RecipientFields) -> Result<Recipient> {
        names::validate(NameKind::Recipient, name)?;
        let recipient = Recipient {
            id: new_id(),
            name: name.into(),
            comment: fields.comment,
            properties: fields.properties,
            created_at: now_ms(),
            team_id: team_id.into(),
            ip_allow: fields.ip_allow,
            oidc: fields.oidc,
            limits: RecipientLimits::default(),
        };
        let (issuer, domain, claim) = oidc_columns(&recipient.oidc);
        sqlx::query(
            "INSERT INTO recipients (id, name, name_key, comment, properties, created_at, team_id, ip_allow, oidc_issuer, oidc_email_domain, oidc_claim) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&recipient.id)
        .bind(&recipient.name)
        .bind(names::key(name))
        .bind(&recipient.comment)
        .bind(json(&recipient.properties)?)
        .bind(recipient.created_at)
        .bind(&recipient.team_id)
        .bind(json(&recipient.ip_allow)?)
        .bind(issuer)
        .bind(domain)
        .bind(claim)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or(e, || format!("recipient `{name}` already exists")))?;
        Ok(recipient)
    }

    pub async fn update_recipient(&self, id: &str, fields: &RecipientFields) -> Result<()> {
        let (issuer, domain, claim) = oidc_columns(&fields.oidc);
        sqlx::query(
            "UPDATE recipients SET comment = $2, properties = $3, ip_allow = $4, oidc_issuer = $5, oidc_email_domain = $6, oidc_claim = $7 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(&fields.comment)
        .bind(json(&fields.properties)?)
        .bind(json(&fields.ip_allow)?)
        .bind(issuer)
        .bind(domain)
        .bind(claim)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn set_recipient_limits(&self, id: &str, limits: &RecipientLimits) -> Result<()> {
        sqlx::query("UPDATE recipients SET downloads_allowed = $2, max_download_rows = $3, max_export_jobs_per_day = $4 WHERE id = $1")
            .bind(id)
            .bind(i64::from(limits.downloads))
            .bind(limits.max_rows.map(|n| n as i64))
            .bind(limits.jobs_per_day.map(i64::from))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes the recipient with its tokens, links, sessions, grants and export jobs.
    pub async fn delete_recipient(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM recipients WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn recipient(&self, name: &str) -> Result<Recipient> {
        self.recipient_where("r.name_key", &names::key(name))
            .await?
            .ok_or_else(|| PortalError::NotFound(format!("recipient `{name}` does not exist")))
    }

    /// The recipient with this id (a background job's owner).
    pub async fn recipient_by_id(&self, id: &str) -> Result<Recipient> {
        self.recipient_where("r.id", id).await?.ok_or_else(|| PortalError::NotFound(format!("there is no recipient {id}")))
    }

    /// `column` is one of this module's own column names, never input.
    async fn recipient_where(&self, column: &str, value: &str) -> Result<Option<Recipient>> {
        let sql = format!("SELECT {RECIPIENT_COLUMNS} FROM recipients r WHERE {column} = $1");
        sqlx::query(&sql).bind(value).fetch_optional(&self.pool).await?.map(|r| recipient_from_row(&r)).transpose()
    }

    /// Recipients of one team (or of all teams), in name order.
    pub async fn recipients_in(&self, team_id: Option<&str>) -> Result<Vec<Recipient>> {
        let sql = format!("SELECT {RECIPIENT_COLUMNS} FROM recipients r WHERE ($1 = '' OR r.team_id = $1) ORDER BY r.name_key");
        let rows = sqlx::query(&sql).bind(team_id.unwrap_or_default()).fetch_all(&self.pool).await?;
        rows.iter().map(recipient_from_row).collect()
    }

    /// Recipients whose employees sign in with this identity provider.
    pub async fn recipients_of_issuer(&self, issuer: &str) -> Result<Vec<Recipient>> {
        let sql = format!("SELECT {RECIPIENT_COLUMNS} FROM recipients r WHERE r.oidc_issuer = $1 ORDER BY r.name_key");
        let rows = sqlx::query(&sql).bind(issuer).fetch_all(&self.pool).await?;
        rows.iter().map(recipient_from_row).collect()
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| PortalError::fault("recipient fields as JSON", e))
}

fn oidc_columns(oidc: &Option<OidcBinding>) -> (Option<String>, Option<String>, Option<String>) {
    match oidc {
        Some(b) => (Some(b.issuer.clone()), b.email_domain.clone(), b.claim.clone()),
        None => (None, None, None),
    }
}

pub(super) fn recipient_from_row(r: &AnyRow) -> Result<Recipient> {
    let props: String = r.try_get("properties")?;
    let ip_allow: String = r.try_get("ip_allow")?;
    let issuer: Option<String> = r.try_get("oidc_issuer")?;
    Ok(Recipient {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        comment: r.try_get("comment")?,
        properties: serde_json::from_str(&props).map_err(|e| PortalError::fault("recipient properties", e))?,
        created_at: r.try_get("created_at")?,
        team_id: r.try_get("team_id")?,
        ip_allow: serde_json::from_str(&ip_allow).map_err(|e| PortalError::fault("recipient ip_allow", e))?,
        oidc: match issuer {
            Some(issuer) => Some(OidcBinding { issuer, email_domain: r.try_get("oidc_email_domain")?, claim: r.try_get("oidc_claim")? }),
            None => None,
        },
        limits: RecipientLimits {
            downloads: r.try_get::<i64, _>("downloads_allowed")? != 0,
            max_rows: r.try_get::<Option<i64>, _>("max_download_rows")?.map(|n| n.max(0) as u64),
            jobs_per_day: r.try_get::<Option<i64>, _>("max_export_jobs_per_day")?.map(|n| n.clamp(0, i64::from(u32::MAX)) as u32),
        },
    })
}
