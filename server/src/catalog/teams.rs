//! Provider teams: every share and recipient belongs to one.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::names::{self, NameKind};
use super::{conflict_or, new_id, now_ms, Catalog, Team};
use crate::error::{PortalError, Result};

impl Catalog {
    pub async fn create_team(&self, name: &str) -> Result<Team> {
        names::validate(NameKind::Team, name)?;
        let team = Team { id: new_id(), name: name.into(), created_at: now_ms() };
        sqlx::query("INSERT INTO teams (id, name, name_key, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&team.id)
            .bind(&team.name)
            .bind(names::key(name))
            .bind(team.created_at)
            .execute(&self.pool)
            .await
            .map_err(|e| conflict_or(e, || format!("team `{name}` already exists")))?;
        Ok(team)
    }

    pub async fn team(&self, name: &str) -> Result<Team> {
        sqlx::query("SELECT id, name, created_at FROM teams WHERE name_key = $1")
            .bind(names::key(name))
            .fetch_optional(&self.pool)
            .await?
            .map(|r| team_from_row(&r))
            .transpose()?
            .ok_or_else(|| PortalError::NotFound(format!("team `{name}` does not exist")))
    }

    pub async fn team_by_id(&self, id: &str) -> Result<Team> {
        sqlx::query("SELECT id, name, created_at FROM teams WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| team_from_row(&r))
            .transpose()?
            .ok_or_else(|| PortalError::NotFound(format!("team {id} does not exist")))
    }

    pub async fn teams(&self) -> Result<Vec<Team>> {
        let rows = sqlx::query("SELECT id, name, created_at FROM teams ORDER BY name_key").fetch_all(&self.pool).await?;
        rows.iter().map(team_from_row).collect()
    }
}

fn team_from_row(r: &AnyRow) -> Result<Team> {
    Ok(Team { id: r.try_get("id")?, name: r.try_get("name")?, created_at: r.try_get("created_at")? })
}
