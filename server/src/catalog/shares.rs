//! Shares and their tables. Reads for a recipient always join `grants`: what is not granted
//! does not exist for that caller.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::names::{self, NameKind};
use super::{conflict_or, new_id, now_ms, Catalog, Page, Scope, Share, SharedTable, DEFAULT_TEAM};
use crate::error::{PortalError, Result};

const TABLE_COLUMNS: &str = "t.id, t.share_id, s.name AS share_name, t.schema_name, t.name, t.location, t.comment, \
     t.history_shared, t.scope_column, t.scope_property, t.created_at, t.key_columns";

/// What recipients read about a share besides its name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShareDescription {
    pub comment: Option<String>,
    pub display_name: Option<String>,
    pub properties: std::collections::BTreeMap<String, String>,
}

/// A table to add to a share (validated by the caller against the Delta log).
pub struct NewTable<'a> {
    pub share: &'a str,
    pub schema: &'a str,
    pub name: &'a str,
    pub location: &'a str,
    pub comment: Option<&'a str>,
    pub history_shared: bool,
    pub scope: Option<Scope>,
}

impl Catalog {
    pub async fn create_share(&self, name: &str, comment: Option<&str>) -> Result<Share> {
        self.create_share_in(name, comment, DEFAULT_TEAM).await
    }

    pub async fn create_share_in(&self, name: &str, comment: Option<&str>, team_id: &str) -> Result<Share> {
        names::validate(NameKind::Share, name)?;
        let share = Share {
            id: new_id(),
            name: name.into(),
            comment: comment.map(Into::into),
            created_at: now_ms(),
            team_id: team_id.into(),
            ..Default::default()
        };
        sqlx::query("INSERT INTO shares (id, name, name_key, comment, created_at, team_id) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&share.id)
            .bind(&share.name)
            .bind(names::key(name))
            .bind(&share.comment)
            .bind(share.created_at)
            .bind(&share.team_id)
            .execute(&self.pool)
            .await
            .map_err(|e| conflict_or(e, || format!("share `{name}` already exists")))?;
        Ok(share)
    }

    /// Admin lookup, no grant check.
    pub async fn share(&self, name: &str) -> Result<Share> {
        sqlx::query("SELECT id, name, comment, display_name, properties, created_at, team_id FROM shares WHERE name_key = $1")
            .bind(names::key(name))
            .fetch_optional(&self.pool)
            .await?
            .map(|r| share_from_row(&r))
            .transpose()?
            .ok_or_else(|| PortalError::NotFound(format!("share `{name}` does not exist")))
    }

    pub async fn add_table(&self, t: NewTable<'_>) -> Result<SharedTable> {
        names::validate(NameKind::Schema, t.schema)?;
        names::validate(NameKind::Table, t.name)?;
        let share = self.share(t.share).await?;
        let id = new_id();
        let (scope_column, scope_property) = t.scope.as_ref().map(|s| (s.column.clone(), s.property.clone())).unzip();
        sqlx::query(
            "INSERT INTO shared_tables (id, share_id, schema_name, schema_key, name, name_key, location, comment, \
             history_shared, scope_column, scope_property, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&id)
        .bind(&share.id)
        .bind(t.schema)
        .bind(names::key(t.schema))
        .bind(t.name)
        .bind(names::key(t.name))
        .bind(t.location)
        .bind(t.comment)
        .bind(t.history_shared as i64)
        .bind(scope_column)
        .bind(scope_property)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or(e, || format!("table `{}.{}.{}` already exists", share.name, t.schema, t.name)))?;
        self.table_by_id(&id).await
    }

    /// Shares of one team (or of all teams), in name order.
    pub async fn shares_in(&self, team_id: Option<&str>) -> Result<Vec<Share>> {
        let rows =
            sqlx::query("SELECT id, name, comment, display_name, properties, created_at, team_id FROM shares WHERE ($1 = '' OR team_id = $1) ORDER BY name_key")
                .bind(team_id.unwrap_or_default())
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(share_from_row).collect()
    }

    /// Sets what recipients read about a share besides its name: comment, display name, properties.
    pub async fn describe_share(&self, id: &str, description: &ShareDescription) -> Result<()> {
        let properties = serde_json::to_string(&description.properties).map_err(|e| PortalError::fault("share properties", e))?;
        sqlx::query("UPDATE shares SET comment = $2, display_name = $3, properties = $4 WHERE id = $1")
            .bind(id)
            .bind(&description.comment)
            .bind(&description.display_name)
            .bind(properties)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes the share with its tables and grants.
    pub async fn delete_share(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM shares WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Every table of a share, in (schema, name) order.
    pub async fn all_tables_of(&self, share_id: &str) -> Result<Vec<SharedTable>> {
        let sql =
            format!("SELECT {TABLE_COLUMNS} FROM shared_tables t JOIN shares s ON s.id = t.share_id WHERE t.share_id = $1 ORDER BY t.schema_key, t.name_key");
        let rows = sqlx::query(&sql).bind(share_id).fetch_all(&self.pool).await?;
        rows.iter().map(table_from_row).collect()
    }

    /// Every table of every share, in (share, schema, name) order: for the platform's view of
    /// which tables lie outside every location.
    pub async fn all_tables(&self) -> Result<Vec<SharedTable>> {
        let sql = format!(
            "SELECT {TABLE_COLUMNS} FROM shared_tables t JOIN shares s ON s.id = t.share_id ORDER BY s.name_key, t.schema_key, t.name_key"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(table_from_row).collect()
    }

    /// Changes a table's name (its alias for recipients), location, comment, history, scope and
    /// key columns.
    pub async fn update_table(&self, t: &SharedTable) -> Result<SharedTable> {
        names::validate(NameKind::Table, &t.name)?;
        let (scope_column, scope_property) = t.scope.as_ref().map(|s| (s.column.clone(), s.property.clone())).unzip();
        sqlx::query(
            "UPDATE shared_tables SET name = $2, name_key = $3, comment = $4, history_shared = $5, scope_column = $6, scope_property = $7, \
             location = $8, key_columns = $9 WHERE id = $1",
        )
        .bind(&t.id)
        .bind(&t.name)
        .bind(names::key(&t.name))
        .bind(&t.comment)
        .bind(t.history_shared as i64)
        .bind(scope_column)
        .bind(scope_property)
        .bind(&t.location)
        .bind((!t.key_columns.is_empty()).then(|| serde_json::Value::from(t.key_columns.clone()).to_string()))
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or(e, || format!("table `{}.{}.{}` already exists", t.share_name, t.schema_name, t.name)))?;
        self.table_by_id(&t.id).await
    }

    pub async fn remove_table(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM shared_tables WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    async fn table_by_id(&self, id: &str) -> Result<SharedTable> {
        let sql = format!("SELECT {TABLE_COLUMNS} FROM shared_tables t JOIN shares s ON s.id = t.share_id WHERE t.id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_one(&self.pool).await?;
        table_from_row(&row)
    }

    /// The location of a table, by id (for the signed download route, which carries no caller).
    pub async fn table_location(&self, id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT location FROM shared_tables WHERE id = $1").bind(id).fetch_optional(&self.pool).await?)
    }

    /// Shares granted to the recipient, in name order, after the keyset cursor.
    pub async fn granted_shares(&self, recipient_id: &str, after: Option<&[String]>, limit: i64) -> Result<Page<Share>> {
        let after = cursor_part(after, 0);
        let rows = sqlx::query(
            "SELECT s.id, s.name, s.comment, s.display_name, s.properties, s.created_at, s.team_id, s.name_key FROM shares s JOIN grants g ON g.share_id = s.id \
             WHERE g.recipient_id = $1 AND s.name_key > $2 ORDER BY s.name_key LIMIT $3",
        )
        .bind(recipient_id)
        .bind(after)
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        page(rows, limit, |r| Ok((share_from_row(r)?, vec![r.try_get("name_key")?])))
    }

    pub async fn granted_share(&self, recipient_id: &str, name: &str) -> Result<Option<Share>> {
        sqlx::query(
            "SELECT s.id, s.name, s.comment, s.display_name, s.properties, s.created_at, s.team_id FROM shares s JOIN grants g ON g.share_id = s.id \
             WHERE g.recipient_id = $1 AND s.name_key = $2",
        )
        .bind(recipient_id)
        .bind(names::key(name))
        .fetch_optional(&self.pool)
        .await?
        .map(|r| share_from_row(&r))
        .transpose()
    }

    /// Schema names of a (granted) share; schemas exist through their tables.
    pub async fn schemas_of(&self, share_id: &str, after: Option<&[String]>, limit: i64) -> Result<Page<String>> {
        let rows = sqlx::query(
            "SELECT MIN(schema_name) AS schema_name, schema_key FROM shared_tables WHERE share_id = $1 AND schema_key > $2 \
             GROUP BY schema_key ORDER BY schema_key LIMIT $3",
        )
        .bind(share_id)
        .bind(cursor_part(after, 0))
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        page(rows, limit, |r| Ok((r.try_get("schema_name")?, vec![r.try_get("schema_key")?])))
    }

    /// Tables of a (granted) share, optionally of one schema, in (schema, name) order.
    pub async fn tables_of(&self, share_id: &str, schema: Option<&str>, after: Option<&[String]>, limit: i64) -> Result<Page<SharedTable>> {
        let sql = format!(
            "SELECT {TABLE_COLUMNS}, t.schema_key, t.name_key FROM shared_tables t JOIN shares s ON s.id = t.share_id \
             WHERE t.share_id = $1 AND ($2 = '' OR t.schema_key = $2) \
             AND (t.schema_key > $3 OR (t.schema_key = $3 AND t.name_key > $4)) \
             ORDER BY t.schema_key, t.name_key LIMIT $5"
        );
        let rows = sqlx::query(&sql)
            .bind(share_id)
            .bind(schema.map(names::key).unwrap_or_default())
            .bind(cursor_part(after, 0))
            .bind(cursor_part(after, 1))
            .bind(limit + 1)
            .fetch_all(&self.pool)
            .await?;
        page(rows, limit, |r| Ok((table_from_row(r)?, vec![r.try_get("schema_key")?, r.try_get("name_key")?])))
    }

    /// True when the share has a schema of that name.
    pub async fn has_schema(&self, share_id: &str, schema: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shared_tables WHERE share_id = $1 AND schema_key = $2")
            .bind(share_id)
            .bind(names::key(schema))
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    /// The table if it exists in a share granted to the recipient.
    pub async fn granted_table(&self, recipient_id: &str, share: &str, schema: &str, table: &str) -> Result<Option<SharedTable>> {
        let sql = format!(
            "SELECT {TABLE_COLUMNS} FROM shared_tables t JOIN shares s ON s.id = t.share_id \
             JOIN grants g ON g.share_id = s.id \
             WHERE g.recipient_id = $1 AND s.name_key = $2 AND t.schema_key = $3 AND t.name_key = $4"
        );
        sqlx::query(&sql)
            .bind(recipient_id)
            .bind(names::key(share))
            .bind(names::key(schema))
            .bind(names::key(table))
            .fetch_optional(&self.pool)
            .await?
            .map(|r| table_from_row(&r))
            .transpose()
    }
}

fn cursor_part(after: Option<&[String]>, i: usize) -> String {
    after.and_then(|a| a.get(i)).cloned().unwrap_or_default()
}

/// Builds a page from `limit + 1` rows: the extra row only says that more follow.
fn page<T>(rows: Vec<AnyRow>, limit: i64, map: impl Fn(&AnyRow) -> Result<(T, Vec<String>)>) -> Result<Page<T>> {
    let more = rows.len() as i64 > limit;
    let mut items = Vec::with_capacity(rows.len());
    let mut last_key = None;
    for row in rows.iter().take(limit.max(0) as usize) {
        let (item, key) = map(row)?;
        items.push(item);
        last_key = Some(key);
    }
    Ok(Page { items, next: if more { last_key.or(Some(vec![])) } else { None } })
}

fn share_from_row(r: &AnyRow) -> Result<Share> {
    Ok(Share {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        comment: r.try_get("comment")?,
        display_name: r.try_get("display_name")?,
        properties: serde_json::from_str(&r.try_get::<String, _>("properties")?).map_err(|e| PortalError::fault("share properties", e))?,
        created_at: r.try_get("created_at")?,
        team_id: r.try_get("team_id")?,
    })
}

fn table_from_row(r: &AnyRow) -> Result<SharedTable> {
    let column: Option<String> = r.try_get("scope_column")?;
    let property: Option<String> = r.try_get("scope_property")?;
    Ok(SharedTable {
        id: r.try_get("id")?,
        share_id: r.try_get("share_id")?,
        share_name: r.try_get("share_name")?,
        schema_name: r.try_get("schema_name")?,
        name: r.try_get("name")?,
        location: r.try_get("location")?,
        comment: r.try_get("comment")?,
        history_shared: r.try_get::<i64, _>("history_shared")? != 0,
        scope: column.zip(property).map(|(column, property)| Scope { column, property }),
        created_at: r.try_get("created_at")?,
        key_columns: match r.try_get::<Option<String>, _>("key_columns")? {
            Some(json) => serde_json::from_str(&json).map_err(|e| PortalError::fault("table key columns", e))?,
            None => Vec::new(),
        },
    })
}
