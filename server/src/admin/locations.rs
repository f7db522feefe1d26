//! External locations, as Unity Catalog has them: platform admins name URL prefixes (local
//! directories, object-store prefixes) and grant them to teams; a team admin may point a table
//! only at a place under a location of its team. [`table_location`] is that check,
//! and it answers the same refusal whatever exists at the place, so a team admin never learns
//! what is on the server's disk or in its buckets.

use app::contract::{LocationView, OutsideTable};
use serde::Deserialize;

use super::recipients::{team_name, team_names};
use super::{record, text, Admin, Change};
use crate::catalog::{Location, SharedTable};
use crate::error::{PortalError, Result};
use crate::primitives::time::rfc3339_ms;
use crate::storage::location::Place;
use crate::Services;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewLocation {
    pub name: String,
    pub url: String,
    pub comment: Option<String>,
}

/// Locations the admin may use: all for platform admins, else those granted to the team.
pub async fn list(s: &Services, admin: &Admin) -> Result<Vec<LocationView>> {
    let locations = s.catalog.locations(admin.team_filter()).await?;
    let tables = visible_tables(s, admin).await?;
    let teams = team_names(s).await?;
    Ok(locations.iter().map(|l| view(admin, l, &teams, &tables)).collect())
}

/// One location; a team admin's view of a location not granted to the team is "missing".
pub async fn detail(s: &Services, admin: &Admin, name: &str) -> Result<LocationView> {
    let location = location_for(s, admin, name).await?;
    let tables = visible_tables(s, admin).await?;
    Ok(view(admin, &location, &team_names(s).await?, &tables))
}

pub async fn create(s: &Services, admin: &Admin, new: NewLocation) -> Result<LocationView> {
    admin.require_platform()?;
    let name = new.name.trim();
    let mut change = Change::new("createLocation", name);
    let result = async {
        let place = root_place(&new.url)?;
        let url = place.to_text();
        let clash = |other: &crate::catalog::Location| {
            Place::parse(&other.url).is_ok_and(|p| p.overlaps(&place)).then(|| {
                PortalError::Conflict(format!(
                    "`{url}` overlaps location `{}` ({}); locations may not contain one another, so grant that one instead",
                    other.name, other.url
                ))
            })
        };
        let location = s
            .catalog
            .create_location(name, &url, text(new.comment.as_deref()).as_deref(), &admin.actor, clash)
            .await
            .map_err(|e| super::name_field(e, "name"))?;
        Ok(view(admin, &location, &[], &s.catalog.all_tables().await?))
    }
    .await;
    change.after = result.as_ref().ok().and_then(|l| serde_json::to_value(l).ok());
    record(s, admin, change, status_of(&result)).await;
    result
}

/// Grants (or revokes) a location to a team.
pub async fn set_grant(s: &Services, admin: &Admin, name: &str, team: &str, granted: bool) -> Result<LocationView> {
    admin.require_platform()?;
    let location = s.catalog.location(name).await?;
    let team =
        s.catalog.team(team.trim()).await.map_err(|e| if e.status() == 404 { PortalError::field("team", e.to_string()) } else { e })?;
    let changed = s.catalog.set_location_grant(&location.id, &team.id, granted).await?;
    let mut change = Change::new(if granted { "grantLocation" } else { "revokeLocation" }, format!("{} → {}", location.name, team.name));
    change.team_id = Some(team.id.clone());
    change.before = Some(serde_json::json!({ "granted": granted != changed }));
    change.after = Some(serde_json::json!({ "granted": granted }));
    record(s, admin, change, 200).await;
    detail(s, admin, &location.name).await
}

/// Deletes a location and its grants; tables under it stay shared (and are then flagged as
/// outside every location).
pub async fn delete(s: &Services, admin: &Admin, name: &str) -> Result<()> {
    admin.require_platform()?;
    let location = s.catalog.location(name).await?;
    let before = detail(s, admin, name).await?;
    s.catalog.delete_location(&location.id).await?;
    let mut change = Change::new("deleteLocation", location.name.clone());
    change.before = serde_json::to_value(before).ok();
    record(s, admin, change, 200).await;
    Ok(())
}

/// Platform admins only: shared tables under no location, to be brought under one.
pub async fn outside(s: &Services, admin: &Admin) -> Result<Vec<OutsideTable>> {
    if !admin.is_platform() {
        return Ok(Vec::new());
    }
    let locations = s.catalog.locations(None).await?;
    let teams = team_names(s).await?;
    let shares = s.catalog.shares_in(None).await?;
    Ok(s.catalog
        .all_tables()
        .await?
        .into_iter()
        .filter(|t| containing(&locations, &t.location).is_none())
        .map(|t| OutsideTable {
            team: shares.iter().find(|sh| sh.id == t.share_id).map_or("", |sh| team_name(&teams, &sh.team_id)).to_string(),
            share: t.share_name.clone(),
            table: format!("{}.{}", t.schema_name, t.name),
            location: t.location,
        })
        .collect())
}

/// The one check on where a table may point; answers the place as it is then opened and
/// stored (dot segments resolved by their text, so the disk cannot resolve them elsewhere).
/// Platform admins (and the CLI, which acts as one) may use any place the server can read. A
/// team admin may use only a place under a location granted to the team, by its text and, for
/// local paths, with symbolic links followed; every other place gets the same refusal, decided
/// before anything there is opened.
pub async fn table_location(s: &Services, admin: &Admin, typed: &str) -> Result<String> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(PortalError::field("location", "give the table's location (a path or an s3://, az:// or gs:// URL)"));
    }
    let place = Place::parse(typed).map_err(|e| PortalError::field("location", e.to_string()))?;
    let Some(team) = &admin.team else {
        return Ok(place.to_text());
    };
    let granted: Vec<Place> = s.catalog.locations(Some(&team.id)).await?.iter().filter_map(|l| Place::parse(&l.url).ok()).collect();
    let inside = |p: &Place| granted.iter().any(|root| root.contains(p));
    if inside(&place) && inside(&place.resolved()) {
        Ok(place.to_text())
    } else {
        Err(PortalError::field(
            "location",
            format!(
                "no location of team {} contains `{typed}`; ask a platform administrator to grant your team a location that does",
                team.name
            ),
        ))
    }
}

/// The name of the location a stored table location lies under.
pub fn containing<'a>(locations: &'a [Location], table_location: &str) -> Option<&'a str> {
    let place = Place::parse(table_location).ok()?;
    locations.iter().find(|l| Place::parse(&l.url).is_ok_and(|root| root.contains(&place))).map(|l| l.name.as_str())
}

/// What a new location's URL may be: a directory that exists (stored canonical, so symbolic
/// links cannot lead out of it later), or an object-store prefix.
fn root_place(url: &str) -> Result<Place> {
    let place = Place::parse(url).map_err(|e| PortalError::field("url", e.to_string()))?;
    match &place {
        Place::Local(path) => {
            let canonical =
                path.canonicalize().map_err(|_| PortalError::field("url", format!("`{}`: the directory does not exist", url.trim())))?;
            if !canonical.is_dir() {
                return Err(PortalError::field("url", format!("`{}` is not a directory", url.trim())));
            }
            Ok(Place::Local(canonical))
        }
        Place::Store { .. } => Ok(place),
    }
}

/// A location granted to the admin's team (any, for platform admins); else "missing".
async fn location_for(s: &Services, admin: &Admin, name: &str) -> Result<Location> {
    let location = s.catalog.location(name).await?;
    if admin.team.as_ref().is_none_or(|t| location.team_ids.contains(&t.id)) {
        Ok(location)
    } else {
        Err(PortalError::NotFound(format!("location `{name}` does not exist")))
    }
}

/// Tables of the shares the admin governs.
async fn visible_tables(s: &Services, admin: &Admin) -> Result<Vec<SharedTable>> {
    let shares: Vec<String> = s.catalog.shares_in(admin.team_filter()).await?.into_iter().map(|sh| sh.id).collect();
    Ok(s.catalog.all_tables().await?.into_iter().filter(|t| shares.contains(&t.share_id)).collect())
}

/// A location as the admin may see it: a team admin sees only its own team among the grants.
fn view(admin: &Admin, l: &Location, teams: &[(String, String)], tables: &[SharedTable]) -> LocationView {
    let root = Place::parse(&l.url).ok();
    let mut granted: Vec<String> = l.team_ids.iter().filter(|id| admin.governs(id)).map(|id| team_name(teams, id).to_string()).collect();
    granted.sort();
    let under = tables.iter().filter(|t| root.as_ref().is_some_and(|r| Place::parse(&t.location).is_ok_and(|p| r.contains(&p)))).count();
    LocationView {
        name: l.name.clone(),
        url: l.url.clone(),
        comment: l.comment.clone(),
        teams: granted,
        created_by: l.created_by.clone(),
        created_at: rfc3339_ms(l.created_at),
        tables: u32::try_from(under).unwrap_or(u32::MAX),
    }
}

fn status_of<T>(result: &Result<T>) -> u16 {
    result.as_ref().map_or_else(|e| e.status().as_u16(), |_| 200)
}
