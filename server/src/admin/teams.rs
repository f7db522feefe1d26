//! Provider teams and admin API tokens.

use app::contract::{ApiTokenView, TeamView};
use serde::Deserialize;

use super::recipients::{team_name, team_names};
use super::{name_field, record, team_for_new, Admin, Change};
use crate::error::{PortalError, Result};
use crate::primitives::secrets;
use crate::primitives::time::rfc3339_ms;
use crate::Services;

pub const ADMIN_TOKEN_PREFIX: &str = "dsa_";

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTeam {
    pub name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewApiToken {
    pub name: String,
    pub team: Option<String>,
}

/// A new admin API token: the only moment it exists in plain text.
#[derive(Debug, serde::Serialize)]
pub struct IssuedApiToken {
    #[serde(flatten)]
    pub view: ApiTokenView,
    pub token: String,
}

pub async fn list(s: &Services, admin: &Admin) -> Result<Vec<TeamView>> {
    admin.require_platform()?;
    Ok(s.catalog.teams().await?.into_iter().map(|t| TeamView { name: t.name, created_at: rfc3339_ms(t.created_at) }).collect())
}

pub async fn create(s: &Services, admin: &Admin, new: NewTeam) -> Result<TeamView> {
    admin.require_platform()?;
    let result = s.catalog.create_team(new.name.trim()).await.map_err(|e| name_field(e, "name"));
    let mut change = Change::new("createTeam", new.name.trim());
    change.after = result.as_ref().ok().map(|t| serde_json::json!({ "name": t.name }));
    record(s, admin, change, result.as_ref().map_or_else(|e| e.status().as_u16(), |_| 200)).await;
    let team = result?;
    Ok(TeamView { name: team.name, created_at: rfc3339_ms(team.created_at) })
}

pub async fn tokens(s: &Services, admin: &Admin) -> Result<Vec<ApiTokenView>> {
    let teams = team_names(s).await?;
    Ok(s.catalog.admin_tokens(admin.team_filter()).await?.iter().map(|t| view(t, &teams)).collect())
}

/// A team admin's tokens are scoped to their team; a platform admin's to the team asked for,
/// or to the platform when none is.
pub async fn create_token(s: &Services, admin: &Admin, new: NewApiToken) -> Result<IssuedApiToken> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(PortalError::field("name", "name the token after what uses it (1 to 100 characters)"));
    }
    let team = match (&admin.team, new.team.as_deref().map(str::trim).filter(|t| !t.is_empty())) {
        (None, None) => None,
        (_, requested) => Some(team_for_new(s, admin, requested).await?),
    };
    let token = secrets::generate(ADMIN_TOKEN_PREFIX);
    let record_ = s.catalog.insert_admin_token(name, &secrets::hash(&token), team.as_ref().map(|t| t.id.as_str()), &admin.actor).await?;
    let mut change = Change::new("createApiToken", format!("{name} ({})", record_.id));
    change.team_id = record_.team_id.clone();
    change.after = Some(serde_json::json!({ "id": record_.id, "team": team.as_ref().map(|t| &t.name) }));
    record(s, admin, change, 200).await;
    let teams = team_names(s).await?;
    Ok(IssuedApiToken { view: view(&record_, &teams), token })
}

pub async fn revoke_token(s: &Services, admin: &Admin, id: &str) -> Result<()> {
    let found = s.catalog.admin_tokens(admin.team_filter()).await?.into_iter().find(|t| t.id == id);
    let Some(token) = found else {
        return Err(PortalError::NotFound(format!("there is no API token {id}")));
    };
    s.catalog.revoke_admin_token(&token.id).await?;
    let mut change = Change::new("revokeApiToken", format!("{} ({})", token.name, token.id));
    change.team_id = token.team_id.clone();
    record(s, admin, change, 200).await;
    Ok(())
}

fn view(t: &crate::catalog::AdminToken, teams: &[(String, String)]) -> ApiTokenView {
    ApiTokenView {
        id: t.id.clone(),
        name: t.name.clone(),
        team: t.team_id.as_deref().map(|id| team_name(teams, id).to_string()),
        created_by: t.created_by.clone(),
        created_at: rfc3339_ms(t.created_at),
        last_used_at: t.last_used_at.map(rfc3339_ms),
        status: if t.revoked_at.is_some() { "revoked" } else { "active" }.into(),
    }
}
