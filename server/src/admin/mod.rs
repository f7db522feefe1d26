//! Governing partners: the service functions behind the admin console, the admin API and the
//! CLI. Each takes the calling [`Admin`], asks [`Admin::governs`] (the one role and team check)
//! before it reads or changes anything, and writes an audit line with before and after.
//!
//! Admin request bodies refuse unknown fields: this is the portal's own API, and a misspelt
//! `ipAllowList` must not leave a partner unrestricted in silence. (The Delta Sharing routes,
//! which third-party clients call, accept whatever extra fields those send.)

pub mod audit_log;
pub mod identity;
pub mod locations;
pub mod machine_access;
pub mod recipients;
pub mod shares;
pub mod teams;
pub mod usage;
pub mod views;

use serde_json::Value;

use crate::catalog::{now_ms, AuditEvent, Recipient, Share, Team, DEFAULT_TEAM};
use crate::error::{PortalError, Result};
use crate::Services;

/// A signed-in administrator (console session, admin API token, or the CLI).
#[derive(Clone, Debug)]
pub struct Admin {
    /// `admin:<email>`, `admin:login-link`, `admin-token:<name>`, `admin:cli`.
    pub actor: String,
    /// `None`: platform admin, every team.
    pub team: Option<Team>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Admin {
    /// The command line runs on the server with the catalog's own rights.
    pub fn cli() -> Self {
        Self { actor: "admin:cli".into(), team: None, client_ip: None, user_agent: None }
    }

    pub fn is_platform(&self) -> bool {
        self.team.is_none()
    }

    /// The team listings are limited to (`None`: all).
    pub fn team_filter(&self) -> Option<&str> {
        self.team.as_ref().map(|t| t.id.as_str())
    }

    /// The one role and team check: may this admin see and change objects of `team_id`?
    pub fn governs(&self, team_id: &str) -> bool {
        self.team.as_ref().is_none_or(|t| t.id == team_id)
    }

    /// Platform-wide actions (teams) are refused to team admins.
    pub fn require_platform(&self) -> Result<()> {
        if self.is_platform() {
            Ok(())
        } else {
            Err(PortalError::Forbidden("only platform administrators can do this".into()))
        }
    }
}

/// The share, if this admin governs it; another team's share is "missing", worded the same.
pub async fn share_for(s: &Services, admin: &Admin, name: &str) -> Result<Share> {
    let share = s.catalog.share(name).await?;
    if admin.governs(&share.team_id) {
        Ok(share)
    } else {
        Err(PortalError::NotFound(format!("share `{name}` does not exist")))
    }
}

/// The recipient, if this admin governs it; another team's recipient is "missing".
pub async fn recipient_for(s: &Services, admin: &Admin, name: &str) -> Result<Recipient> {
    let recipient = s.catalog.recipient(name).await?;
    if admin.governs(&recipient.team_id) {
        Ok(recipient)
    } else {
        Err(PortalError::NotFound(format!("recipient `{name}` does not exist")))
    }
}

/// The team a new object goes to: the one asked for (which the admin must govern), else the
/// admin's own team, else `default`.
pub async fn team_for_new(s: &Services, admin: &Admin, requested: Option<&str>) -> Result<Team> {
    match requested.map(str::trim).filter(|t| !t.is_empty()) {
        Some(name) => {
            // Another team is "missing", worded as for a team that does not exist.
            let missing = || PortalError::NotFound(format!("team `{name}` does not exist"));
            let team = s.catalog.team(name).await.map_err(|e| if e.status() == 404 { missing() } else { e })?;
            if admin.governs(&team.id) {
                Ok(team)
            } else {
                Err(missing())
            }
        }
        None => match &admin.team {
            Some(team) => Ok(team.clone()),
            None => s.catalog.team_by_id(DEFAULT_TEAM).await,
        },
    }
}

/// What an admin action changed, for the audit line.
pub struct Change<'a> {
    pub action: &'a str,
    pub object: String,
    pub team_id: Option<String>,
    pub recipient: Option<String>,
    pub share: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl<'a> Change<'a> {
    pub fn new(action: &'a str, object: impl Into<String>) -> Self {
        Self { action, object: object.into(), team_id: None, recipient: None, share: None, before: None, after: None }
    }
}

/// Writes the audit line of an admin action (`status` 200 done, or the refusal's status).
pub async fn record(s: &Services, admin: &Admin, change: Change<'_>, status: u16) {
    let detail = (change.before.is_some() || change.after.is_some())
        .then(|| serde_json::json!({ "before": change.before, "after": change.after }).to_string());
    let event = AuditEvent {
        at: now_ms(),
        actor: admin.actor.clone(),
        action: format!("admin.{}", change.action),
        object: Some(change.object),
        status: i64::from(status),
        detail,
        user_agent: admin.user_agent.clone(),
        client_ip: admin.client_ip.clone(),
        recipient: change.recipient,
        share: change.share,
        team_id: change.team_id,
        ..Default::default()
    };
    s.catalog.audit(&event).await;
}

/// Names in forms and JSON: a name the protocol refuses is a field error on `name`.
pub(crate) fn name_field(e: PortalError, field: &'static str) -> PortalError {
    match e {
        PortalError::InvalidParameter(message) => PortalError::field(field, message),
        PortalError::Conflict(message) => PortalError::Conflict(message),
        e => e,
    }
}

/// An optional text field: blank is none.
pub(crate) fn text(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(String::from)
}

#[cfg(test)]
mod tests;
