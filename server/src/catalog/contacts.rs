//! A recipient's contacts: the e-mail addresses the portal notifies, each with the kinds of
//! notification it declined.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{conflict_or, new_id, now_ms, Catalog};
use crate::error::{PortalError, Result};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Contact {
    pub id: String,
    pub recipient_id: String,
    pub email: String,
    pub name: Option<String>,
    /// Notification kinds this contact declined (`notify::Kind` names).
    pub opted_out: Vec<String>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, recipient_id, email, name, opted_out, created_at";

impl Catalog {
    /// `email` is checked by the caller; the same address twice on one recipient is a 409.
    pub async fn add_contact(&self, recipient_id: &str, email: &str, name: Option<&str>) -> Result<Contact> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO contacts (id, recipient_id, email, email_key, name, opted_out, created_at) VALUES ($1, $2, $3, $4, $5, '[]', $6)",
        )
        .bind(&id)
        .bind(recipient_id)
        .bind(email)
        .bind(email.to_lowercase())
        .bind(name)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or(e, || format!("{email} is already a contact of this recipient")))?;
        self.contact(&id).await?.ok_or_else(|| PortalError::Internal("a contact just added is missing".into()))
    }

    pub async fn contacts_of(&self, recipient_id: &str) -> Result<Vec<Contact>> {
        let sql = format!("SELECT {COLUMNS} FROM contacts WHERE recipient_id = $1 ORDER BY email_key");
        sqlx::query(&sql).bind(recipient_id).fetch_all(&self.pool).await?.iter().map(contact_from_row).collect()
    }

    pub async fn contact(&self, id: &str) -> Result<Option<Contact>> {
        let sql = format!("SELECT {COLUMNS} FROM contacts WHERE id = $1");
        sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?.as_ref().map(contact_from_row).transpose()
    }

    /// Whether the recipient had that contact.
    pub async fn remove_contact(&self, recipient_id: &str, id: &str) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM contacts WHERE id = $1 AND recipient_id = $2").bind(id).bind(recipient_id).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn set_contact_opt_outs(&self, id: &str, kinds: &[String]) -> Result<()> {
        let json = serde_json::to_string(kinds).map_err(|e| PortalError::fault("opt-outs as JSON", e))?;
        sqlx::query("UPDATE contacts SET opted_out = $2 WHERE id = $1").bind(id).bind(json).execute(&self.pool).await?;
        Ok(())
    }
}

fn contact_from_row(r: &AnyRow) -> Result<Contact> {
    let opted: String = r.try_get("opted_out")?;
    Ok(Contact {
        id: r.try_get("id")?,
        recipient_id: r.try_get("recipient_id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        opted_out: serde_json::from_str(&opted).map_err(|e| PortalError::fault("contact opt-outs", e))?,
        created_at: r.try_get("created_at")?,
    })
}
