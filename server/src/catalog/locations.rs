//! External locations and the teams they are granted to.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::names::{self, NameKind};
use super::{conflict_or, new_id, now_ms, Catalog, Location};
use crate::error::{PortalError, Result};

const COLUMNS: &str = "l.id, l.name, l.url, l.comment, l.created_by, l.created_at";

impl Catalog {
    /// A new location; `url` must already be normalised. `clash` says why an existing location
    /// rules the new one out (an overlap); it is asked under a lock, so two admins adding
    /// overlapping locations at once cannot both succeed.
    pub async fn create_location(
        &self,
        name: &str,
        url: &str,
        comment: Option<&str>,
        created_by: &str,
        clash: impl Fn(&Location) -> Option<crate::error::PortalError>,
    ) -> Result<Location> {
        names::validate(NameKind::Location, name)?;
        let location = Location {
            id: new_id(),
            name: name.into(),
            url: url.into(),
            comment: comment.map(Into::into),
            created_by: created_by.into(),
            created_at: now_ms(),
            team_ids: Vec::new(),
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE chores SET until = until WHERE name = 'locations'").execute(&mut *tx).await?;
        let sql = format!("SELECT {COLUMNS} FROM locations l");
        for row in sqlx::query(&sql).fetch_all(&mut *tx).await? {
            if let Some(refusal) = clash(&location_from_row(&row)?) {
                return Err(refusal);
            }
        }
        sqlx::query("INSERT INTO locations (id, name, name_key, url, comment, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&location.id)
            .bind(&location.name)
            .bind(names::key(name))
            .bind(&location.url)
            .bind(&location.comment)
            .bind(&location.created_by)
            .bind(location.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, || format!("location `{name}` already exists")))?;
        tx.commit().await?;
        Ok(location)
    }

    /// Every location with the teams it is granted to, by name; `team_id` keeps only those
    /// granted to that team.
    pub async fn locations(&self, team_id: Option<&str>) -> Result<Vec<Location>> {
        let rows = match team_id {
            None => sqlx::query(&format!("SELECT {COLUMNS} FROM locations l ORDER BY l.name_key")).fetch_all(&self.pool).await?,
            Some(team) => {
                sqlx::query(&format!(
                "SELECT {COLUMNS} FROM locations l JOIN location_grants g ON g.location_id = l.id WHERE g.team_id = $1 ORDER BY l.name_key"
            ))
                .bind(team)
                .fetch_all(&self.pool)
                .await?
            }
        };
        let grants = sqlx::query("SELECT location_id, team_id FROM location_grants ORDER BY team_id").fetch_all(&self.pool).await?;
        let mut locations = rows.iter().map(location_from_row).collect::<Result<Vec<_>>>()?;
        for g in &grants {
            let (location_id, team_id): (String, String) = (g.try_get("location_id")?, g.try_get("team_id")?);
            if let Some(l) = locations.iter_mut().find(|l| l.id == location_id) {
                l.team_ids.push(team_id);
            }
        }
        Ok(locations)
    }

    pub async fn location(&self, name: &str) -> Result<Location> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM locations l WHERE l.name_key = $1"))
            .bind(names::key(name))
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| PortalError::NotFound(format!("location `{name}` does not exist")))?;
        let mut location = location_from_row(&row)?;
        let grants = sqlx::query("SELECT team_id FROM location_grants WHERE location_id = $1 ORDER BY team_id")
            .bind(&location.id)
            .fetch_all(&self.pool)
            .await?;
        location.team_ids = grants.iter().map(|g| g.try_get("team_id")).collect::<Result<_, _>>()?;
        Ok(location)
    }

    /// Grants (or, with `granted` false, revokes) a location to a team; true when that changed anything.
    pub async fn set_location_grant(&self, location_id: &str, team_id: &str, granted: bool) -> Result<bool> {
        let done = if granted {
            sqlx::query("INSERT INTO location_grants (location_id, team_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(location_id)
                .bind(team_id)
                .bind(now_ms())
                .execute(&self.pool)
                .await?
        } else {
            sqlx::query("DELETE FROM location_grants WHERE location_id = $1 AND team_id = $2")
                .bind(location_id)
                .bind(team_id)
                .execute(&self.pool)
                .await?
        };
        Ok(done.rows_affected() > 0)
    }

    pub async fn delete_location(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM locations WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(())
    }
}

fn location_from_row(r: &AnyRow) -> Result<Location> {
    Ok(Location {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        url: r.try_get("url")?,
        comment: r.try_get("comment")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        team_ids: Vec::new(),
    })
}
