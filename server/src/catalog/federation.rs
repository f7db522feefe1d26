//! Federation policies: which JWTs of a partner's own identity provider act as a recipient.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::recipients::{recipient_columns, recipient_from_row};
use super::{now_ms, Catalog, Recipient};
use crate::error::{PortalError, Result};

/// A JWT acts as the policy's recipient when it comes from `issuer`, names one of `audiences`,
/// and its `subject_claim` holds one of `subject_values`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FederationPolicy {
    pub id: String,
    pub recipient_id: String,
    pub name: String,
    pub issuer: String,
    pub audiences: Vec<String>,
    /// `sub`, `azp`, `client_id`, `groups`…
    pub subject_claim: String,
    pub subject_values: Vec<String>,
    /// The scope the partner's pipeline asks its provider for (Entra ID: `api://…/.default`).
    pub scope: Option<String>,
    pub created_at: i64,
}

const POLICY_COLUMNS: &str = "p.id AS p_id, p.recipient_id AS p_recipient_id, p.name AS p_name, p.issuer AS p_issuer, \
     p.audiences AS p_audiences, p.subject_claim AS p_subject_claim, p.subject_values AS p_subject_values, p.scope AS p_scope, \
     p.created_at AS p_created_at";

impl Catalog {
    pub async fn insert_federation_policy(&self, policy: &FederationPolicy) -> Result<()> {
        sqlx::query(
            "INSERT INTO federation_policies (id, recipient_id, name, issuer, audiences, subject_claim, subject_values, scope, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&policy.id)
        .bind(&policy.recipient_id)
        .bind(&policy.name)
        .bind(&policy.issuer)
        .bind(json(&policy.audiences)?)
        .bind(&policy.subject_claim)
        .bind(json(&policy.subject_values)?)
        .bind(&policy.scope)
        .bind(policy.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The recipient's policies, oldest first.
    pub async fn federation_policies_of(&self, recipient_id: &str) -> Result<Vec<FederationPolicy>> {
        let sql = format!("SELECT {POLICY_COLUMNS} FROM federation_policies p WHERE p.recipient_id = $1 ORDER BY p.created_at, p.id");
        sqlx::query(&sql).bind(recipient_id).fetch_all(&self.pool).await?.iter().map(policy_from_row).collect()
    }

    /// Every policy naming this issuer, with its recipient.
    pub async fn federation_policies_of_issuer(&self, issuer: &str) -> Result<Vec<(FederationPolicy, Recipient)>> {
        let sql = format!(
            "SELECT {POLICY_COLUMNS}, {} FROM federation_policies p JOIN recipients r ON r.id = p.recipient_id \
             WHERE p.issuer = $1 ORDER BY p.created_at, p.id",
            recipient_columns!()
        );
        let rows = sqlx::query(&sql).bind(issuer).fetch_all(&self.pool).await?;
        rows.iter().map(|row| Ok((policy_from_row(row)?, recipient_from_row(row)?))).collect()
    }

    /// Removes one of the recipient's policies (another recipient's is `NotFound`).
    pub async fn delete_federation_policy(&self, recipient_id: &str, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM federation_policies WHERE id = $1 AND recipient_id = $2")
            .bind(id)
            .bind(recipient_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(PortalError::NotFound(format!("there is no federation policy {id}")));
        }
        Ok(())
    }
}

impl FederationPolicy {
    /// A new policy's record, not yet stored.
    pub fn new(
        recipient_id: &str,
        name: String,
        issuer: String,
        audiences: Vec<String>,
        subject_claim: String,
        subject_values: Vec<String>,
        scope: Option<String>,
    ) -> Self {
        Self {
            id: super::tokens::short_id(),
            recipient_id: recipient_id.into(),
            name,
            issuer,
            audiences,
            subject_claim,
            subject_values,
            scope,
            created_at: now_ms(),
        }
    }
}

fn json(values: &[String]) -> Result<String> {
    serde_json::to_string(values).map_err(|e| PortalError::fault("federation policy list as JSON", e))
}

fn list(row: &AnyRow, column: &str) -> Result<Vec<String>> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| PortalError::fault("federation policy list", e))
}

fn policy_from_row(r: &AnyRow) -> Result<FederationPolicy> {
    Ok(FederationPolicy {
        id: r.try_get("p_id")?,
        recipient_id: r.try_get("p_recipient_id")?,
        name: r.try_get("p_name")?,
        issuer: r.try_get("p_issuer")?,
        audiences: list(r, "p_audiences")?,
        subject_claim: r.try_get("p_subject_claim")?,
        subject_values: list(r, "p_subject_values")?,
        scope: r.try_get("p_scope")?,
        created_at: r.try_get("p_created_at")?,
    })
}
