//! Recipients: a partner, with properties (e.g. `partner_id`) that row scopes refer to.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::names::{self, NameKind};
use super::{conflict_or, new_id, now_ms, Catalog, Recipient};
use crate::error::{PortalError, Result};

pub(super) const RECIPIENT_COLUMNS: &str = "r.id, r.name, r.comment, r.properties, r.created_at";

impl Catalog {
    pub async fn create_recipient(&self, name: &str, comment: Option<&str>, properties: BTreeMap<String, String>) -> Result<Recipient> {
        names::validate(NameKind::Recipient, name)?;
        let recipient = Recipient { id: new_id(), name: name.into(), comment: comment.map(Into::into), properties, created_at: now_ms() };
        let props = serde_json::to_string(&recipient.properties).map_err(|e| PortalError::Internal(e.to_string()))?;
        sqlx::query("INSERT INTO recipients (id, name, name_key, comment, properties, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&recipient.id)
            .bind(&recipient.name)
            .bind(names::key(name))
            .bind(&recipient.comment)
            .bind(props)
            .bind(recipient.created_at)
            .execute(&self.pool)
            .await
            .map_err(|e| conflict_or(e, || format!("recipient `{name}` already exists")))?;
        Ok(recipient)
    }

    pub async fn recipient(&self, name: &str) -> Result<Recipient> {
        let sql = format!("SELECT {RECIPIENT_COLUMNS} FROM recipients r WHERE r.name_key = $1");
        sqlx::query(&sql)
            .bind(names::key(name))
            .fetch_optional(&self.pool)
            .await?
            .map(|r| recipient_from_row(&r))
            .transpose()?
            .ok_or_else(|| PortalError::NotFound(format!("recipient `{name}` does not exist")))
    }
}

pub(super) fn recipient_from_row(r: &AnyRow) -> Result<Recipient> {
    let props: String = r.try_get("properties")?;
    Ok(Recipient {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        comment: r.try_get("comment")?,
        properties: serde_json::from_str(&props).map_err(|e| PortalError::Internal(format!("recipient properties: {e}")))?,
        created_at: r.try_get("created_at")?,
    })
}
