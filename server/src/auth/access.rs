//! The one authorization function: what a recipient may see, and which rows of it.
//!
//! Anything not granted answers `NotFound`, worded exactly like a missing object, so a caller
//! learns nothing about shares or tables it cannot read.

use std::collections::HashMap;

use crate::catalog::{Catalog, Page, Recipient, Share, SharedTable};
use crate::error::{PortalError, Result};

/// Which rows of a table the caller may read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowScope {
    All,
    /// Only rows whose partition `column` equals `value`; `None` (the recipient lacks the
    /// property) means no rows at all, never all rows.
    PartitionEquals {
        column: String,
        value: Option<String>,
    },
}

impl RowScope {
    /// Whether a file with these partition values may be handed out.
    pub fn allows(&self, partition_values: &HashMap<String, Option<String>>) -> bool {
        match self {
            Self::All => true,
            Self::PartitionEquals { value: None, .. } => false,
            Self::PartitionEquals { column, value: Some(want) } => {
                partition_values.get(column).and_then(|v| v.as_deref()) == Some(want.as_str())
            }
        }
    }
}

/// A table the caller may read, with the rows it may read.
#[derive(Clone, Debug)]
pub struct AuthorizedTable {
    pub table: SharedTable,
    pub scope: RowScope,
}

pub struct Access<'a> {
    catalog: &'a Catalog,
    recipient: &'a Recipient,
}

impl<'a> Access<'a> {
    pub fn new(catalog: &'a Catalog, recipient: &'a Recipient) -> Self {
        Self { catalog, recipient }
    }

    pub async fn shares(&self, after: Option<&[String]>, limit: i64) -> Result<Page<Share>> {
        self.catalog.granted_shares(&self.recipient.id, after, limit).await
    }

    pub async fn share(&self, name: &str) -> Result<Share> {
        self.catalog
            .granted_share(&self.recipient.id, name)
            .await?
            .ok_or_else(|| PortalError::NotFound(format!("share `{name}` does not exist")))
    }

    pub async fn schemas(&self, share: &str, after: Option<&[String]>, limit: i64) -> Result<(Share, Page<String>)> {
        let share = self.share(share).await?;
        let page = self.catalog.schemas_of(&share.id, after, limit).await?;
        Ok((share, page))
    }

    /// Tables of a granted share, of one schema (which must exist) or of all schemas.
    pub async fn tables(&self, share: &str, schema: Option<&str>, after: Option<&[String]>, limit: i64) -> Result<Page<SharedTable>> {
        let share = self.share(share).await?;
        if let Some(schema) = schema {
            if !self.catalog.has_schema(&share.id, schema).await? {
                return Err(PortalError::NotFound(format!("schema `{}.{schema}` does not exist", share.name)));
            }
        }
        self.catalog.tables_of(&share.id, schema, after, limit).await
    }

    pub async fn table(&self, share: &str, schema: &str, table: &str) -> Result<AuthorizedTable> {
        let table = self
            .catalog
            .granted_table(&self.recipient.id, share, schema, table)
            .await?
            .ok_or_else(|| PortalError::NotFound(format!("table `{share}.{schema}.{table}` does not exist")))?;
        let scope = match &table.scope {
            None => RowScope::All,
            Some(s) => RowScope::PartitionEquals { column: s.column.clone(), value: self.recipient.properties.get(&s.property).cloned() },
        };
        Ok(AuthorizedTable { table, scope })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{shares::NewTable, test_catalog, Scope};
    use std::collections::BTreeMap;

    fn pv(v: &str) -> HashMap<String, Option<String>> {
        HashMap::from([("partner_id".to_string(), Some(v.to_string()))])
    }

    #[test]
    fn scope_without_property_allows_nothing() {
        let none = RowScope::PartitionEquals { column: "partner_id".into(), value: None };
        assert!(!none.allows(&pv("P1")));
        let p1 = RowScope::PartitionEquals { column: "partner_id".into(), value: Some("P1".into()) };
        assert!(p1.allows(&pv("P1")));
        assert!(!p1.allows(&pv("P2")));
        assert!(!p1.allows(&HashMap::new()));
        assert!(RowScope::All.allows(&HashMap::new()));
    }

    #[tokio::test]
    async fn only_granted_objects_exist_for_a_recipient() {
        let (cat, _dir) = test_catalog().await;
        cat.create_share("Retail", None).await.unwrap();
        cat.create_share("secret", None).await.unwrap();
        for share in ["Retail", "secret"] {
            cat.add_table(NewTable {
                share,
                schema: "s",
                name: "sales",
                location: "/nowhere",
                comment: None,
                history_shared: false,
                scope: Some(Scope { column: "partner_id".into(), property: "partner_id".into() }),
            })
            .await
            .unwrap();
        }
        let alice = cat.create_recipient("alice", None, BTreeMap::from([("partner_id".into(), "P1".into())])).await.unwrap();
        cat.grant("retail", "ALICE").await.unwrap();
        let access = Access::new(&cat, &alice);

        let shares = access.shares(None, 10).await.unwrap();
        assert_eq!(shares.items.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["Retail"]);
        let t = access.table("RETAIL", "S", "Sales").await.unwrap();
        assert_eq!(t.scope, RowScope::PartitionEquals { column: "partner_id".into(), value: Some("P1".into()) });

        let hidden = access.table("secret", "s", "sales").await.unwrap_err();
        let missing = access.table("nothing", "s", "sales").await.unwrap_err();
        assert_eq!(hidden.status(), missing.status());
        assert_eq!(hidden.status(), axum::http::StatusCode::NOT_FOUND);
        assert!(access.tables("secret", None, None, 10).await.is_err());
        assert!(access.tables("retail", Some("nope"), None, 10).await.is_err());

        cat.revoke("retail", "alice").await.unwrap();
        assert!(access.table("retail", "s", "sales").await.is_err());
    }

    #[tokio::test]
    async fn listings_page_by_key() {
        let (cat, _dir) = test_catalog().await;
        let r = cat.create_recipient("r", None, BTreeMap::new()).await.unwrap();
        for name in ["c", "A", "b"] {
            cat.create_share(name, None).await.unwrap();
            cat.grant(name, "r").await.unwrap();
        }
        let access = Access::new(&cat, &r);
        let first = access.shares(None, 2).await.unwrap();
        assert_eq!(first.items.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["A", "b"]);
        let second = access.shares(first.next.as_deref(), 2).await.unwrap();
        assert_eq!(second.items.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["c"]);
        assert_eq!(second.next, None);
        let zero = access.shares(None, 0).await.unwrap();
        assert!(zero.items.is_empty() && zero.next.is_some());
    }
}
