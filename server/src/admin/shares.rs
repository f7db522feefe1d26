//! Shares as admins govern them: create, comment, delete; add, alias, scope and remove tables;
//! grant and revoke recipients.

use std::collections::BTreeMap;

use app::contract::{SchemaColumn, ShareDetail, ShareSummary, TableDetail};
use serde::Deserialize;

use super::recipients::{team_name, team_names};
use super::{locations, name_field, recipient_for, record, share_for, team_for_new, text, Admin, Change};
use crate::catalog::names::{self, NameKind};
use crate::catalog::shares::{NewTable, ShareDescription};
use crate::catalog::{Location, Scope, Share, SharedTable};
use crate::error::{PortalError, Result};
use crate::notify;
use crate::primitives::time::{now_ms, rfc3339_ms};
use crate::storage::{At, TableState};
use crate::Services;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewShare {
    pub name: String,
    pub comment: Option<String>,
    pub team: Option<String>,
    pub display_name: Option<String>,
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

/// Left-out fields stay; `""` clears the comment or display name, `{}` the properties.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SharePatch {
    pub comment: Option<String>,
    pub display_name: Option<String>,
    pub properties: Option<BTreeMap<String, String>>,
}

/// The protocol's limits on what Get Share returns (clients may cut longer values).
const DISPLAY_NAME_MAX: usize = 255;
const COMMENT_MAX: usize = 65_536;
const PROPERTIES_MAX: usize = 50;
const PROPERTY_NAME_MAX: usize = 255;
const PROPERTY_VALUE_MAX: usize = 1000;

/// A share's description, trimmed and held to the protocol's limits.
fn description(comment: Option<&str>, display_name: Option<&str>, properties: BTreeMap<String, String>) -> Result<ShareDescription> {
    let (comment, display_name) = (text(comment), text(display_name));
    if comment.as_ref().is_some_and(|c| c.chars().count() > COMMENT_MAX) {
        return Err(PortalError::field("comment", format!("a comment may have at most {COMMENT_MAX} characters")));
    }
    if display_name.as_ref().is_some_and(|d| d.chars().count() > DISPLAY_NAME_MAX) {
        return Err(PortalError::field("displayName", format!("a display name may have at most {DISPLAY_NAME_MAX} characters")));
    }
    if properties.len() > PROPERTIES_MAX {
        return Err(PortalError::field("properties", format!("a share may have at most {PROPERTIES_MAX} properties")));
    }
    let mut clean = BTreeMap::new();
    for (name, value) in properties {
        let (name, value) = (name.trim().to_string(), value.trim().to_string());
        if name.is_empty() {
            return Err(PortalError::field("properties", "a property value needs a name"));
        }
        if name.chars().count() > PROPERTY_NAME_MAX {
            return Err(PortalError::field("properties", format!("property names may have at most {PROPERTY_NAME_MAX} characters")));
        }
        if value.chars().count() > PROPERTY_VALUE_MAX {
            return Err(PortalError::field("properties", format!("property `{name}` may have at most {PROPERTY_VALUE_MAX} characters")));
        }
        clean.insert(name, value);
    }
    Ok(ShareDescription { comment, display_name, properties: clean })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTableInput {
    pub schema: String,
    pub name: String,
    pub location: String,
    pub comment: Option<String>,
    #[serde(default)]
    pub history: bool,
    /// `COLUMN=PROPERTY`; blank = every row.
    pub scope: Option<String>,
}

/// Left-out fields stay; `alias` renames the table as recipients see it; `scope: ""` removes it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TablePatch {
    pub alias: Option<String>,
    pub comment: Option<String>,
    pub history: Option<bool>,
    pub scope: Option<String>,
    /// Points the table at another Delta table (under a location of the team, for team admins).
    pub location: Option<String>,
    /// The columns that identify a row, for partners' net changes; `[]` removes them.
    pub key_columns: Option<Vec<String>>,
}

pub async fn list(s: &Services, admin: &Admin) -> Result<Vec<ShareSummary>> {
    let teams = team_names(s).await?;
    let counts = s.catalog.share_counts().await?;
    Ok(s.catalog
        .shares_in(admin.team_filter())
        .await?
        .into_iter()
        .map(|share| {
            let (tables, grants) = counts.get(&share.id).copied().unwrap_or_default();
            ShareSummary {
                tables,
                grants,
                team: team_name(&teams, &share.team_id).to_string(),
                created_at: rfc3339_ms(share.created_at),
                name: share.name,
                comment: share.comment,
                display_name: share.display_name,
            }
        })
        .collect())
}

pub async fn detail(s: &Services, admin: &Admin, name: &str) -> Result<ShareDetail> {
    let share = share_for(s, admin, name).await?;
    detail_of(s, &share).await
}

/// The detail of a share already looked up (and checked) by the caller.
pub async fn detail_of(s: &Services, share: &Share) -> Result<ShareDetail> {
    let team = s.catalog.team_by_id(&share.team_id).await?;
    let locations = s.catalog.locations(None).await?;
    let mut tables = Vec::new();
    for t in s.catalog.all_tables_of(&share.id).await? {
        tables.push(table_detail(s, &t, &locations).await);
    }
    Ok(ShareDetail {
        name: share.name.clone(),
        comment: share.comment.clone(),
        display_name: share.display_name.clone(),
        properties: share.properties.clone(),
        team: team.name,
        created_at: rfc3339_ms(share.created_at),
        tables,
        grants: s.catalog.grantees_of(&share.id).await?,
    })
}

/// A table with its schema as the Delta log has it now, and the location it lies under.
async fn table_detail(s: &Services, t: &SharedTable, locations: &[Location]) -> TableDetail {
    let columns = match TableState::open(&s.stores, &t.location, At::Latest).await.and_then(|state| state.columns()) {
        Ok(columns) => Ok(columns.into_iter().map(|c| SchemaColumn { name: c.name, type_name: c.type_name }).collect()),
        Err(e) => Err(e.to_string()),
    };
    TableDetail {
        schema: t.schema_name.clone(),
        name: t.name.clone(),
        location: t.location.clone(),
        comment: t.comment.clone(),
        history: t.history_shared,
        scope: t.scope.as_ref().map(|s| format!("{}={}", s.column, s.property)),
        key_columns: t.key_columns.clone(),
        problem: columns.as_ref().err().cloned(),
        columns: columns.unwrap_or_default(),
        external_location: locations::containing(locations, &t.location).map(String::from),
        storage: s.stores.credentials_of(&t.location),
    }
}

pub async fn create(s: &Services, admin: &Admin, new: NewShare) -> Result<ShareDetail> {
    let mut change = Change::new("createShare", new.name.trim());
    change.share = Some(new.name.trim().to_string());
    let result = async {
        let team = team_for_new(s, admin, new.team.as_deref()).await?;
        let described = description(new.comment.as_deref(), new.display_name.as_deref(), new.properties)?;
        let share =
            s.catalog.create_share_in(new.name.trim(), described.comment.as_deref(), &team.id).await.map_err(|e| name_field(e, "name"))?;
        s.catalog.describe_share(&share.id, &described).await?;
        detail_of(s, &s.catalog.share(&share.name).await?).await
    }
    .await;
    finish(s, admin, change, None, result).await
}

pub async fn update(s: &Services, admin: &Admin, name: &str, patch: SharePatch) -> Result<ShareDetail> {
    let share = share_for(s, admin, name).await?;
    let change = share_change("updateShare", &share, share.name.clone());
    let before = serde_json::json!({ "comment": share.comment, "displayName": share.display_name, "properties": share.properties });
    let result = async {
        let described = description(
            patch.comment.as_deref().or(share.comment.as_deref()),
            patch.display_name.as_deref().or(share.display_name.as_deref()),
            patch.properties.unwrap_or_else(|| share.properties.clone()),
        )?;
        s.catalog.describe_share(&share.id, &described).await?;
        detail_of(s, &s.catalog.share(&share.name).await?).await
    }
    .await;
    finish(s, admin, change, Some(before), result).await
}

pub async fn delete(s: &Services, admin: &Admin, name: &str) -> Result<()> {
    let share = share_for(s, admin, name).await?;
    let before = detail_of(s, &share).await?;
    s.catalog.delete_share(&share.id).await?;
    let mut change = share_change("deleteShare", &share, share.name.clone());
    change.before = serde_json::to_value(&before).ok();
    record(s, admin, change, 200).await;
    Ok(())
}

pub async fn add_table(s: &Services, admin: &Admin, share: &str, input: NewTableInput) -> Result<TableDetail> {
    let share = share_for(s, admin, share).await?;
    let object = format!("{}.{}.{}", share.name, input.schema.trim(), input.name.trim());
    let mut change = share_change("addTable", &share, object.clone());
    let result = async {
        names::validate(NameKind::Schema, input.schema.trim()).map_err(|e| name_field(e, "schema"))?;
        names::validate(NameKind::Table, input.name.trim()).map_err(|e| name_field(e, "name"))?;
        // Where the table may point is decided before anything there is opened.
        let location = locations::table_location(s, admin, &input.location).await?;
        let (location, scope) = validate_location(s, &location, input.scope.as_deref()).await?;
        if let Some(scope) = &scope {
            scope_fits_grantees(s, &share, scope, &object).await?;
        }
        let t = s
            .catalog
            .add_table(NewTable {
                share: &share.name,
                schema: input.schema.trim(),
                name: input.name.trim(),
                location: &location,
                comment: text(input.comment.as_deref()).as_deref(),
                history_shared: input.history,
                scope,
            })
            .await?;
        Ok(table_detail(s, &t, &s.catalog.locations(None).await?).await)
    }
    .await;
    let status = result.as_ref().map_or_else(|e: &PortalError| e.status().as_u16(), |_| 200);
    change.after = result.as_ref().ok().and_then(|t| serde_json::to_value(without_columns(t)).ok());
    record(s, admin, change, status).await;
    if let Ok(t) = &result {
        for grantee in s.catalog.grantees_of(&share.id).await.unwrap_or_default() {
            let table = format!("{}.{}.{}", share.name, t.schema, t.name);
            announce(s, &grantee, &format!("new-table:{table}:{}", now_ms()), &share.name, &[table]).await;
        }
    }
    result
}

/// Tells a recipient's contacts about tables newly shared with it; a failure is logged, never
/// the admin's problem.
async fn announce(s: &Services, recipient: &str, cause: &str, share: &str, tables: &[String]) {
    let outcome = async {
        let r = s.catalog.recipient(recipient).await?;
        let subject = if tables.len() == 1 {
            format!("New data shared with you: {}", tables[0])
        } else {
            format!("New data shared with you: {share}")
        };
        let body = format!(
            "Your data provider shared {} with {}:\n\n{}\n\nBrowse and download it at {}/, or read it with your Delta Sharing tools.",
            if tables.len() == 1 { "a table" } else { "tables" },
            r.name,
            tables.iter().map(|t| format!("  {t}")).collect::<Vec<_>>().join("\n"),
            s.settings.public_url
        );
        notify::to_contacts(s, &r, &notify::Note { kind: notify::Kind::NewTable, cause, subject: &subject, body: &body }).await
    }
    .await;
    if let Err(e) = outcome {
        tracing::warn!(recipient, error = %e, "could not queue the e-mail about newly shared tables");
    }
}

pub async fn update_table(s: &Services, admin: &Admin, share: &str, qualified: &str, patch: TablePatch) -> Result<TableDetail> {
    let (share, table) = table_for(s, admin, share, qualified).await?;
    let before = table.clone();
    let mut next = table.clone();
    if let Some(alias) = text(patch.alias.as_deref()) {
        names::validate(NameKind::Table, &alias).map_err(|e| name_field(e, "alias"))?;
        next.name = alias;
    }
    if let Some(comment) = patch.comment {
        next.comment = text(Some(&comment));
    }
    if let Some(history) = patch.history {
        next.history_shared = history;
    }
    if let Some(location) = text(patch.location.as_deref()).filter(|l| *l != table.location) {
        let location = locations::table_location(s, admin, &location).await?;
        let scope = next.scope.as_ref().map(|sc| format!("{}={}", sc.column, sc.property));
        next.location = validate_location(s, &location, scope.as_deref()).await?.0;
    }
    if let Some(scope) = patch.scope {
        next.scope = match text(Some(&scope)) {
            None => None,
            Some(scope) => validate_location(s, &next.location, Some(&scope)).await?.1,
        };
        if let Some(scope) = next.scope.as_ref().filter(|new| table.scope.as_ref() != Some(*new)) {
            scope_fits_grantees(s, &share, scope, &table.qualified_name()).await?;
        }
    }
    if let Some(keys) = patch.key_columns {
        next.key_columns = key_columns(s, &next.location, &keys).await?;
    }
    let updated = s.catalog.update_table(&next).await.map_err(|e| name_field(e, "alias"))?;
    let locations = s.catalog.locations(None).await?;
    let detail = table_detail(s, &updated, &locations).await;
    let mut change = share_change("updateTable", &share, before.qualified_name());
    change.before = serde_json::to_value(without_columns(&table_detail(s, &before, &locations).await)).ok();
    change.after = serde_json::to_value(without_columns(&detail)).ok();
    record(s, admin, change, 200).await;
    Ok(detail)
}

pub async fn remove_table(s: &Services, admin: &Admin, share: &str, qualified: &str) -> Result<()> {
    let (share, table) = table_for(s, admin, share, qualified).await?;
    s.catalog.remove_table(&table.id).await?;
    let mut change = share_change("removeTable", &share, table.qualified_name());
    change.before = serde_json::to_value(without_columns(&table_detail(s, &table, &s.catalog.locations(None).await?).await)).ok();
    record(s, admin, change, 200).await;
    Ok(())
}

/// Grants or revokes; share and recipient must both be governed by the admin and of one team.
pub async fn set_grant(s: &Services, admin: &Admin, share: &str, recipient: &str, granted: bool) -> Result<ShareDetail> {
    let share = share_for(s, admin, share).await?;
    let r = recipient_for(s, admin, recipient).await?;
    if r.team_id != share.team_id {
        return Err(PortalError::NotFound(format!("recipient `{recipient}` does not exist")));
    }
    if granted {
        // A recipient without a property a scope needs would see no rows: say so instead.
        for t in s.catalog.all_tables_of(&share.id).await? {
            if let Some(scope) = t.scope.as_ref().filter(|scope| !r.properties.contains_key(&scope.property)) {
                return Err(PortalError::field(
                    "recipient",
                    format!(
                        "`{}` has no property `{}`, which {} scopes its rows by, so it would see no rows; give it that property first",
                        r.name,
                        scope.property,
                        t.qualified_name()
                    ),
                ));
            }
        }
    }
    let changed = if granted { s.catalog.grant(&share.name, &r.name).await? } else { s.catalog.revoke(&share.name, &r.name).await? };
    if granted && changed {
        let tables: Vec<String> = s.catalog.all_tables_of(&share.id).await?.iter().map(|t| t.qualified_name()).collect();
        if !tables.is_empty() {
            announce(s, &r.name, &format!("grant:{}:{}:{}", share.id, r.id, now_ms()), &share.name, &tables).await;
        }
    }
    let mut change = share_change(if granted { "grant" } else { "revokeGrant" }, &share, format!("{} → {}", share.name, r.name));
    change.recipient = Some(r.name.clone());
    change.before = Some(serde_json::json!({ "granted": granted != changed }));
    change.after = Some(serde_json::json!({ "granted": granted }));
    record(s, admin, change, 200).await;
    detail_of(s, &share).await
}

/// What an admin previews: `schema.table` of a share the admin governs, as recipient `as_name`
/// (of the admin's teams) sees it. The preview is audited.
pub async fn preview_target(
    s: &Services,
    admin: &Admin,
    share: &str,
    table: &str,
    as_name: &str,
) -> Result<(Share, SharedTable, crate::catalog::Recipient)> {
    if as_name.trim().is_empty() {
        return Err(PortalError::field("as", "choose the recipient to preview as"));
    }
    let (share, found) = table_for(s, admin, share, table).await?;
    let recipient = recipient_for(s, admin, as_name).await?;
    let mut change = share_change("previewAsRecipient", &share, found.qualified_name());
    change.recipient = Some(recipient.name.clone());
    record(s, admin, change, 200).await;
    Ok((share, found, recipient))
}

/// A scope names a property every recipient of the share must have (without it they would see
/// no rows of the table).
async fn scope_fits_grantees(s: &Services, share: &Share, scope: &Scope, table: &str) -> Result<()> {
    for name in s.catalog.grantees_of(&share.id).await? {
        let r = s.catalog.recipient(&name).await?;
        if !r.properties.contains_key(&scope.property) {
            return Err(PortalError::field(
                "scope",
                format!(
                    "recipient `{name}` of {} has no property `{}`, so it would see no rows of {table}; give it that property first, or scope by another one",
                    share.name, scope.property
                ),
            ));
        }
    }
    Ok(())
}

/// Finds `schema.table` in a share the admin governs.
pub async fn table_for(s: &Services, admin: &Admin, share: &str, qualified: &str) -> Result<(Share, SharedTable)> {
    let share = share_for(s, admin, share).await?;
    let missing = || PortalError::NotFound(format!("table `{}.{qualified}` does not exist", share.name));
    let (schema, name) = qualified.split_once('.').ok_or_else(missing)?;
    let table = s
        .catalog
        .all_tables_of(&share.id)
        .await?
        .into_iter()
        .find(|t| names::key(&t.schema_name) == names::key(schema) && names::key(&t.name) == names::key(name))
        .ok_or_else(missing)?;
    Ok((share, table))
}

/// Checks that `location` (as `locations::table_location` answered it, or as stored) is a Delta table and `scope` (`COLUMN=PROPERTY`) names one of its
/// partition columns; returns the location as stored (local paths absolute) and the scope.
pub async fn validate_location(s: &Services, location: &str, scope: Option<&str>) -> Result<(String, Option<Scope>)> {
    let state = TableState::open(&s.stores, location, At::Latest).await.map_err(|e| match e {
        e @ (PortalError::NotATable(_) | PortalError::InvalidParameter(_)) => PortalError::field("location", e.to_string()),
        e => e,
    })?;
    let scope = match text(scope) {
        None => None,
        Some(text) => {
            let Some((column, property)) = text.split_once('=').filter(|(c, p)| !c.trim().is_empty() && !p.trim().is_empty()) else {
                return Err(PortalError::field("scope", format!("scope `{text}` is not of the form COLUMN=PROPERTY")));
            };
            let partitions = state.partition_columns()?;
            let Some(column) = partitions.iter().find(|p| p.eq_ignore_ascii_case(column.trim())).cloned() else {
                return Err(PortalError::field(
                    "scope",
                    format!(
                        "scope column `{}` is not a partition column of {location} (partition columns: {}); \
                         the protocol hands out whole files, so a scope column must be a partition column",
                        column.trim(),
                        if partitions.is_empty() { "none".to_string() } else { partitions.join(", ") }
                    ),
                ));
            };
            Some(Scope { column, property: property.trim().to_string() })
        }
    };
    Ok((crate::storage::location::stored_text(location), scope))
}

/// Key columns as an admin typed them: top-level columns of the table, each once, in the
/// schema's spelling; none of a nested type (a key is compared as a value).
async fn key_columns(s: &Services, location: &str, typed: &[String]) -> Result<Vec<String>> {
    let typed: Vec<&str> = typed.iter().map(|k| k.trim()).filter(|k| !k.is_empty()).collect();
    if typed.is_empty() {
        return Ok(Vec::new());
    }
    let columns = TableState::open(&s.stores, location, At::Latest).await?.columns()?;
    let mut keys: Vec<String> = Vec::new();
    for name in typed {
        let Some(c) = columns.iter().find(|c| c.name.eq_ignore_ascii_case(name)) else {
            let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            return Err(PortalError::field(
                "keyColumns",
                format!("there is no column `{name}` in this table (its columns: {})", names.join(", ")),
            ));
        };
        if matches!(c.type_name.as_str(), "struct" | "array" | "map" | "binary") {
            return Err(PortalError::field("keyColumns", format!("`{}` ({}) cannot be a key column", c.name, c.type_name)));
        }
        if !keys.contains(&c.name) {
            keys.push(c.name.clone());
        }
    }
    Ok(keys)
}

fn share_change<'a>(action: &'a str, share: &Share, object: String) -> Change<'a> {
    let mut change = Change::new(action, object);
    change.share = Some(share.name.clone());
    change.team_id = Some(share.team_id.clone());
    change
}

fn without_columns(t: &TableDetail) -> TableDetail {
    TableDetail { columns: Vec::new(), ..t.clone() }
}

async fn finish(
    s: &Services,
    admin: &Admin,
    mut change: Change<'_>,
    before: Option<serde_json::Value>,
    result: Result<ShareDetail>,
) -> Result<ShareDetail> {
    change.before = before;
    change.after = result.as_ref().ok().map(|d| {
        serde_json::json!({ "name": d.name, "comment": d.comment, "displayName": d.display_name, "properties": d.properties, "team": d.team })
    });
    if change.team_id.is_none() {
        change.team_id = admin.team.as_ref().map(|t| t.id.clone());
    }
    record(s, admin, change, result.as_ref().map_or_else(|e| e.status().as_u16(), |_| 200)).await;
    result
}
